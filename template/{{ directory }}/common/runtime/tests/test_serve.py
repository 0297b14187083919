"""Tests of what every API's ``run.sh`` starts: uvicorn's arguments and environment.

On Lambda nothing but the address changes; locally, the log defaults, the folders ``--reload``
watches and the local gateway (with the API's auth and gateway from its ``[tool.api]``) apply.
A process started by ``python -m common_runtime.serve`` serves an app over HTTP.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from common_runtime import serve

APP = "billing.main:app"


def test_on_lambda_only_the_adapter_port_and_no_access_log(tmp_path: Path) -> None:
    environ = {"AWS_LAMBDA_FUNCTION_NAME": "billing", "AWS_LWA_PORT": "8080", "PORT": "9"}
    args, settings = serve.uvicorn_arguments(APP, [], environ, tmp_path)
    assert args == [APP, "--host", "127.0.0.1", "--port", "8080", "--no-access-log"]
    assert settings == {}


def test_locally_requests_are_logged_and_port_and_host_are_read(tmp_path: Path) -> None:
    args, settings = serve.uvicorn_arguments(
        APP, ["--workers", "1"], {"PORT": "8123", "HOST": "0.0.0.0"}, tmp_path
    )
    assert args == [APP, "--host", "0.0.0.0", "--port", "8123", "--no-access-log", "--workers", "1"]
    assert settings["POWERTOOLS_LOG_LEVEL"] == "DEBUG"
    _, chosen = serve.uvicorn_arguments(APP, [], {"POWERTOOLS_LOG_LEVEL": "WARNING"}, tmp_path)
    assert chosen["POWERTOOLS_LOG_LEVEL"] == "WARNING"


def test_a_terminal_gets_console_lines_unless_a_format_is_chosen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert serve.uvicorn_arguments(APP, [], {}, tmp_path)[1]["LOG_FORMAT"] == "console"
    assert (
        serve.uvicorn_arguments(APP, [], {"LOG_FORMAT": "json"}, tmp_path)[1]["LOG_FORMAT"]
        == "json"
    )
    monkeypatch.setattr(sys.stdout, "isatty", lambda: False)
    assert "LOG_FORMAT" not in serve.uvicorn_arguments(APP, [], {}, tmp_path)[1]


def test_reload_watches_the_api_package_and_the_runtime_only(tmp_path: Path) -> None:
    args, _ = serve.uvicorn_arguments(APP, ["--reload"], {}, tmp_path)
    watched = [args[i + 1] for i, arg in enumerate(args) if arg == "--reload-dir"]
    assert watched[0] == "billing"
    assert Path(watched[1]) == Path(serve.__file__).resolve().parents[1]
    assert len(watched) == 2


def test_the_local_gateway_gets_the_api_auth_and_gateway_from_its_settings(
    tmp_path: Path,
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "billing"\n\n[tool.api]\nauth = "Cognito"\ngateway = "HTTP"\n'
    )
    args, settings = serve.uvicorn_arguments(APP, ["--reload"], {"LOCAL_GATEWAY": "on"}, tmp_path)
    assert args[0] == "common_runtime.local_gateway:create_app"
    assert "--factory" in args and "--reload" in args
    assert settings["LOCAL_GATEWAY_APP"] == APP
    assert settings["LOCAL_GATEWAY_AUTH"] == "Cognito"
    assert settings["LOCAL_GATEWAY_API"] == "HTTP"


def test_a_missing_app_is_a_usage_error() -> None:
    with pytest.raises(SystemExit, match=r"usage: python -m common_runtime\.serve"):
        serve.main([])
    with pytest.raises(SystemExit, match="usage"):
        serve.main(["--reload"])


@pytest.mark.slow
def test_serves_an_app_over_http(tmp_path: Path) -> None:
    (tmp_path / "probe.py").write_text(
        "from fastapi import FastAPI\n\napp = FastAPI()\n\n\n"
        '@app.get("/ping")\ndef ping() -> dict[str, str]:\n    return {"pong": "yes"}\n'
    )
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "PORT": str(port), "AWS_LAMBDA_FUNCTION_NAME": "probe"}
    process = subprocess.Popen(
        [sys.executable, "-m", "common_runtime.serve", "probe:app"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/ping", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, "the server stopped"
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.05)
        assert response.json() == {"pong": "yes"}
    finally:
        process.terminate()
        process.wait(timeout=10)
