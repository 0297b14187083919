"""Fixtures of the runtime's tests: a service of its own, a client and its output."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from common_runtime import Service

Records = Callable[[], tuple[list[dict[str, Any]], list[dict[str, Any]]]]

#: The service under test, as an API's init.py builds it.
SERVICE = Service(name="runtime-test")


@pytest.fixture
def service() -> Service:
    """The service under test."""
    return SERVICE


@pytest.fixture
def client() -> Iterator[TestClient]:
    """A client calling the service's app in-process."""
    with TestClient(SERVICE.app) as test_client:
        yield test_client


@pytest.fixture
def records(capfd: pytest.CaptureFixture[str]) -> Records:
    """Read what the app wrote to stdout so far: (log records, EMF metric documents)."""

    def read() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        logs: list[dict[str, Any]] = []
        emf: list[dict[str, Any]] = []
        for line in capfd.readouterr().out.splitlines():
            if not line.startswith("{"):
                continue
            document = json.loads(line)
            (emf if "_aws" in document else logs).append(document)
        return logs, emf

    return read
