"""Traces of the generated service, served by run.sh as on Lambda, received on 127.0.0.1.

Either choice sends to a UDP socket standing in for the X-Ray endpoint Lambda gives a function
(`AWS_XRAY_DAEMON_ADDRESS`): with `tracing=opentelemetry`, OTLP spans (each datagram a JSON
header line, then `T1S` and the base64 of an `ExportTraceServiceRequest`, decoded here with
`opentelemetry-proto` from the generated project's environment); with `tracing=xray-sdk`, X-Ray
segment documents. What happens past that wire (X-Ray itself) needs AWS and is not tested here.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import statistics
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from conftest import ProjectCache, free_port, render, tool_env, wait_until_listening
from test_service import SPEC_SAMPLES, VARIANTS

SERVICE = Path("packages") / "order-service"

#: The trace Lambda Web Adapter forwards in `x-amzn-trace-id` (X-Ray ids, OTLP hex ids).
ROOT, TRACE_ID = "1-5759e988-bd862e3fe1be46a994272793", "5759e988bd862e3fe1be46a994272793"
PARENT = "53995c3f42cd8ad8"

#: Routes that fail or interleave, added to main.py with the documentation's samples.
TRACE_ROUTES = """

# --- routes of the tracing tests ---
import asyncio as _asyncio

from fastapi import HTTPException as _Refusal


@app.get("/fault/refuse/{item_id}")
@tracer.capture_method
def fault_refuse(item_id: int) -> None:
    raise _Refusal(status_code=400, detail="Item ID must be positive")


@app.get("/fault/raise")
async def fault_raise() -> None:
    raise RuntimeError("boom")


@app.get("/trace/probe/{label}")
@tracer.capture_method
async def trace_probe(label: str) -> dict[str, str]:
    await _asyncio.sleep(0.01)
    async with tracer.provider.in_subsegment_async(f"probe-{label}") as segment:
        segment.put_annotation("label", label)
        await _asyncio.sleep(0.01)
    tracer.put_metadata("probe", {"label": label})
    return {"label": label}
"""

#: Lambda's X-Ray endpoint, as far as OTLP spans go: a UDP socket that decodes each datagram and
#: writes each span it holds as a JSON line to argv[1], and prints its port.
RECEIVER = """
import base64, json, socket, sys

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

out = open(sys.argv[1], "a", buffering=1)


def value(any_value):
    kind = any_value.WhichOneof("value")
    if kind == "array_value":
        return [value(v) for v in any_value.array_value.values]
    return getattr(any_value, kind) if kind else None


def attributes(items):
    return {a.key: value(a.value) for a in items}


sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
sock.bind(("127.0.0.1", 0))
print(sock.getsockname()[1], flush=True)
while True:
    datagram = sock.recv(65536)
    header, _, body = datagram.partition(b"\\n")
    request = ExportTraceServiceRequest.FromString(base64.b64decode(body[3:], validate=True))
    for resource_spans in request.resource_spans:
        resource = attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                out.write(json.dumps({
                    "header": json.loads(header),
                    "prefix": body[:3].decode(),
                    "size": len(datagram),
                    "resource": resource,
                    "trace_id": span.trace_id.hex(),
                    "span_id": span.span_id.hex(),
                    "parent_span_id": span.parent_span_id.hex(),
                    "name": span.name,
                    "kind": span.kind,
                    "status": span.status.code,
                    "attributes": attributes(span.attributes),
                    "events": [
                        {"name": e.name, "attributes": attributes(e.attributes)}
                        for e in span.events
                    ],
                }) + "\\n")
