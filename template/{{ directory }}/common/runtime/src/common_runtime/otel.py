"""Tracing with the OpenTelemetry SDK behind Powertools' ``Tracer``, delivered to AWS X-Ray.

Each request joins the trace that Lambda Web Adapter forwards in the ``x-amzn-trace-id`` header
(root, parent, sampling decision) with a server span, the parent of every span the handler opens
(``@tracer.capture_method``, ``tracer.provider.in_subsegment(...)``). Spans live in the
request's context (contextvars), so concurrent requests never mix.

Trace ids come from the X-Ray id generator, so X-Ray accepts the traces that start here. A
sampled request's spans leave as OTLP over UDP to the X-Ray endpoint Lambda gives the function
(``AWS_XRAY_DAEMON_ADDRESS``), before its response ends, because Lambda may freeze the
environment as soon as it has the response; sending never waits on the network (``otel_sdk``).
No collector extension is involved. Sampling follows the header's decision, else
``OTEL_TRACES_SAMPLER``.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.propagators.aws import AwsXRayPropagator
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from pydantic import BaseModel

from common_runtime import snapstart
from common_runtime.request import current_request

#: The span attribute listing which attributes X-Ray indexes as annotations.
XRAY_ANNOTATIONS = "aws.xray.annotations"
_PROPAGATOR = AwsXRayPropagator()


def enabled_by_environment() -> bool:
    """Tracing is on on Lambda, elsewhere only where ``AWS_XRAY_DAEMON_ADDRESS`` names an
    endpoint (an X-Ray daemon or CloudWatch agent taking OTLP over UDP).

    ``OTEL_SDK_DISABLED=true``, ``OTEL_TRACES_EXPORTER=none`` or ``POWERTOOLS_TRACE_DISABLED``
    turn it off anywhere.
    """
    env = os.environ
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    if env.get("OTEL_TRACES_EXPORTER", "").strip().lower() == "none":
        return False
    if env.get("POWERTOOLS_TRACE_DISABLED", "").strip().lower() in {"1", "true"}:
        return False
    return bool(env.get("AWS_LAMBDA_FUNCTION_NAME") or env.get("AWS_XRAY_DAEMON_ADDRESS"))


def _attribute(value: Any) -> str | bool | int | float:
    """``value`` as a span attribute: scalars as they are, anything else as JSON."""
    if isinstance(value, str | bool | int | float):
        return value
    return json.dumps(value, default=_jsonable, separators=(",", ":"))


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return str(value)


def _annotate(span: Span, key: str, value: str | float | bool) -> None:
    """Set ``key`` on ``span`` and list it among the attributes X-Ray indexes."""
    if not span.is_recording():
        return
    span.set_attribute(key, value)
    attributes: Mapping[str, Any] = getattr(span, "attributes", None) or {}
    keys = tuple(attributes.get(XRAY_ANNOTATIONS, ()))
    if key not in keys:
        span.set_attribute(XRAY_ANNOTATIONS, (*keys, key))


def _put_metadata(span: Span, key: str, value: Any, namespace: str) -> None:
    """X-Ray keeps attributes it does not index as the segment's metadata."""
    if span.is_recording():
        name = key if namespace == "default" else f"{namespace}.{key}"
        span.set_attribute(name, _attribute(value))


class OpenTelemetrySegment(BaseSegment):
    """A span, seen as the X-Ray subsegment Powertools' ``Tracer`` expects."""

    def __init__(self, span: Span) -> None:
        self.span = span

    def close(self, end_time: int | None = None) -> None:
        """End the span (``end_time`` in epoch seconds, else now)."""
        self.span.end(None if end_time is None else int(end_time * 1e9))

    def add_subsegment(self, subsegment: Any) -> None:
        """Nothing to do: spans opened inside this one are its children already."""

    def remove_subsegment(self, subsegment: Any) -> None:
        """Nothing to do: a span's parent is fixed when it starts."""

    def put_annotation(self, key: str, value: Any) -> None:
        """Index ``key`` in X-Ray (an attribute listed in ``aws.xray.annotations``)."""
        _annotate(self.span, key, value)

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        """Record ``value`` as an attribute (X-Ray metadata), JSON when not a scalar."""
        _put_metadata(self.span, key, value, namespace)

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        """Record ``exception`` as an event of the span and mark the span failed."""
        self.span.record_exception(exception)
        self.span.set_status(Status(StatusCode.ERROR, type(exception).__name__))


class OpenTelemetryProvider(BaseProvider):
    """Powertools' tracing provider interface on an OpenTelemetry tracer."""

    def __init__(self, tracer: trace.Tracer) -> None:
        self.tracer = tracer

    @contextmanager
    def in_subsegment(self, name: str | None = None, **kwargs: Any) -> Iterator[BaseSegment]:
        """A span, child of the current one, for the block; its exception is recorded."""
        with self.tracer.start_as_current_span(name or "subsegment") as span:
            yield OpenTelemetrySegment(span)

    @asynccontextmanager
    async def in_subsegment_async(
        self, name: str | None = None, **kwargs: Any
    ) -> AsyncIterator[BaseSegment]:
        """``in_subsegment`` for ``async with``."""
        with self.in_subsegment(name, **kwargs) as segment:
            yield segment

    def put_annotation(self, key: str, value: Any) -> None:
        """Index ``key`` on the current span in X-Ray."""
        _annotate(trace.get_current_span(), key, value)

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        """Record ``value`` on the current span (X-Ray metadata)."""
        _put_metadata(trace.get_current_span(), key, value, namespace)

    def patch(self, modules: Sequence[str]) -> None:
        """Library calls are traced by OpenTelemetry instrumentation packages instead."""
        raise NotImplementedError(
            "With OpenTelemetry, trace library calls with its instrumentation packages "
            "(e.g. opentelemetry-instrumentation-botocore): they use this service's tracer "
            "provider, set as the global one."
        )

    def patch_all(self) -> None:
        """See ``patch``."""
        self.patch(())


