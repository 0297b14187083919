"""The process's OpenTelemetry tracer provider: X-Ray trace ids, OTLP/HTTP export.

Imported by the first request that records spans. The standard ``OTEL_*`` environment
variables configure it: ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``..._TRACES_ENDPOINT``),
``..._HEADERS``, ``..._TIMEOUT``, ``OTEL_TRACES_SAMPLER`` (and ``..._ARG``),
``OTEL_SERVICE_NAME``, ``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_BSP_*`` and the attribute limits.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence

from opentelemetry import trace
from opentelemetry.sdk.extension.aws.trace import AwsXRayIdGenerator
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

#: Seconds an export may take, retries included, unless ``OTEL_EXPORTER_OTLP_TIMEOUT`` says
#: otherwise. Sampled requests wait for their export (the collector on localhost answers in
#: milliseconds): a missing collector must not hold them for the SDK's default 10 s.
EXPORT_TIMEOUT = 1.0

_lock = threading.Lock()
_provider: TracerProvider | None = None


class LazyOtlpExporter(SpanExporter):
    """The OTLP/HTTP span exporter, imported when it first has spans to send.

    Its HTTP client and protobuf modules take about 0.1 s to import: on Lambda that would be
    added to every cold start, although most requests are not sampled and export nothing.
    """

    def __init__(self) -> None:
        self._exporter: SpanExporter | None = None

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Send ``spans`` to the OTLP endpoint (the ``OTEL_EXPORTER_OTLP_*`` variables)."""
        if self._exporter is None:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            timeouts = ("OTEL_EXPORTER_OTLP_TIMEOUT", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT")
            given = any(os.environ.get(name) for name in timeouts)
            self._exporter = OTLPSpanExporter(timeout=None if given else EXPORT_TIMEOUT)
        return self._exporter.export(spans)

    def shutdown(self) -> None:
        """Shut the exporter down, if it was ever used."""
        if self._exporter is not None:
            self._exporter.shutdown()


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


def tracer_provider(service: str) -> TracerProvider:
    """The process's tracer provider, made once and set as the global one.

    Being global, OpenTelemetry instrumentation packages (botocore, httpx, ...) that you add
    trace into the same requests.
    """
    global _provider
    with _lock:
        if _provider is None:
            # No sampler given: the SDK reads OTEL_TRACES_SAMPLER (default: follow the
            # parent's decision, here the x-amzn-trace-id header's).
            _provider = TracerProvider(
                resource=_resource(service), id_generator=AwsXRayIdGenerator()
            )
            _provider.add_span_processor(BatchSpanProcessor(LazyOtlpExporter()))
            trace.set_tracer_provider(_provider)
        return _provider
