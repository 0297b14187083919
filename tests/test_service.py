"""The generated FastAPI service, installed and run for real: its tests, lint, types, bundle."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import urllib.request
import zipfile
from pathlib import Path

import pytest
from conftest import (
    ProjectCache,
    free_port,
    run,
    tool_env,
    wait_for_record,
    wait_until_listening,
)

SERVICE = Path("packages") / "order-service"
RUNTIME = Path("packages") / "common" / "runtime"

#: Representative combinations: the defaults, and the other architecture, Python version and
#: tracing SDK.
VARIANTS = {
    "default": {},
    "http-x86-py312": {
        "compute_type": "ServerlessApiGatewayHttpApi",
        "lambda_architecture": "x86_64",
        "python_version": "3.12",
        "iac_provider": "Terraform",
        "tracing": "xray-sdk",
    },
}

#: The code samples of the generator's documentation, as pasted into main.py (routes renamed
#: where two samples share a path or function name).
SPEC_SAMPLES = """

# --- samples of the documentation ---
from aws_lambda_powertools.metrics import MetricUnit as _MetricUnit
from fastapi import HTTPException as _HTTPException
from pydantic import BaseModel as _BaseModel

from .init import JsonStreamingResponse as _Jsr


class SampleItem(_BaseModel):
    name: str


@app.get("/sample/items/{item_id}")
@tracer.capture_method
def sample_get_item(item_id: int) -> SampleItem:
    return SampleItem(name=...)


@app.post("/sample/items")
@tracer.capture_method
def sample_create_item(item: SampleItem):
    return ...


@app.get("/sample/logged/{item_id}")
def read_item(item_id: int):
    logger.info("Fetching item", extra={"item_id": item_id})
    return {"item_id": item_id}


@app.get("/sample/traced/{item_id}")
@tracer.capture_method
def read_item_traced(item_id: int):
    # Creates a new subsegment
    with tracer.provider.in_subsegment("fetch-item-details"):
        # Your logic here
        return {"item_id": item_id}


@app.get("/sample/metered/{item_id}")
def read_item_metered(item_id: int):
    metrics.add_metric(name="ItemViewed", unit=_MetricUnit.Count, value=1)
    return {"item_id": item_id}


@app.get("/sample/checked/{item_id}")
def read_item_checked(item_id: int):
    if item_id < 0:
        raise _HTTPException(status_code=400, detail="Item ID must be positive")
    return {"item_id": item_id}


class SampleChunk(_BaseModel):
    message: str


async def sample_generate_chunks():
    for i in range(100):
        yield SampleChunk(message=f"This is chunk {i}")


@app.post(
    "/sample/stream",
    response_class=_Jsr,
    responses={200: _Jsr.openapi_response(SampleChunk, "Stream of chunks")},
)
async def my_stream() -> _Jsr:
    return _Jsr(sample_generate_chunks())
"""

SPEC_SAMPLE_TESTS = """
from fastapi.testclient import TestClient

import order_service.main  # noqa: F401
from order_service.init import app


def test_documentation_samples_work() -> None:
    client = TestClient(app)
    # `return ...` is the documentation's placeholder for real code: Ellipsis is no JSON, so
    # the app answers with its safe 500 and keeps serving.
    placeholder = TestClient(app, raise_server_exceptions=False)
    response = placeholder.post("/sample/items", json={"name": "x"})
    assert response.status_code == 500
    assert response.json()["detail"] == "Internal Server Error"
    assert client.get("/sample/logged/3").json() == {"item_id": 3}
    assert client.get("/sample/traced/3").json() == {"item_id": 3}
    assert client.get("/sample/metered/3").json() == {"item_id": 3}
    assert client.get("/sample/checked/-1").status_code == 400
    lines = client.post("/sample/stream").text.splitlines()
    assert len(lines) == 100
    schema = app.openapi()["paths"]["/sample/stream"]["post"]["responses"]["200"]
    assert "itemSchema" in schema["content"]["application/jsonl"]
