"""The generated service under hostile input, load and faults, served over HTTP for real."""

from __future__ import annotations

import json
import re
import socket
import statistics
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
import time

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


@app.get("/tenant/{tenant}")
async def tenant(tenant: str) -> dict[str, str]:
    metrics.add_dimension(name="tenant", value=tenant)
    await asyncio.sleep(0.01)  # every other request adds its own dimension meanwhile
    metrics.add_metric(name="Orders", unit="Count", value=1)
    metrics.add_metadata(key="order", value=tenant)
    return {"tenant": tenant}


def blocking_lines(count: int, pause: float):
    try:
        for n in range(count):
            time.sleep(pause)  # blocking work, as a database cursor does
            yield {"n": n}
    finally:
        logger.info("generator closed")


@app.get("/fault/blocking-stream")
def fault_blocking_stream(count: int = 40, pause: float = 0.05) -> JsonStreamingResponse:
    return JsonStreamingResponse(blocking_lines(count, pause))
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


def leave_midway(url: str, target: str, correlation_id: str) -> float:
    """Start a stream of ``target``, read its first bytes (a 200), then hang up; return when."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        head = f"GET {target} HTTP/1.1\r\nHost: x\r\nx-correlation-id: {correlation_id}\r\n"
        sock.sendall(head.encode() + b"\r\n")
        assert b"200" in sock.recv(1024)
    return time.monotonic()


@pytest.fixture(scope="module")
def run_sh_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the server of ``run_sh`` writes its output."""
    return tmp_path_factory.mktemp("run_sh") / "server.log"


@pytest.fixture(scope="module")
def run_sh(projects: ProjectCache, run_sh_log: Path) -> Iterator[str]:
    """The default project's API as its run.sh serves it on 127.0.0.1."""
    project = projects.synced()
    with serving_run_sh(project, SERVICE, run_sh_log) as url:
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
    started = leave_midway(url, "/fault/slow-stream", "gone-1")
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
    run(["uv", "run", "--no-sync", "toolchain", "build"], infra)
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


#: Every correlation id the service answers with: bounded, and safe in a header and a log.
VALID_ID = re.compile(r"[A-Za-z0-9\-_.:;=+/@]{1,128}")

TENANTS = """
import asyncio, json, sys
import httpx

async def main(url, count):
    limits = httpx.Limits(max_connections=300)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        responses = await asyncio.gather(*(client.get(f"/tenant/t{i}") for i in range(count)))
    print(json.dumps([r.status_code for r in responses]))

asyncio.run(main(sys.argv[1], int(sys.argv[2])))
"""