"""

#: OTLP span kinds and status codes.
SERVER, INTERNAL, STATUS_ERROR = 2, 1, 2


def _work_copy(project: Path, work: Path) -> Path:
    """A copy of ``project`` sharing its environment, with the test routes in main.py."""
    copy = shutil.copytree(
        project, work / "project", symlinks=True, ignore=lambda _d, n: {".venv"} & set(n)
    )
    os.symlink(project / ".venv", copy / ".venv")
    main_py = copy / SERVICE / "order_service" / "main.py"
    main_py.write_text(main_py.read_text() + SPEC_SAMPLES + TRACE_ROUTES)
    return copy


@contextmanager
def _serve(project: Path, env: dict[str, str], log: Path) -> Iterator[str]:
    """run.sh of ``project`` serving on 127.0.0.1, as on Lambda (tracing on)."""
    port = free_port()
    env = {
        **tool_env(),
        **env,
        "PORT": str(port),
        "AWS_LAMBDA_FUNCTION_NAME": "order-service-test",
        "LAMBDA_TASK_ROOT": str(project / SERVICE),
        "AWS_REGION": "us-east-1",
    }
    env["PATH"] = f"{project / '.venv' / 'bin'}{os.pathsep}{env['PATH']}"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [str(project / SERVICE / "run.sh")], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        wait_until_listening(server, port, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="module")
def otel(
    projects: ProjectCache, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path, Path]]:
    """The default (OpenTelemetry) service with the test routes, sending to a UDP receiver.

    Yields the service's URL, the receiver's span file and the server's log.
    """
    project = projects.synced()
    work = tmp_path_factory.mktemp("otel")
    copy = _work_copy(project, work)
    spans, log = work / "spans.jsonl", work / "server.log"
    spans.touch()
    python = project / ".venv" / "bin" / "python"
    receiver = subprocess.Popen(
        [str(python), "-c", RECEIVER, str(spans)], stdout=subprocess.PIPE, env=tool_env()
    )
    try:
        assert receiver.stdout is not None
        port = int(receiver.stdout.readline())
        endpoint = {"AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{port}"}
        with _serve(copy, endpoint, log) as url:
            yield url, spans, log
    finally:
        receiver.terminate()
        receiver.wait(timeout=10)


def _spans(spans: Path, trace_id: str, count: int = 0) -> list[dict[str, Any]]:
    """The spans received for ``trace_id``, once ``count`` of them arrived (UDP: the receiver
    writes them a moment after the response), or after 10 s."""
    deadline = time.monotonic() + 10
    while True:
        received = [json.loads(line) for line in spans.read_text().splitlines()]
        found = [span for span in received if span["trace_id"] == trace_id]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.02)


def _header(trace_id: str, sampled: int = 1, parent: str = PARENT) -> dict[str, str]:
    """The x-amzn-trace-id header of a trace (``trace_id`` in OTLP hex)."""
    root = f"1-{trace_id[:8]}-{trace_id[8:]}"
    return {"x-amzn-trace-id": f"Root={root};Parent={parent};Sampled={sampled}"}


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """GET ``url``: the status and the JSON body."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


@pytest.mark.slow
def test_a_request_joins_the_trace_of_its_header(otel: tuple[str, Path, Path]) -> None:
    url, spans, _ = otel
    headers = {**_header(TRACE_ID), "x-correlation-id": "trace-cid-1"}
    assert _get(f"{url}/sample/traced/7", headers) == (200, {"item_id": 7})
    # Sent before the response ended, as OTLP over UDP.
    by_name = {span["name"]: span for span in _spans(spans, TRACE_ID, 3)}
    request = by_name["GET /sample/traced/{item_id}"]
    assert request["parent_span_id"] == PARENT
    assert request["kind"] == SERVER
    assert request["header"] == {"format": "json", "version": 1}
    assert request["prefix"] == "T1S"
    attributes = request["attributes"]
    assert attributes["http.route"] == "/sample/traced/{item_id}"
    assert attributes["http.response.status_code"] == 200
    assert attributes["correlation_id"] == "trace-cid-1"
    assert isinstance(attributes["faas.coldstart"], bool)
    assert {"ColdStart", "correlation_id"} <= set(attributes["aws.xray.annotations"])
    assert request["resource"]["service.name"] == "order-service"
    assert request["resource"]["cloud.platform"] == "aws_lambda"
    method = by_name["## order_service.main.read_item_traced"]
    assert (method["parent_span_id"], method["kind"]) == (request["span_id"], INTERNAL)
    assert by_name["fetch-item-details"]["parent_span_id"] == method["span_id"]
    assert len(by_name) == 3


@pytest.mark.slow
def test_failures_are_recorded_as_exception_events(otel: tuple[str, Path, Path]) -> None:
    url, spans, _ = otel
    failing, refused = "5759e988bd862e3fe1be46a9942727a1", "5759e988bd862e3fe1be46a9942727a2"
    assert _get(f"{url}/fault/raise", _header(failing))[0] == 500
    (request,) = _spans(spans, failing, 1)
    assert request["status"] == STATUS_ERROR
    (event,) = request["events"]
    assert event["name"] == "exception"
    assert event["attributes"]["exception.type"] == "RuntimeError"
    assert event["attributes"]["exception.message"] == "boom"
    assert "Traceback" in event["attributes"]["exception.stacktrace"]
    # A captured method that raises: the exception is on its own span.
    assert _get(f"{url}/fault/refuse/-1", _header(refused))[0] == 400
    by_name = {span["name"]: span for span in _spans(spans, refused, 2)}
    method = by_name["## order_service.main.fault_refuse"]
    assert [e["attributes"]["exception.type"] for e in method["events"]] == [
        "fastapi.exceptions.HTTPException"
    ]
    route = by_name["GET /fault/refuse/{item_id}"]
    assert route["attributes"]["http.response.status_code"] == 400


