"""Fixtures of every API's tests, loaded by pytest (the ``pytest11`` entry point).

``client`` calls the app of the API whose tests ask for it (the API of the nearest
``pyproject.toml`` with a ``[tool.api]`` table), with its routes; ``records`` reads what the
app wrote to stdout; ``server`` is the API's ``run.sh`` serving it over HTTP as on Lambda, its
traces sent to ``xray_daemon``, a UDP socket in place of Lambda's X-Ray endpoint. A
``conftest.py`` may define its own fixtures of the same names.
"""

from __future__ import annotations

import importlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def xray_daemon() -> Iterator[socket.socket]:
    """A UDP socket standing in for Lambda's X-Ray endpoint (AWS_XRAY_DAEMON_ADDRESS)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(10)
        yield sock


@pytest.fixture
def server(
    request: pytest.FixtureRequest, xray_daemon: socket.socket, tmp_path: Path
) -> Iterator[str]:
    """The base URL of the test's API served by its run.sh on 127.0.0.1, configured as on
    Lambda (tracing on, to ``xray_daemon``)."""
    api = api_of(Path(str(request.path)))
    port = _free_port()
    env = {
        **os.environ,
        "AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{xray_daemon.getsockname()[1]}",
        "PORT": str(port),
        "AWS_LAMBDA_FUNCTION_NAME": f"{api.name}-test",
        "LAMBDA_TASK_ROOT": str(api.root),
        "AWS_REGION": "us-east-1",
        # run.sh starts `python`: the interpreter running these tests.
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    }
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen([str(api.root / "run.sh")], env=env, stdout=log, stderr=log)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    httpx.get(f"{url}/openapi.json", timeout=1)
                    break
                except httpx.TransportError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(log_path.read_text())
                    time.sleep(0.05)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=10)