def _raw(url: str, request: bytes, timeout: float = 10) -> tuple[int, dict[str, str], bytes]:
    """Send ``request`` as is (no client checks what it holds); the response's status, headers
    (lower-case names) and body."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(request)
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = sock.recv(65536)
            assert chunk, f"no response, only {received!r}"
            received += chunk
        head, _, body = received.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines[1:])
        headers = {name.lower(): value for name, value in headers.items()}
        length = int(headers.get("content-length", "0"))
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
    return int(lines[0].split()[1]), headers, body


@pytest.mark.slow
def test_300_concurrent_requests_each_keep_their_own_metric_dimension(
    served: tuple[str, Path, Path],
) -> None:
    url, project, log = served
    before = len(log.read_text().splitlines())
    count = 300
    result = run(["uv", "run", "--no-sync", "python", "-c", TENANTS, url, str(count)], project,
                 env=tool_env())  # fmt: skip
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [200] * count
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lines = log.read_text().splitlines()[before:]
        documents = [json.loads(line) for line in lines if line.startswith('{"_aws"')]
        documents = [d for d in documents if d.get("route") == "GET /tenant/{tenant}"]
        if len(documents) >= count:
            break
        time.sleep(0.05)
    # One document per request, every one present, each with its own dimension only.
    assert len(documents) == count
    assert sorted(d["tenant"] for d in documents) == sorted(f"t{i}" for i in range(count))
    for document in documents:
        assert document["Orders"] == [1.0]
        assert document["order"] == document["tenant"]
        dimensions = [d["Dimensions"] for d in document["_aws"]["CloudWatchMetrics"]]
        assert dimensions == [[["route", "service"]], [["tenant", "service"]]]


@pytest.mark.slow
def test_a_synchronous_stream_does_not_delay_other_requests(
    served: tuple[str, Path, Path],
) -> None:
    url, _, log = served
    host, port = url.removeprefix("http://").split(":")
    import http.client

    def echo_seconds() -> float:
        started = time.monotonic()
        assert _get(url, "/echo?message=meanwhile")[0] == 200
        return time.monotonic() - started

    alone = statistics.median(echo_seconds() for _ in range(15))
    streaming = http.client.HTTPConnection(host, int(port), timeout=10)
    streaming.request(
        "GET", "/fault/blocking-stream?count=15&pause=0.2", headers={"x-correlation-id": "sync-1"}
    )
    response = streaming.getresponse()
    assert response.status == 200
    response.read(8)  # the generator now sleeps 200 ms per line, for 3 s
    beside = statistics.median(echo_seconds() for _ in range(15))
    body = response.read()
    streaming.close()
    assert body.count(b"\n") == 14
    # On the event loop, each /echo would wait for the rest of a 200 ms sleep (and, before the
    # generator ran in the thread pool, for the whole stream).
    assert beside < alone + 0.03, (alone, beside)
    assert wait_for_record(log, lambda r: r.get("correlation_id") == "sync-1"
                           and r.get("message") == "generator closed")  # fmt: skip


@pytest.mark.slow
def test_an_abandoned_synchronous_stream_is_closed_and_counted_as_disconnected(
    served: tuple[str, Path, Path],
) -> None:
    url, _, log = served
    started = leave_midway(url, "/fault/blocking-stream?count=1000", "gone-sync")
    closed = wait_for_record(
        log,
        lambda r: r.get("correlation_id") == "gone-sync" and r.get("message") == "generator closed",
    )
    # 1000 lines would take 50 s: the generator was stopped when its client left.
    assert time.monotonic() - started < 5
    assert closed["level"] == "INFO"
    counted = wait_for_record(
        log, lambda r: r.get("route") == "GET /fault/blocking-stream" and "Disconnected" in r
    )
    assert (counted["Success"], counted["Failure"], counted["Disconnected"]) == (0, 0, 1)


@pytest.mark.slow
def test_a_stalled_consumer_does_not_stall_the_server(served: tuple[str, Path, Path]) -> None:
    url, _, _ = served
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        # A client that asks for a long stream and never reads it.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
        sock.sendall(b"GET /fault/slow-stream HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.3)
        started = time.monotonic()
        assert _get(url, "/echo?message=meanwhile")[0] == 200
        assert time.monotonic() - started < 0.5


@pytest.mark.slow
def test_a_lone_surrogate_in_a_body_is_refused_and_logged_as_valid_json(
    run_sh: str, run_sh_log: Path
) -> None:
    body = b'{"name": "a\\ud800b"}'
    status, headers, content = _raw(
        run_sh,
        b"POST /items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"x-correlation-id: surrogate-1\r\nContent-Length: "
        + str(len(body)).encode() + b"\r\n\r\n" + body,
    )  # fmt: skip
    assert status == 400
    assert json.loads(content) == {"detail": "There was an error parsing the body"}
    assert headers["x-correlation-id"] == "surrogate-1"
    # run.sh logs every request locally (DEBUG): the line is there, valid JSON.
    completed = wait_for_record(run_sh_log, lambda r: r.get("correlation_id") == "surrogate-1")
    assert completed["status"] == 400
    text = run_sh_log.read_text()
    assert "Logging error" not in text
    # A surrogate pair is text: accepted and echoed.
    paired = b'{"name": "a\\ud83d\\ude00b"}'
    status, _, content = _raw(
        run_sh,
        b"POST /items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
        + str(len(paired)).encode() + b"\r\n\r\n" + paired,
    )  # fmt: skip
    assert (status, json.loads(content)) == (201, {"name": "a\U0001f600b"})


@pytest.mark.slow
@pytest.mark.parametrize(
    "header",
    [
        b"x-amzn-lambda-context: " + json.dumps({"request_id": "a\r\nx-forged: 1"}).encode(),
        b"x-amzn-lambda-context: " + json.dumps({"request_id": "x" * 10_000}).encode(),
        b"x-amzn-lambda-context: " + json.dumps({"request_id": "\u00e9\u65e5"}).encode(),
        b"x-amzn-lambda-context: "
        + json.dumps({"request_id": "r"}, ensure_ascii=False)
        .encode()
        .replace(b'"r"', '"\u65e5\u672c"'.encode()),
        b"x-correlation-id: " + b"y" * 10_000,
        b"x-correlation-id: caf\xc3\xa9",
        b"x-correlation-id: a\x01b",
    ],
    ids=["crlf", "10kb", "escaped-non-latin1", "raw-utf8", "10kb-header", "utf8-header", "ctl"],
)
def test_malformed_forwarded_ids_still_get_a_response_with_a_bounded_id(
    run_sh: str, run_sh_log: Path, header: bytes
) -> None:
    status, headers, content = _raw(
        run_sh, b"GET /echo?message=ids HTTP/1.1\r\nHost: x\r\n" + header + b"\r\n\r\n"
    )
    assert status == 200
    assert json.loads(content) == {"message": "ids"}
    correlation_id = headers["x-correlation-id"]
    assert VALID_ID.fullmatch(correlation_id), correlation_id
    # The id answered is the one logged.
    wait_for_record(run_sh_log, lambda r: r.get("correlation_id") == correlation_id)


@pytest.mark.slow
def test_a_20_mb_body_gets_413_before_it_is_read_whole(run_sh: str) -> None:
    size = 20 * 1024 * 1024
    # Declared: answered at once, after one megabyte of the body has been sent.
    status, headers, content = _raw(
        run_sh,
        b"POST /items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(size).encode() + b"\r\n\r\n" + b"x" * (1024 * 1024),
    )  # fmt: skip
    assert (status, json.loads(content)) == (413, {"detail": "Content Too Large"})
    assert VALID_ID.fullmatch(headers["x-correlation-id"])
    # Chunked, without a length: stopped at the first chunk past 10 MiB.
    host, port = run_sh.removeprefix("http://").split(":")
    sent = 0
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            b"POST /items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"x" * (1024 * 1024)
        try:
            while sent < size:
                sock.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed: nothing more is read
        else:
            sock.sendall(b"0\r\n\r\n")
        response = b""
        while b"\r\n\r\n" not in response:
            data = sock.recv(65536)
            if not data:
                break
            response += data
    assert response.startswith(b"HTTP/1.1 413"), response[:200]


@pytest.mark.slow
def test_a_repeated_single_value_query_parameter_is_refused(run_sh: str) -> None:
    status, _, body = _get(run_sh, "/echo?message=a&message=b")
    assert status == 422
    (error,) = json.loads(body)["detail"]
    assert error["loc"] == ["query", "message"]
    assert _get(run_sh, "/echo?message=a&unknown=1&unknown=2")[0] == 200