class RequestTrace:
    """The server span of one request (none when unsampled) and the context it is current in."""

    __slots__ = ("finished", "span", "token")

    def __init__(self, span: Span | None, token: object) -> None:
        self.span = span
        self.token = token
        self.finished = span is None


class OpenTelemetryTracing:
    """Per-request tracing through the OpenTelemetry SDK (see the module's docstring)."""

    def __init__(self, service: str, enabled: bool) -> None:
        self.service = service
        self.enabled = enabled
        # On Lambda every invocation carries the header; requests without it are the adapter's
        # readiness checks, which would each start a sampled trace of their own.
        self.header_required = bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))
        self._flush: Callable[[], object] = lambda: None
        self._reset: Callable[[], object] = lambda: None
        self._sdk_loaded = False
        # The API's proxy tracer: a no-op one until the SDK is set up, the SDK's one after.
        tracer = trace.get_tracer("common_runtime") if enabled else trace.NoOpTracer()
        self.provider = OpenTelemetryProvider(tracer)
        # The provider decides what is recorded: `disabled` would reach for the X-Ray SDK.
        self.tracer = Tracer(
            service=service, disabled=False, auto_patch=False, provider=self.provider
        )
        if enabled:
            snapstart.register_before_checkpoint(self._before_checkpoint)
            snapstart.register_after_restore(self._after_restore)

    def _before_checkpoint(self) -> None:
        """Load the SDK and its encoder into the snapshot, and send what is pending."""
        if not self._sdk_loaded:
            self._load_sdk()
        import opentelemetry.exporter.otlp.proto.common.trace_encoder  # noqa: F401

        self._flush()

    def _after_restore(self) -> None:
        """A restored environment opens a socket of its own."""
        self._reset()

    def _load_sdk(self) -> None:
        """Set the SDK up, when the first request to record spans comes.

        Unsampled requests (most of them) need only the API, which FastAPI imports anyway:
        a cold start does not wait for the SDK's modules unless a trace needs them.
        """
        from common_runtime.otel_sdk import tracer_provider

        _provider, processor = tracer_provider(self.service)
        self._flush = processor.force_flush
        self._reset = processor.exporter.reset
        self._sdk_loaded = True

    def start_request(self, headers: Mapping[bytes, bytes]) -> RequestTrace | None:
        """Start the request's server span in the trace of its ``x-amzn-trace-id`` header.

        Without the header, a new trace starts (sampled by ``OTEL_TRACES_SAMPLER``), except on
        Lambda.
        """
        if not self.enabled:
            return None
        header = headers.get(b"x-amzn-trace-id", b"").decode("latin-1")
        if not header and self.header_required:
            return None
        parent = _PROPAGATOR.extract({"X-Amzn-Trace-Id": header})
        if header and not trace.get_current_span(parent).get_span_context().trace_flags.sampled:
            # Unsampled (most requests): nothing is recorded, so no span starts; spans opened
            # by the handler see the unsampled parent and are dropped too.
            return RequestTrace(None, otel_context.attach(parent))
        if not self._sdk_loaded:
            self._load_sdk()
        span = self.provider.tracer.start_span("request", context=parent, kind=SpanKind.SERVER)
        token = otel_context.attach(trace.set_span_in_context(span, parent))
        return RequestTrace(span, token)

    async def finish_request(
        self, request_trace: RequestTrace | None, status: int, error: BaseException | None
    ) -> None:
        """End the request's span and, when sampled, send the request's spans now."""
        if request_trace is None or request_trace.finished:
            return
        request_trace.finished = True
        span = request_trace.span
        if span is None:
            return
        if not span.is_recording():
            span.end()
            return
        request = current_request.get()
        if request is not None:
            span.update_name(f"{request.method} {request.route}")
            span.set_attribute("http.request.method", request.method)
            span.set_attribute("http.route", request.route)
            span.set_attribute("url.path", request.path)
            span.set_attribute("faas.coldstart", request.cold_start)
            _annotate(span, "ColdStart", request.cold_start)
            _annotate(span, "correlation_id", request.correlation_id)
        span.set_attribute("http.response.status_code", status)
        if error is not None:
            span.record_exception(error, escaped=True)
        if status >= 500:
            span.set_status(Status(StatusCode.ERROR))
        span.end()
        # UDP, non-blocking: encoding the spans is all the time this takes.
        self._flush()

    def end_request(self, request_trace: RequestTrace | None) -> None:
        """Leave the request's trace (its span ends here if the response never did)."""
        if request_trace is None:
            return
        if not request_trace.finished and request_trace.span is not None:
            # The client left or the response failed midway: its spans leave now.
            request_trace.finished = True
            request_trace.span.end()
            self._flush()
        otel_context.detach(request_trace.token)  # type: ignore[arg-type]