@pytest.mark.slow
def test_concurrent_requests_never_mix_their_spans(otel: tuple[str, Path, Path]) -> None:
    url, spans, _ = otel
    traces = {f"{label:02d}": f"5759e988bd862e3fe1be46a99427{label:04x}" for label in range(40)}

    with ThreadPoolExecutor(max_workers=len(traces)) as pool:
        replies = list(
            pool.map(
                lambda item: _get(f"{url}/trace/probe/{item[0]}", _header(item[1])),
                traces.items(),
            )
        )
    assert replies == [(200, {"label": label}) for label in traces]
    for label, trace_id in traces.items():
        by_name = {span["name"]: span for span in _spans(spans, trace_id, 3)}
        assert set(by_name) == {
            "GET /trace/probe/{label}",
            "## order_service.main.trace_probe",
            f"probe-{label}",
        }, label
        request = by_name["GET /trace/probe/{label}"]
        method = by_name["## order_service.main.trace_probe"]
        probe = by_name[f"probe-{label}"]
        assert request["parent_span_id"] == PARENT
        assert method["parent_span_id"] == request["span_id"]
        assert probe["parent_span_id"] == method["span_id"]
        assert probe["attributes"]["label"] == label
        # tracer.put_metadata: namespaced by the service, JSON when not a scalar.
        assert json.loads(method["attributes"]["order-service.probe"]) == {"label": label}


@pytest.mark.slow
def test_unsampled_requests_export_nothing(otel: tuple[str, Path, Path]) -> None:
    url, spans, _ = otel
    unsampled, sampled = "5759e988bd862e3fe1be46a9942700b1", "5759e988bd862e3fe1be46a9942700b2"
    assert _get(f"{url}/sample/traced/1", _header(unsampled, 0))[0] == 200
    # Had the unsampled request recorded spans, this request's export would carry them too.
    assert _get(f"{url}/sample/traced/2", _header(sampled))[0] == 200
    assert len(_spans(spans, sampled, 3)) == 3
    assert _spans(spans, unsampled) == []


@pytest.mark.slow
def test_on_lambda_requests_without_a_trace_header_record_nothing(
    otel: tuple[str, Path, Path],
) -> None:
    # Such requests are Lambda Web Adapter's readiness checks: no trace of their own.
    url, spans, log = otel
    assert _get(f"{url}/sample/traced/5")[0] == 200
    assert _get(f"{url}/sample/traced/6", _header(TRACE_ID[:-4] + "00c1"))[0] == 200
    assert _spans(spans, TRACE_ID[:-4] + "00c1", 3)
    traces = [json.loads(line) for line in spans.read_text().splitlines()]
    assert not [s for s in traces if s["attributes"].get("url.path") == "/sample/traced/5"]
    assert [s for s in traces if s["attributes"].get("url.path") == "/sample/traced/6"]
    # Everything so far went without a warning or an error from the SDK.
    lines = log.read_text().splitlines()
    noise = [line for line in lines if "opentelemetry" in line.lower() or "warn" in line.lower()]
    assert noise == []


@pytest.mark.slow
def test_x_ray_sdk_choice_sends_the_samples_subsegments_to_the_daemon(
    projects: ProjectCache, tmp_path: Path
) -> None:
    project = _work_copy(projects.synced(**VARIANTS["http-x86-py312"]), tmp_path)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as daemon:
        daemon.bind(("127.0.0.1", 0))
        daemon.settimeout(10)
        env = {"AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{daemon.getsockname()[1]}"}
        with _serve(project, env, tmp_path / "server.log") as url:
            headers = {"x-amzn-trace-id": f"Root={ROOT};Parent={PARENT};Sampled=1"}
            assert _get(f"{url}/sample/traced/3", headers)[0] == 200
            documents: list[dict[str, Any]] = []
            wanted = {"fetch-item-details", "## order_service.main.read_item_traced"}
            while not wanted <= {d["name"] for d in documents}:
                header, _, body = daemon.recv(65536).decode().partition("\n")
                assert json.loads(header) == {"format": "json", "version": 1}
                documents.append(json.loads(body))
    assert {d["trace_id"] for d in documents} == {ROOT}
    method = next(d for d in documents if d["name"] == "## order_service.main.read_item_traced")
    assert method["parent_id"] == PARENT


