"""Traces of the generated service, served by run.sh as on Lambda, received on 127.0.0.1.

With `tracing=opentelemetry` the spans go over OTLP/HTTP to a small receiver that decodes the
protobuf payload with `opentelemetry-proto` (from the generated project's environment, where the
OTLP exporter brings it); with `tracing=xray-sdk` the segments go to a UDP socket standing in
for the X-Ray daemon. What happens past that wire (the collector extension, X-Ray itself) needs
AWS and is not tested here.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
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

#: An OTLP/HTTP receiver: writes each span it receives as a JSON line to argv[1] before it
#: answers, and prints its port.
RECEIVER = """
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest, ExportTraceServiceResponse,
)

out = open(sys.argv[1], "a", buffering=1)


def value(any_value):
    kind = any_value.WhichOneof("value")
    if kind == "array_value":
        return [value(v) for v in any_value.array_value.values]
    return getattr(any_value, kind) if kind else None


def attributes(items):
    return {a.key: value(a.value) for a in items}


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"]))
        request = ExportTraceServiceRequest.FromString(body)
        for resource_spans in request.resource_spans:
            resource = attributes(resource_spans.resource.attributes)
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    out.write(json.dumps({
                        "path": self.path,
                        "content_type": self.headers["content-type"],
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
        reply = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
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
    """The default (OpenTelemetry) service with the test routes, exporting to a receiver.

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
        endpoint = {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}"}
        with _serve(copy, endpoint, log) as url:
            yield url, spans, log
    finally:
        receiver.terminate()
        receiver.wait(timeout=10)


def _spans(spans: Path, trace_id: str) -> list[dict[str, Any]]:
    """The spans received so far for ``trace_id``."""
    received = [json.loads(line) for line in spans.read_text().splitlines()]
    return [span for span in received if span["trace_id"] == trace_id]


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
    # No waiting: a sampled request's spans are exported before its response ends.
    by_name = {span["name"]: span for span in _spans(spans, TRACE_ID)}
    request = by_name["GET /sample/traced/{item_id}"]
    assert request["parent_span_id"] == PARENT
    assert request["kind"] == SERVER
    assert request["path"] == "/v1/traces"
    assert request["content_type"] == "application/x-protobuf"
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
    (request,) = _spans(spans, failing)
    assert request["status"] == STATUS_ERROR
    (event,) = request["events"]
    assert event["name"] == "exception"
    assert event["attributes"]["exception.type"] == "RuntimeError"
    assert event["attributes"]["exception.message"] == "boom"
    assert "Traceback" in event["attributes"]["exception.stacktrace"]
    # A captured method that raises: the exception is on its own span.
    assert _get(f"{url}/fault/refuse/-1", _header(refused))[0] == 400
    by_name = {span["name"]: span for span in _spans(spans, refused)}
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
        by_name = {span["name"]: span for span in _spans(spans, trace_id)}
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
    assert len(_spans(spans, sampled)) == 3
    assert _spans(spans, unsampled) == []


@pytest.mark.slow
def test_on_lambda_requests_without_a_trace_header_record_nothing(
    otel: tuple[str, Path, Path],
) -> None:
    # Such requests are Lambda Web Adapter's readiness checks: no trace of their own.
    url, spans, log = otel
    assert _get(f"{url}/sample/traced/5")[0] == 200
    assert _get(f"{url}/sample/traced/6", _header(TRACE_ID[:-4] + "00c1"))[0] == 200
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
