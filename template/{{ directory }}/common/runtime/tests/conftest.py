"""Fixtures of the runtime's tests: a service of its own and a client (``records``, what the
app wrote, is the workspace's fixture: common/toolchain)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from common_runtime import Service

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
