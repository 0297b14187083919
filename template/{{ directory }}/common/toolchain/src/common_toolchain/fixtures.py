"""Fixtures of every API's tests, loaded by pytest (the ``pytest11`` entry point).

``client`` calls the app of the API whose tests ask for it (the API of the nearest
``pyproject.toml`` with a ``[tool.api]`` table), with its routes; ``records`` reads what the
app wrote to stdout. A ``conftest.py`` may define its own fixtures of the same names.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from common_toolchain.settings import Api, SettingsError

#: What ``records()`` returns: (log records, EMF metric documents) written so far.
Records = Callable[[], tuple[list[dict[str, Any]], list[dict[str, Any]]]]


def api_of(path: Path) -> Api:
    """The API whose folder holds ``path``."""
    for folder in path.parents:
        if (folder / "pyproject.toml").is_file():
            try:
                return Api.at(folder)
            except SettingsError:
                continue
    raise SettingsError(f"{path} is in no API's folder.")


def app_of(api: Api) -> FastAPI:
    """The API's app, with the routes of its ``main.py``."""
    importlib.import_module(f"{api.module}.main")  # registers the routes on the app
    app: FastAPI = importlib.import_module(f"{api.module}.init").app
    return app


@pytest.fixture
def client(request: pytest.FixtureRequest) -> Iterator[TestClient]:
    """A client calling the app of the test's API in-process."""
    with TestClient(app_of(api_of(Path(str(request.path))))) as test_client:
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
