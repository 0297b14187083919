"""The generated service under hostile input, load and faults, served over HTTP for real."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import (
    ProjectCache,
    free_port,
    log_records,
    run,
    serving_run_sh,
    tool_env,
    wait_for_record,
    wait_until_listening,
)

SERVICE = Path("packages") / "order-service"

#: Routes that fail in each way a real handler can, added to the generated app for these tests.
FAULT_APP = """
import asyncio

import order_service.main  # noqa: F401  (the sample routes)
from order_service.init import JsonStreamingResponse, app, logger, metrics


@app.get("/fault/raise")
async def fault_raise() -> None:
    raise RuntimeError("boom")


async def failing_chunks():
    yield {"n": 1}
    await asyncio.sleep(0)
    raise RuntimeError("stream broke")


@app.get("/fault/stream")
async def fault_stream() -> JsonStreamingResponse:
    return JsonStreamingResponse(failing_chunks())


async def slow_chunks():
    for n in range(1000):
        yield {"n": n}
        await asyncio.sleep(0.01)


@app.get("/fault/slow-stream")
async def fault_slow_stream() -> JsonStreamingResponse:
    return JsonStreamingResponse(slow_chunks())


@app.get("/probe/{label}")
async def probe(label: str) -> dict[str, str]:
    await asyncio.sleep(0.01)
    logger.info("probe", extra={"label": label})
    metrics.add_metric(name="Probe", unit="Count", value=1)
    return {"label": label}
"""

LOAD = """
import asyncio, json, sys
import httpx

async def main(url):
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        responses = await asyncio.gather(*(
            client.get(f"/probe/{i}", headers={"x-correlation-id": f"cid-{i}"})
            for i in range(200)
        ))
    print(json.dumps([[r.status_code, r.headers.get("x-correlation-id"), r.json()["label"]]
                      for r in responses]))

asyncio.run(main(sys.argv[1]))
"""


@pytest.fixture(scope="module")
def served(
    projects: ProjectCache, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path, Path]]:
    """The default project's app plus fault routes, served by uvicorn on 127.0.0.1."""
    project = projects.synced()
    work = tmp_path_factory.mktemp("served")
    (work / "fault_app.py").write_text(FAULT_APP)
    log = work / "server.log"
    port = free_port()
    python = project / ".venv" / "bin" / "python"
    env = {**tool_env(), "PYTHONPATH": str(work)}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(python), "-m", "uvicorn", "fault_app:app", "--port", str(port),
             "--host", "127.0.0.1", "--no-access-log"],
            cwd=project / SERVICE, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    wait_until_listening(process, port, log)
    yield f"http://127.0.0.1:{port}", project, log
    process.terminate()
    process.wait(timeout=10)