"""


@pytest.fixture(scope="module", params=list(VARIANTS), ids=list(VARIANTS))
def project(request: pytest.FixtureRequest, projects: ProjectCache) -> Path:
    return projects.synced(**VARIANTS[request.param])


@pytest.mark.slow
def test_generated_tests_pass(project: Path) -> None:
    # The API's tests and the repository runtime's own (both tracing choices among them).
    args = ["uv", "run", "pytest", "-p", "no:cacheprovider", str(SERVICE), str(RUNTIME)]
    result = run(args, project)
    assert " passed" in result.stdout


@pytest.mark.slow
def test_run_sh_serves_locally_and_logs_each_request(project: Path, tmp_path: Path) -> None:
    # What the README promises a newcomer: call /echo, see a JSON log line with the
    # correlation id, and the request's EMF metrics, on the server's stdout.
    port = free_port()
    env = {**tool_env(), "PORT": str(port)}
    env["PATH"] = f"{project / '.venv' / 'bin'}{os.pathsep}{env['PATH']}"
    for name in ("AWS_LAMBDA_FUNCTION_NAME", "LAMBDA_TASK_ROOT", "POWERTOOLS_LOG_LEVEL"):
        env.pop(name, None)
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [str(project / SERVICE / "run.sh")], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        wait_until_listening(server, port, log)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/echo?message=hi") as reply:
            correlation_id = reply.headers["x-correlation-id"]
            assert json.load(reply) == {"message": "hi"}
        logged = wait_for_record(log, lambda r: r.get("correlation_id") == correlation_id)
        counted = wait_for_record(log, lambda r: r.get("route") == "GET /echo" and "_aws" in r)
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert logged["message"] == "Request completed"
    assert (logged["route"], logged["status"]) == ("/echo", 200)
    assert counted["Requests"] == 1


@pytest.mark.slow
def test_on_lambda_the_app_starts_without_aws_sdk_clients(project: Path) -> None:
    # On Lambda (LAMBDA_TASK_ROOT set) the X-Ray SDK follows the sampling decision of the
    # request; building its sampling client would import botocore's sessions: +0.3 s cold start.
    code = (
        "import sys, order_service.main\n"
        "print(sorted(m for m in sys.modules if m.startswith(('botocore.', 'boto3'))))"
    )
    env = {
        **tool_env(),
        "AWS_LAMBDA_FUNCTION_NAME": "order-service",
        "AWS_REGION": "us-east-1",
        "LAMBDA_TASK_ROOT": str(project / SERVICE),
    }
    result = run(["uv", "run", "--no-sync", "python", "-c", code], project / SERVICE, env=env)
    assert result.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.slow
def test_generated_code_is_lint_and_type_clean(project: Path) -> None:
    # The project's own task, as its README and CI run it: ruff, formatting, mypy per package.
    run(["uv", "run", "poe", "lint"], project)


@pytest.mark.slow
def test_bundle_is_lambda_ready(project: Path, tmp_path: Path) -> None:
    work = shutil.copytree(project, tmp_path / "p", symlinks=True, ignore=_no_venv)
    os.symlink(project / ".venv", work / ".venv")
    run(["uv", "run", "--no-sync", "poe", "bundle", SERVICE.name], work)
    folder = work / SERVICE / "dist" / "lambda"
    run_sh = folder / "run.sh"
    assert run_sh.stat().st_mode & stat.S_IXUSR
    assert (folder / "order_service" / "init.py").is_file()
    # The repository's runtime travels with every API's bundle.
    assert (folder / "common_runtime" / "service.py").is_file()
    names = {p.name for p in folder.iterdir()}
    assert {"fastapi", "uvicorn", "aws_lambda_powertools", "pydantic_core"} <= names
    # Only the chosen tracing SDK travels (the runtime's extra for the API's answer).
    xray = (project / SERVICE / "pyproject.toml").read_text().count("common-runtime[xray-sdk]")
    assert ("aws_xray_sdk" in names) == bool(xray)
    assert (folder / "opentelemetry" / "sdk").is_dir() != bool(xray)
    assert not {"botocore", "boto3", "pytest", "mypy", "ruff", "tests", "bin"} & names
    # Bytecode for the function's Python only (tests/test_bundle.py checks it further).
    version = (project / ".python-version").read_text().strip().replace(".", "")
    pycs = list(folder.rglob("*.pyc"))
    assert pycs
    assert {p.name.split(".")[-2] for p in pycs} == {f"cpython-{version}"}
    total = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    assert total < 50_000_000, f"bundle is {total / 1e6:.1f} MB unzipped"
    cores = list(folder.glob("pydantic_core/_pydantic_core*.so"))
    assert cores, "pydantic-core's compiled module is missing"
    with zipfile.ZipFile(work / SERVICE / "dist" / "lambda.zip") as archive:
        info = archive.getinfo("run.sh")
        assert (info.external_attr >> 16) & stat.S_IXUSR
        assert len(archive.namelist()) == sum(1 for p in folder.rglob("*") if p.is_file())


def _no_venv(folder: str, names: list[str]) -> set[str]:
    return {".venv"} & set(names)


@pytest.mark.slow
def test_bundle_wheels_follow_the_lambda_target(projects: ProjectCache, tmp_path: Path) -> None:
    for answers, wanted in (
        ({}, ("aarch64", "313")),
        (VARIANTS["http-x86-py312"], ("x86_64", "312")),
    ):
        project = projects.synced(**answers)
        work = shutil.copytree(project, tmp_path / wanted[0], symlinks=True, ignore=_no_venv)
        os.symlink(project / ".venv", work / ".venv")
        run(["uv", "run", "--no-sync", "poe", "bundle", SERVICE.name], work)
        core = next((work / SERVICE / "dist" / "lambda").glob("pydantic_core/_pydantic_core*.so"))
        assert wanted[0] in core.name, core.name
        assert f"cpython-{wanted[1]}" in core.name, core.name


@pytest.mark.slow
def test_openapi_document_is_written(projects: ProjectCache, tmp_path: Path) -> None:
    project = projects.synced()
    work = shutil.copytree(project, tmp_path / "p", symlinks=True, ignore=_no_venv)
    os.symlink(project / ".venv", work / ".venv")
    run(["uv", "run", "--no-sync", "poe", "openapi", SERVICE.name], work)
    output = work / SERVICE / "dist" / "openapi.json"
    document = json.loads(output.read_text())
    operations = {op["operationId"] for path in document["paths"].values() for op in path.values()}
    assert operations == {"echo", "get_item", "create_item", "stream"}


@pytest.mark.slow
def test_documentation_samples_work_pasted_into_main(
    projects: ProjectCache, tmp_path: Path
) -> None:
    project = projects.synced()
    work = shutil.copytree(project, tmp_path / "p", symlinks=True, ignore=_no_venv)
    os.symlink(project / ".venv", work / ".venv")
    main_py = work / SERVICE / "order_service" / "main.py"
    main_py.write_text(main_py.read_text() + SPEC_SAMPLES)
    (work / SERVICE / "tests" / "test_samples.py").write_text(SPEC_SAMPLE_TESTS)
    # The editable install points at the cached project: import this copy instead.
    env_path = f"{work / SERVICE}"
    args = ["uv", "run", "--no-sync", "pytest", "-p", "no:cacheprovider"]
    result = run(
        [*args, str(SERVICE / "tests" / "test_samples.py")],
        work,
        env={**tool_env(), "PYTHONPATH": env_path},
    )
    assert "1 passed" in result.stdout
