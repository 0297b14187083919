"""Tests of tracing: both choices off locally, and OpenTelemetry's spans as an OTLP endpoint
receives them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread
from typing import Any

import pytest
from fastapi.testclient import TestClient
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from common_runtime import Service

#: The header Lambda Web Adapter forwards, and its ids as OTLP has them.
ROOT, TRACE_ID = "1-5759e988-bd862e3fe1be46a9942727c1", "5759e988bd862e3fe1be46a9942727c1"
PARENT = "53995c3f42cd8ad8"


class _Collector(BaseHTTPRequestHandler):
    """An OTLP/HTTP endpoint keeping every span it receives."""

    spans: list[Span]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        request = ExportTraceServiceRequest.FromString(body)
        for resource_spans in request.resource_spans:
            for scope_spans in resource_spans.scope_spans:
                self.spans.extend(scope_spans.spans)
        reply = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests read the spans."""


@pytest.fixture(scope="module")
def traced() -> Iterator[tuple[Service, list[Span]]]:
    """A service tracing with OpenTelemetry to a local OTLP endpoint, and what it received."""
    spans: list[Span] = []
    handler = type("Collector", (_Collector,), {"spans": spans})
    with ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        Thread(target=server.serve_forever, daemon=True).start()
        endpoint = f"http://127.0.0.1:{server.server_address[1]}"
        with pytest.MonkeyPatch.context() as env:
            env.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
            service = Service(name="traced-test", tracing="opentelemetry")

            @service.app.get("/traced/{item_id}")
            @service.tracer.capture_method
            def traced_item(item_id: int) -> dict[str, int]:
                with service.tracer.provider.in_subsegment("inner") as segment:
                    segment.put_annotation("item", str(item_id))
                    segment.put_metadata("detail", {"id": item_id})
                if item_id < 0:
                    raise ValueError("negative")
                return {"item_id": item_id}

            yield service, spans
        server.shutdown()


def _trace(spans: list[Span], trace_id: str) -> dict[str, Span]:
    return {span.name: span for span in spans if span.trace_id.hex() == trace_id}


def _attributes(span: Span) -> dict[str, Any]:
    return {a.key: a.value for a in span.attributes}


def test_spans_join_the_header_trace_and_nest(traced: tuple[Service, list[Span]]) -> None:
    service, spans = traced
    header = {"x-amzn-trace-id": f"Root={ROOT};Parent={PARENT};Sampled=1"}
    with TestClient(service.app) as client:
        assert client.get("/traced/4", headers=header).json() == {"item_id": 4}
    # Exported before the response ended: nothing to wait for.
    by_name = _trace(spans, TRACE_ID)
    request = by_name["GET /traced/{item_id}"]
    method = next(span for name, span in by_name.items() if name.endswith("traced_item"))
    inner = by_name["inner"]
    assert request.parent_span_id.hex() == PARENT
    assert (method.parent_span_id, inner.parent_span_id) == (request.span_id, method.span_id)
    attributes = _attributes(inner)
    assert attributes["item"].string_value == "4"
    assert attributes["detail"].string_value == '{"id":4}'
    annotations = [v.string_value for v in attributes["aws.xray.annotations"].array_value.values]
    assert annotations == ["item"]
    assert _attributes(request)["http.route"].string_value == "/traced/{item_id}"


def test_a_failing_handler_records_its_exception(traced: tuple[Service, list[Span]]) -> None:
    service, spans = traced
    root = ROOT[:-1] + "2"
    header = {"x-amzn-trace-id": f"Root={root};Parent={PARENT};Sampled=1"}
    with TestClient(service.app, raise_server_exceptions=False) as client:
        assert client.get("/traced/-1", headers=header).status_code == 500
    by_name = _trace(spans, TRACE_ID[:-1] + "2")
    request = by_name["GET /traced/{item_id}"]
    assert [event.name for event in request.events] == ["exception"]
    assert request.status.code == request.status.STATUS_CODE_ERROR


def test_unsampled_requests_record_nothing(traced: tuple[Service, list[Span]]) -> None:
    service, spans = traced
    root = ROOT[:-1] + "3"
    header = {"x-amzn-trace-id": f"Root={root};Parent={PARENT};Sampled=0"}
    with TestClient(service.app) as client:
        assert client.get("/traced/5", headers=header).status_code == 200
        sampled = {"x-amzn-trace-id": f"Root={ROOT[:-1]}4;Parent={PARENT};Sampled=1"}
        assert client.get("/traced/6", headers=sampled).status_code == 200
    assert _trace(spans, TRACE_ID[:-1] + "4")
    assert not _trace(spans, TRACE_ID[:-1] + "3")


def test_without_a_header_a_trace_starts_with_an_x_ray_trace_id(
    traced: tuple[Service, list[Span]],
) -> None:
    service, spans = traced
    started = time.time()
    with TestClient(service.app) as client:
        assert client.get("/traced/7").status_code == 200
    (request,) = [span for span in spans if span.name == "GET /traced/{item_id}"][-1:]
    assert not request.parent_span_id
    # X-Ray reads the first 32 bits of a trace id as its start time, in epoch seconds.
    assert started - 5 <= int(request.trace_id.hex()[:8], 16) <= time.time() + 5


@pytest.mark.parametrize("choice", ["opentelemetry", "xray-sdk"])
def test_locally_tracing_is_off_and_imports_no_tracing_sdk(choice: str) -> None:
    code = (
        "import sys, warnings\n"
        "warnings.simplefilter('error')\n"
        "from common_runtime import Service\n"
        f"service = Service(name='local', tracing={choice!r})\n"
        "with service.tracer.provider.in_subsegment('local-work'):\n"
        "    pass\n"
        "print(sorted({m.split('.')[0] for m in sys.modules if m.startswith("
        "('opentelemetry.sdk', 'opentelemetry.exporter', 'aws_xray_sdk'))}))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AWS_"))}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    # The X-Ray SDK choice needs its SDK to build Powertools' default provider.
    assert result.stdout.split("\n")[-2] == ("['aws_xray_sdk']" if choice == "xray-sdk" else "[]")
    assert result.stderr == ""


def test_on_lambda_unsampled_requests_never_load_the_sdk() -> None:
    # Most requests are unsampled: a cold start does not wait for the SDK's modules for them.
    code = (
        "import sys\n"
        "from fastapi.testclient import TestClient\n"
        "from common_runtime import Service\n"
        "client = TestClient(Service(name='lambda', tracing='opentelemetry').app)\n"
        f"header = {{'x-amzn-trace-id': 'Root={ROOT};Parent={PARENT};Sampled=0'}}\n"
        "assert client.get('/openapi.json', headers=header).status_code == 200\n"
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry.sdk')))\n"
    )
    env = {**os.environ, "AWS_LAMBDA_FUNCTION_NAME": "lambda-test", "AWS_REGION": "us-east-1"}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.split("\n")[-2] == "[]"
