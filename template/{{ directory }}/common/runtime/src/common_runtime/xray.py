"""Tracing with the AWS X-Ray SDK, behind Powertools' ``Tracer``.

Under Lambda Web Adapter the trace context arrives as the ``x-amzn-trace-id`` request header
(the adapter does not set ``_X_AMZN_TRACE_ID``): each request joins that trace as a facade
segment held in a context variable, so subsegments of concurrent requests never mix.
"""

from __future__ import annotations

import contextvars
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Tracer
from aws_xray_sdk.core import xray_recorder
from aws_xray_sdk.core.context import Context
from aws_xray_sdk.core.models.facade_segment import FacadeSegment
from aws_xray_sdk.core.models.trace_header import TraceHeader

Token = contextvars.Token[list[Any] | None]


class RequestTraceContext(Context):
    """X-Ray context whose trace entities belong to the current request (a ContextVar).

    The SDK's default context is thread-local: requests served concurrently on one event loop
    would share it. Each request gets its own list of entities instead.
    """

    _entities: contextvars.ContextVar[list[Any] | None] = contextvars.ContextVar(
        "xray_entities", default=None
    )

    def __init__(self) -> None:
        super().__init__(context_missing="IGNORE_ERROR")

    def put_segment(self, segment: Any) -> None:
        self._entities.set([segment])

    def set_trace_entity(self, trace_entity: Any) -> None:
        self._entities.set([trace_entity])

    def put_subsegment(self, subsegment: Any) -> None:
        entities = self._entities.get()
        if not entities:
            return
        entities[-1].add_subsegment(subsegment)
        entities.append(subsegment)

    def end_subsegment(self, end_time: Any = None) -> bool:
        entities = self._entities.get()
        if not entities or getattr(entities[-1], "type", None) != "subsegment":
            return False
        entities.pop().close(end_time)
        return True

    def get_trace_entity(self) -> Any:
        entities = self._entities.get()
        if entities:
            return entities[-1]
        return super().get_trace_entity()  # a dummy segment when tracing is off

    def clear_trace_entities(self) -> None:
        entities = self._entities.get()
        if entities:
            entities.clear()

    def start_request(self, trace_header: str | None) -> Token:
        """Join the request's trace (from ``x-amzn-trace-id``) as a facade segment."""
        header = TraceHeader.from_header_str(trace_header)
        if header.root and header.parent and header.sampled is not None:
            facade = FacadeSegment(
                name="facade",
                entityid=header.parent,
                traceid=header.root,
                sampled=header.sampled == 1,
            )
            return self._entities.set([facade])
        return self._entities.set(None)

    def end_request(self, token: Token) -> None:
        """Forget the request's trace entities."""
        self._entities.reset(token)


class XRaySdkTracing:
    """Per-request X-Ray tracing through the X-Ray SDK (Powertools' default provider)."""

    def __init__(self, service: str, enabled: bool) -> None:
        # Patching every supported library would import botocore's clients at start-up; patch
        # the ones your code uses with `tracer.patch(["botocore"])` to trace their calls.
        self.tracer = Tracer(service=service, disabled=not enabled, auto_patch=False)
        self.enabled = enabled
        self._context = RequestTraceContext()
        if enabled:
            # Subsegments are sent as soon as they close: the facade segment never is.
            xray_recorder.configure(
                context=self._context,
                streaming_threshold=0,
                context_missing="IGNORE_ERROR",
                service=service,
            )

    def start_request(self, headers: Mapping[bytes, bytes]) -> Token | None:
        """Join the trace of the request whose ``headers`` these are."""
        if not self.enabled:
            return None
        return self._context.start_request(headers.get(b"x-amzn-trace-id", b"").decode("latin-1"))

    async def finish_request(
        self, token: Token | None, status: int, error: BaseException | None
    ) -> None:
        """Nothing to deliver: each subsegment was sent when it closed."""

    def end_request(self, token: Token | None) -> None:
        """Leave the request's trace."""
        if token is not None:
            self._context.end_request(token)
