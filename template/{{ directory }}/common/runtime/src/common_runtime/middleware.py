"""Pure ASGI middleware: correlation id, request logs, EMF metrics, tracing and safe 500s.

Pure ASGI rather than ``BaseHTTPMiddleware`` (``@app.middleware("http")``), which halves
FastAPI's throughput.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from typing import Any, Protocol

from aws_lambda_powertools import Logger, Metrics, Tracer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common_runtime import snapstart
from common_runtime.correlation import correlation_id
from common_runtime.metrics import record_request
from common_runtime.request import Request, current_request


class RequestTracing(Protocol):
    """Joins each request to its trace and leaves it when the request ends."""

    #: The Powertools tracer the handlers use.
    tracer: Tracer

    def start_request(self, headers: Mapping[bytes, bytes]) -> Any:
        """Start tracing the request; returns what the other methods need."""

    async def finish_request(self, token: Any, status: int, error: BaseException | None) -> None:
        """The response is about to end (or failed): close the trace and deliver it now.

        Called before the response's last message, at most once per request that has a
        response: Lambda may freeze the environment as soon as the response ends.
        """

    def end_request(self, token: Any) -> None:
        """Stop tracing the request (whether or not ``finish_request`` was called)."""


class ObservabilityMiddleware:
    """Correlation id, request logs, EMF metrics, tracing and safe 500s of every request."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        service: str,
        namespace: str,
        logger: Logger,
        metrics: Metrics,
        tracing: RequestTracing,
        emit_metrics: bool = True,
    ) -> None:
        self.app = app
        self.service = service
        self.namespace = namespace
        self.logger = logger
        self.metrics = metrics
        self.tracing = tracing
        self.emit_metrics = emit_metrics
        self._cold_start = True
        # A SnapStart restore starts a new environment: its first request is the cold start.
        snapstart.register_after_restore(self._restored)

    def _restored(self) -> None:
        self._cold_start = True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cold_start, self._cold_start = self._cold_start, False
        headers = dict(scope["headers"])
        request = Request(scope, correlation_id(headers), cold_start)
        request_token = current_request.set(request)
        trace_token = self.tracing.start_request(headers)
        status = 500
        started = False
        id_header = (b"x-correlation-id", request.correlation_id.encode("latin-1", "replace"))

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status = message["status"]
                started = True
                message["headers"] = [*message.get("headers", []), id_header]
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                await self.tracing.finish_request(trace_token, status, None)
            await send(message)

        start = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        except Exception as error:
            status = 500
            self.logger.exception("Unhandled exception")
            await self.tracing.finish_request(trace_token, status, error)
            if not started:
                await self._send_internal_error(send, request.correlation_id, id_header)
        finally:
            latency_ms = (time.perf_counter() - start) * 1000
            if self.emit_metrics:
                record_request(
                    self.metrics, self.namespace, self.service, request, status, latency_ms
                )
            else:
                self.metrics.clear_metrics()
            # Every request is in the metrics above and in API Gateway's access logs: the
            # app logs a line per request only at DEBUG, and for every server error.
            if status >= 500:
                self.logger.error("Request completed", extra=_outcome(status, latency_ms))
            elif self.logger.log_level <= logging.DEBUG:
                self.logger.debug("Request completed", extra=_outcome(status, latency_ms))
            self.tracing.end_request(trace_token)
            current_request.reset(request_token)

    @staticmethod
    async def _send_internal_error(
        send: Send, correlation: str, id_header: tuple[bytes, bytes]
    ) -> None:
        """A safe JSON 500: no detail of the failure, only the id to find it in the logs."""
        body = json.dumps({"detail": "Internal Server Error", "correlation_id": correlation})
        encoded = body.encode()
        await send(
            {
                "type": "http.response.start",
                "status": 500,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(encoded)).encode()),
                    id_header,
                ],
            }
        )
        await send({"type": "http.response.body", "body": encoded})


def _outcome(status: int, latency_ms: float) -> dict[str, Any]:
    """The log fields of a finished request."""
    return {"status": status, "latency_ms": round(latency_ms, 2)}
