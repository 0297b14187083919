"""Tests of tracing: both choices off locally, and OpenTelemetry's spans as Lambda's X-Ray
endpoint receives them (OTLP over UDP)."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from threading import Thread
from typing import Any

import pytest
from fastapi.testclient import TestClient
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from common_runtime import Service

#: The header Lambda Web Adapter forwards, and its ids as OTLP has them.
ROOT, TRACE_ID = "1-5759e988-bd862e3fe1be46a9942727c1", "5759e988bd862e3fe1be46a9942727c1"
PARENT = "53995c3f42cd8ad8"


def decode(datagram: bytes) -> ExportTraceServiceRequest:
    """A datagram as Lambda's X-Ray endpoint reads it: a JSON header line, then ``T1S`` and
    the base64 of an OTLP export request."""
    header, _, body = datagram.partition(b"\n")
    assert json.loads(header) == {"format": "json", "version": 1}
    assert body[:3] == b"T1S"
    request: ExportTraceServiceRequest = ExportTraceServiceRequest.FromString(
        base64.b64decode(body[3:], validate=True)
    )
    return request


def _listen(sock: socket.socket, spans: list[Span]) -> None:
    while True:
        try:
            datagram = sock.recv(65536)
        except OSError:
            return
        for resource_spans in decode(datagram).resource_spans:
            for scope_spans in resource_spans.scope_spans:
                spans.extend(scope_spans.spans)


@pytest.fixture(scope="module")
def traced() -> Iterator[tuple[Service, list[Span]]]:
    """A service tracing with OpenTelemetry to a UDP socket standing in for Lambda's X-Ray
    endpoint, and the spans it received."""
    spans: list[Span] = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        Thread(target=_listen, args=(sock, spans), daemon=True).start()
        with pytest.MonkeyPatch.context() as env:
            env.setenv("AWS_XRAY_DAEMON_ADDRESS", f"127.0.0.1:{sock.getsockname()[1]}")
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


def _received(spans: list[Span], trace_id: str, count: int) -> dict[str, Span]:
    """The spans of ``trace_id`` once ``count`` of them arrived (UDP: a moment after)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        found = _trace(spans, trace_id)
        if len(found) >= count:
            return found
        time.sleep(0.01)
    return _trace(spans, trace_id)


def _trace(spans: list[Span], trace_id: str) -> dict[str, Span]:
    return {span.name: span for span in spans if span.trace_id.hex() == trace_id}


def _attributes(span: Span) -> dict[str, Any]:
    return {a.key: a.value for a in span.attributes}


def test_spans_join_the_header_trace_and_nest(traced: tuple[Service, list[Span]]) -> None:
    service, spans = traced
    header = {"x-amzn-trace-id": f"Root={ROOT};Parent={PARENT};Sampled=1"}
    with TestClient(service.app) as client:
        assert client.get("/traced/4", headers=header).json() == {"item_id": 4}
    by_name = _received(spans, TRACE_ID, 3)
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
    by_name = _received(spans, TRACE_ID[:-1] + "2", 3)
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
    assert _received(spans, TRACE_ID[:-1] + "4", 3)
    assert not _trace(spans, TRACE_ID[:-1] + "3")


def test_without_a_header_a_trace_starts_with_an_x_ray_trace_id(
    traced: tuple[Service, list[Span]],
) -> None:
    service, spans = traced
    started = time.time()
    with TestClient(service.app) as client:
        assert client.get("/traced/7").status_code == 200
    time.sleep(0.2)
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


def _spans_of(sizes: list[int]) -> list[Any]:
    """Ended SDK spans, each with an attribute of the given size."""
    from opentelemetry.sdk.trace import TracerProvider

    tracer = TracerProvider().get_tracer("sizes")
    spans = []
    for index, size in enumerate(sizes):
        span = tracer.start_span(f"span-{index}")
        span.set_attribute("blob", "x" * size)
        span.end()
        spans.append(span)
    return spans


def test_spans_are_split_over_datagrams_and_oversized_ones_dropped_and_counted() -> None:
    from common_runtime.otel_sdk import MAX_DATAGRAM, UdpSpanExporter

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)  # keep every datagram
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(5)
        exporter = UdpSpanExporter(sock.getsockname())
        # 120 spans of 2 kB: more than one datagram holds; one span larger than any datagram.
        spans = _spans_of([2000] * 60 + [MAX_DATAGRAM] + [2000] * 60)
        exporter.export(spans)
        assert exporter.dropped_spans == 1
        assert exporter.sent_datagrams > 1
        names: list[str] = []
        for _ in range(exporter.sent_datagrams):
            datagram = sock.recv(65536)
            assert len(datagram) <= MAX_DATAGRAM
            for resource_spans in decode(datagram).resource_spans:
                for scope_spans in resource_spans.scope_spans:
                    names.extend(span.name for span in scope_spans.spans)
    assert sorted(names) == sorted(f"span-{i}" for i in range(121) if i != 60)


def test_a_datagram_that_cannot_be_sent_is_dropped_and_counted_not_waited_on() -> None:
    from common_runtime.otel_sdk import UdpSpanExporter

    exporter = UdpSpanExporter(("127.0.0.1", 0))  # the kernel refuses it at once
    spans = _spans_of([10, 10])
    started = time.perf_counter()
    for _ in range(100):
        exporter.export(spans)
    assert time.perf_counter() - started < 1  # encoding only: about 10 ms unloaded
    assert (exporter.dropped_spans, exporter.sent_datagrams) == (200, 0)


@pytest.mark.parametrize(
    ("value", "address"),
    [
        (None, ("127.0.0.1", 2000)),
        ("169.254.79.129:2000", ("169.254.79.129", 2000)),
        ("tcp:127.0.0.1:2000 udp:127.0.0.2:2001", ("127.0.0.2", 2001)),
        ("nonsense", ("127.0.0.1", 2000)),
    ],
)
def test_the_x_ray_address_is_read_as_lambda_and_the_daemon_write_it(
    value: str | None, address: tuple[str, int]
) -> None:
    from common_runtime.otel_sdk import xray_address

    assert xray_address(value) == address