def test_apis_that_predate_the_question_keep_the_x_ray_sdk(tmp_path: Path) -> None:
    new = render(tmp_path / "new", {"name": "order-service"})
    assert "tracing: opentelemetry" in (new / ".copier-answers.yml").read_text()
    # An API whose recorded answers have no `tracing` was built on the X-Ray SDK.
    answers = new / ".copier-answers.yml"
    answers.write_text(answers.read_text().replace("tracing: opentelemetry\n", ""))
    again = render(new, {"name": "order-service"}, overwrite=True)
    assert "tracing: xray-sdk" in (again / ".copier-answers.yml").read_text()
    pyproject = (again / SERVICE / "pyproject.toml").read_text()
    assert '"common-runtime[xray-sdk]"' in pyproject


def _timed_get(url: str, headers: dict[str, str]) -> float:
    """Seconds to GET ``url`` (200 expected)."""
    started = time.perf_counter()
    assert _get(url, headers)[0] == 200
    return time.perf_counter() - started


@pytest.mark.slow
def test_with_nothing_listening_sampled_requests_are_as_fast_as_unsampled(
    projects: ProjectCache, tmp_path: Path
) -> None:
    # No X-Ray endpoint answers (a collector that is not there used to hold each sampled
    # request for seconds): datagrams leave without waiting for anyone.
    nowhere = {"AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{free_port()}"}
    with _serve(_work_copy(projects.synced(), tmp_path), nowhere, tmp_path / "log") as url:
        sampled: list[float] = []
        unsampled: list[float] = []
        for index in range(150):  # interleaved: both see the same machine load
            trace_id = f"5759e988bd862e3fe1be46a99427{index:04x}"
            sampled.append(_timed_get(f"{url}/sample/traced/1", _header(trace_id, 1)))
            unsampled.append(_timed_get(f"{url}/sample/traced/1", _header(trace_id, 0)))
    sampled, unsampled = sampled[20:], unsampled[20:]  # past the SDK's first load
    ms = {
        "sampled p50": statistics.median(sampled) * 1000,
        "unsampled p50": statistics.median(unsampled) * 1000,
        "sampled p95": statistics.quantiles(sampled, n=20)[-1] * 1000,
        "unsampled p95": statistics.quantiles(unsampled, n=20)[-1] * 1000,
    }
    assert ms["sampled p50"] <= 1.5 * ms["unsampled p50"] + 1, ms
    assert ms["sampled p95"] <= 1.5 * ms["unsampled p95"] + 2, ms


@pytest.mark.slow
def test_the_adapter_s_readiness_check_and_snapstart_hooks_over_http(
    projects: ProjectCache, tmp_path: Path
) -> None:
    # Called as Lambda Web Adapter calls them, with the variables the infrastructure sets.
    env = {
        "AWS_LWA_READINESS_CHECK_PATH": "/_lambda/health",
        "AWS_LWA_SNAPSTART_BEFORE_CHECKPOINT_PATH": "/_lambda/snapstart/before-checkpoint",
        "AWS_LWA_SNAPSTART_AFTER_RESTORE_PATH": "/_lambda/snapstart/after-restore",
        "AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{free_port()}",
    }
    log = tmp_path / "server.log"
    with _serve(_work_copy(projects.synced(), tmp_path), env, log) as url:
        for _ in range(3):
            assert _get(f"{url}/_lambda/health") == (200, {"status": "ok"})
        assert log.read_text().strip() == "" or "Uvicorn running" in log.read_text()
        assert _get(f"{url}/echo?message=first")[0] == 200
        assert _get(f"{url}/echo?message=warm")[0] == 200

        def post(path: str) -> int:
            request = urllib.request.Request(f"{url}{path}", data=b"", method="POST")
            with urllib.request.urlopen(request, timeout=30) as response:
                return int(response.status)

        assert post("/_lambda/snapstart/before-checkpoint") == 204
        assert post("/_lambda/snapstart/after-restore") == 204
        assert _get(f"{url}/_lambda/health")[0] == 200  # the adapter checks again
        assert _get(f"{url}/echo?message=restored")[0] == 200
        assert _get(f"{url}/echo?message=after")[0] == 200
        status, document = _get(f"{url}/openapi.json")
    assert status == 200
    assert not [path for path in document["paths"] if path.startswith("/_lambda")]
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    emf = [line for line in lines if "_aws" in line]
    # The probes are no requests: no EMF document, no log line; the cold starts are the first
    # request after start-up and the first after the restore.
    assert [d["route"] for d in emf if "Requests" in d] == ["GET /echo"] * 4 + ["GET /openapi.json"]
    assert len([d for d in emf if "ColdStart" in d]) == 2
    messages = [line.get("message") for line in lines if "_aws" not in line]
    assert messages == ["Ready for the SnapStart snapshot", "Restored from a SnapStart snapshot"]
