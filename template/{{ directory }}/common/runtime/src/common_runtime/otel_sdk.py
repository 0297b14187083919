"""The process's OpenTelemetry tracer provider: X-Ray trace ids, OTLP over UDP to Lambda's X-Ray.

Imported by the first request that records spans. On Lambda, with active tracing, the function
has an X-Ray endpoint at ``AWS_XRAY_DAEMON_ADDRESS`` that takes OTLP spans over UDP: each
datagram is the line ``{"format":"json","version":1}``, then ``T1S`` (sampled spans) and the
base64 of an OTLP ``ExportTraceServiceRequest``. No collector runs beside the function; sending
a datagram never waits for anyone to receive it, so a sampled request costs the encoding of its
spans (tens of microseconds each), nothing more. A datagram that cannot be sent is dropped and
counted (``UdpSpanExporter.dropped_spans``), never retried.

The standard ``OTEL_*`` variables still configure the provider: ``OTEL_TRACES_SAMPLER`` (and
``..._ARG``), ``OTEL_SERVICE_NAME``, ``OTEL_RESOURCE_ATTRIBUTES`` and the attribute limits.
"""

from __future__ import annotations

import base64
import logging
import os
import socket
import threading
from collections.abc import Sequence

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.extension.aws.trace import AwsXRayIdGenerator
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

#: Where Lambda's X-Ray endpoint listens unless ``AWS_XRAY_DAEMON_ADDRESS`` says otherwise.
DEFAULT_ADDRESS = ("127.0.0.1", 2000)
#: The line every datagram starts with, then the payload's format: OTLP spans, sampled.
PROTOCOL_HEADER = b'{"format":"json","version":1}\n'
SAMPLED_PREFIX = b"T1S"
#: Largest datagram sent: a UDP datagram carries at most 65,507 bytes over IPv4.
MAX_DATAGRAM = 65_000
#: Ended spans kept for the next flush at most; past it they are sent at once.
MAX_PENDING = 256

_logger = logging.getLogger(__name__)
_lock = threading.Lock()
_provider: TracerProvider | None = None
_processor: RequestSpanProcessor | None = None


def xray_address(value: str | None) -> tuple[str, int]:
    """The UDP address in ``AWS_XRAY_DAEMON_ADDRESS``: ``host:port``, or the X-Ray daemon's
    ``tcp:host:port udp:host:port`` form."""
    if not value:
        return DEFAULT_ADDRESS
    parts = value.split()
    chosen = next((p[4:] for p in parts if p.startswith("udp:")), parts[0])
    host, _, port = chosen.rpartition(":")
    try:
        return host or DEFAULT_ADDRESS[0], int(port)
    except ValueError:
        _logger.warning("AWS_XRAY_DAEMON_ADDRESS %r is not host:port: using the default", value)
        return DEFAULT_ADDRESS


class UdpSpanExporter(SpanExporter):
    """Sends spans as OTLP over UDP to Lambda's X-Ray endpoint, never waiting.

    The OTLP encoding is ``opentelemetry-exporter-otlp-proto-common``'s; spans are split over
    as many datagrams as their size needs. The socket is non-blocking: a datagram the kernel
    will not take at once (buffer full, nothing routable) is dropped and counted.
    """

    def __init__(self, address: tuple[str, int] | None = None) -> None:
        self.address = address or xray_address(os.environ.get("AWS_XRAY_DAEMON_ADDRESS"))
        self.sent_datagrams = 0
        self.dropped_spans = 0
        self._socket: socket.socket | None = None

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Send ``spans`` now; SUCCESS unless some had to be dropped."""
        if not spans:
            return SpanExportResult.SUCCESS
        dropped = self._send(list(spans))
        if dropped:
            if not self.dropped_spans:
                _logger.warning(
                    "Trace spans dropped: the X-Ray endpoint %s:%d did not take them",
                    *self.address,
                )
            self.dropped_spans += dropped
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def _send(self, spans: list[ReadableSpan]) -> int:
        """Send ``spans`` in as few datagrams as fit; returns how many were dropped."""
        # Imported on the first export: its protobuf modules are not needed before.
        from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

        payload = encode_spans(spans).SerializeToString()
        datagram = PROTOCOL_HEADER + SAMPLED_PREFIX + base64.b64encode(payload)
        if len(datagram) > MAX_DATAGRAM:
            if len(spans) == 1:
                return 1  # a span larger than a datagram can never be sent
            half = len(spans) // 2
            return self._send(spans[:half]) + self._send(spans[half:])
        try:
            if self._socket is None:
                self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                self._socket.setblocking(False)
            self._socket.sendto(datagram, self.address)
        except OSError:
            return len(spans)
        self.sent_datagrams += 1
        return 0

    def reset(self) -> None:
        """Close the socket; the next export opens a new one (after a SnapStart restore)."""
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def shutdown(self) -> None:
        """Close the socket."""
        self.reset()


class RequestSpanProcessor(SpanProcessor):
    """Keeps the sampled spans that end until the request's response ends, then sends them.

    Lambda may freeze the environment as soon as it has the response, so nothing waits in a
    background thread: ``force_flush``, called by the request before its last message, sends
    every span ended so far, in the calling thread, without blocking on the network.
    """

    def __init__(self, exporter: UdpSpanExporter) -> None:
        self.exporter = exporter
        self._pending: list[ReadableSpan] = []
        self._lock = threading.Lock()

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        """Nothing to do when a span starts."""

    def on_end(self, span: ReadableSpan) -> None:
        """Keep ``span`` for the next flush (send at once if too many are waiting)."""
        if span.context is None or not span.context.trace_flags.sampled:
            return
        with self._lock:
            self._pending.append(span)
            full = len(self._pending) >= MAX_PENDING
        if full:
            self.force_flush()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Send every span ended so far."""
        with self._lock:
            spans, self._pending = self._pending, []
        if spans:
            self.exporter.export(spans)
        return True

    def shutdown(self) -> None:
        """Send what is left and close the socket."""
        self.force_flush()
        self.exporter.shutdown()


def _resource(service: str) -> Resource:
    """The service's resource: its name (unless ``OTEL_SERVICE_NAME`` gives one), Lambda's."""
    attributes: dict[str, str] = {}
    if not os.environ.get("OTEL_SERVICE_NAME"):
        attributes["service.name"] = service
    function = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
    if function:
        # X-Ray shows spans of this platform as the Lambda function's own.
        attributes.update(
            {"cloud.provider": "aws", "cloud.platform": "aws_lambda", "faas.name": function}
        )
        if region := os.environ.get("AWS_REGION"):
            attributes["cloud.region"] = region
    return Resource.create(attributes)


def tracer_provider(service: str) -> tuple[TracerProvider, RequestSpanProcessor]:
    """The process's tracer provider and its span processor, made once; the provider is set
    as the global one.

    Being global, OpenTelemetry instrumentation packages (botocore, httpx, ...) that you add
    trace into the same requests.
    """
    global _provider, _processor
    with _lock:
        if _provider is None:
            # No sampler given: the SDK reads OTEL_TRACES_SAMPLER (default: follow the
            # parent's decision, here the x-amzn-trace-id header's).
            _provider = TracerProvider(
                resource=_resource(service), id_generator=AwsXRayIdGenerator()
            )
            _processor = RequestSpanProcessor(UdpSpanExporter())
            _provider.add_span_processor(_processor)
            trace.set_tracer_provider(_provider)
        assert _processor is not None
        return _provider, _processor