def _get(url: str, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url + path, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture(scope="module")
def run_sh(projects: ProjectCache, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The default project's API as its run.sh serves it on 127.0.0.1."""
    project = projects.synced()
    log = tmp_path_factory.mktemp("run_sh") / "server.log"
    with serving_run_sh(project, SERVICE, log) as url:
        yield url


@pytest.mark.slow
def test_schemathesis_finds_nothing_the_openapi_document_does_not_declare(
    run_sh: str, projects: ProjectCache
) -> None:
    # Every check: no server error, every status and body as declared (400, 422, 500
    # included), schema-valid requests accepted and invalid ones refused.
    result = subprocess.run(
        ["uv", "run", "--no-sync", "--with", "schemathesis==4.32.5", "schemathesis", "run",
         f"{run_sh}/openapi.json", "--checks", "all",
         "--phases", "examples,coverage,fuzzing,stateful", "--max-examples", "100",
         "--request-timeout", "10", "--seed", "1", "--no-color"],
        cwd=projects.synced(), env=tool_env(), capture_output=True, text=True, check=False,
        timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert "Tested: 4" in result.stdout, result.stdout[-3000:]
    assert "No issues found" in result.stdout


@pytest.mark.slow
def test_200_concurrent_requests_keep_their_own_ids_logs_and_metrics(
    served: tuple[str, Path, Path],
) -> None:
    url, project, log = served
    before = len(log.read_text().splitlines())
    result = run(["uv", "run", "--no-sync", "python", "-c", LOAD, url], project, env=tool_env())
    responses = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(responses) == 200
    for status, correlation_id, label in responses:
        assert status == 200
        assert correlation_id == f"cid-{label}"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lines = log.read_text().splitlines()[before:]
        parsed = [json.loads(line) for line in lines if line.startswith("{")]
        done = [r for r in parsed if r.get("message") == "probe"]
        if len(done) >= 200:
            break
        time.sleep(0.05)
    assert len(done) == 200
    for record in done:
        assert record["correlation_id"] == f"cid-{record['label']}"
        assert record["path"] == f"/probe/{record['label']}"
        assert record["route"] == "/probe/{label}"
    emf = [r for r in parsed if "_aws" in r]
    routes = [r for r in emf if r.get("route") == "GET /probe/{label}"]
    assert len(routes) == 200
    assert {tuple(r["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0]) for r in routes} == {
        ("route", "service")
    }
    assert sum(r.get("Probe", [0])[0] for r in emf) == 200
    assert sum(r["Success"] for r in routes) == 200
    assert not any("correlation_id" in r for r in emf), "a log key leaked into metrics"


@pytest.mark.slow
def test_a_handler_that_raises_is_logged_counted_and_answered(
    served: tuple[str, Path, Path],
) -> None:
    url, _, log = served
    status, headers, body = _get(url, "/fault/raise", **{"x-correlation-id": "fault-1"})
    assert status == 500
    assert json.loads(body) == {"detail": "Internal Server Error", "correlation_id": "fault-1"}
    assert headers["x-correlation-id"] == "fault-1"
    # The metrics are written once the response is sent: wait for them.
    counted = wait_for_record(log, lambda r: r.get("route") == "GET /fault/raise")
    assert counted["Failure"] == 1
    error = wait_for_record(
        log, lambda r: r.get("correlation_id") == "fault-1" and "exception" in r
    )
    assert "RuntimeError: boom" in error["exception"]
    assert _get(url, "/echo?message=still-up")[0] == 200


@pytest.mark.slow
def test_a_stream_failing_midway_is_logged_and_counted(served: tuple[str, Path, Path]) -> None:
    url, _, log = served
    import http.client

    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.request("GET", "/fault/stream", headers={"x-correlation-id": "fault-2"})
    response = connection.getresponse()
    assert response.status == 200  # headers were sent before the failure
    try:
        body = response.read()
    except http.client.IncompleteRead as partial:
        body = partial.partial
    connection.close()
    assert b'{"n":1}' in body
    error = wait_for_record(
        log, lambda r: r.get("correlation_id") == "fault-2" and "exception" in r
    )
    assert "stream broke" in error["exception"]
    counted = wait_for_record(log, lambda r: r.get("route") == "GET /fault/stream")
    assert counted["Failure"] == 1
    assert _get(url, "/echo?message=still-up")[0] == 200


@pytest.mark.slow
def test_a_client_leaving_midway_does_not_hurt_the_server(
    served: tuple[str, Path, Path],
) -> None:
    url, _, log = served
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(
            b"GET /fault/slow-stream HTTP/1.1\r\nHost: x\r\nx-correlation-id: gone-1\r\n\r\n"
        )
        assert b"200" in sock.recv(1024)
    started = time.monotonic()
    wait_for_record(log, lambda r: r.get("route") == "GET /fault/slow-stream", seconds=15)
    # The 10 s stream is cancelled when its client leaves, not served to nobody.
    assert time.monotonic() - started < 5
    assert not [r for r in log_records(log) if r.get("correlation_id") == "gone-1"], "not an error"
    assert _get(url, "/echo?message=still-up")[0] == 200


@pytest.mark.slow
def test_malformed_and_oversized_bodies_are_refused_cleanly(
    served: tuple[str, Path, Path],
) -> None:
    url, _, _ = served
    import urllib.error
    import urllib.request

    for body in (b"{not json", b'{"name": ' + b'"x' * 2_000_000 + b'"'):
        request = urllib.request.Request(
            url + "/items", data=body, headers={"content-type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        assert status in {201, 413, 422}, status
        assert status < 500
    assert _get(url, "/echo?message=still-up")[0] == 200


@pytest.mark.slow
def test_no_generated_iam_policy_allows_every_action_on_every_resource(
    projects: ProjectCache, tmp_path: Path
) -> None:
    project = projects.synced()
    infra = project / "packages" / "infra"
    run(["uv", "run", "--no-sync", "python", "-m", "common_constructs.build"], infra)
    env = {**tool_env(), "CDK_OUTDIR": str(tmp_path)}
    run(["uv", "run", "--no-sync", "python", "-m", "infra.app"], infra, env=env)
    template = json.loads((tmp_path / "Apis.template.json").read_text())
    for name, resource in template["Resources"].items():
        document = resource.get("Properties", {}).get("PolicyDocument")
        if not document or resource["Type"] == "AWS::KMS::Key":
            continue
        for statement in document["Statement"]:
            actions = (
                statement["Action"]
                if isinstance(statement["Action"], list)
                else [statement["Action"]]
            )
            assert "*" not in actions, name
            if statement.get("Resource") == "*":
                assert all(a.startswith(("xray:", "ec2:")) for a in actions), (name, actions)
