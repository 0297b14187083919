"""Pure ASGI middleware: correlation id, request logs, EMF metrics, tracing, limits, safe 500s.

Pure ASGI rather than ``BaseHTTPMiddleware`` (``@app.middleware("http")``), which halves
FastAPI's throughput.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from typing import Any, Protocol

from aws_lambda_powertools import Logger, Tracer
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common_runtime import snapstart
from common_runtime.correlation import correlation_id
from common_runtime.limits import (
    DEFAULT_MAX_BODY_SIZE,
    LimitedBody,
    declared_length,
    has_body,
    is_json,
    repeated_single_values,
)
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
    """Correlation id, request logs, EMF metrics, tracing, limits and safe errors of every
    request."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        service: str,
        namespace: str,
        logger: Logger,
        tracing: RequestTracing,
        emit_metrics: bool = True,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
    ) -> None:
        self.app = app
        self.service = service
        self.namespace = namespace
        self.logger = logger
        self.tracing = tracing
        self.emit_metrics = emit_metrics
        self.max_body_size = max_body_size
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
        started = completed = finished = False
        id_header = (b"x-correlation-id", request.correlation_id.encode("ascii"))

        async def send_with_id(message: Message) -> None:
            nonlocal status, started, completed, finished
            if message["type"] == "http.response.start":
                status = message["status"]
                started = True
                message["headers"] = [*message.get("headers", []), id_header]
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                completed = finished = True
                await self.tracing.finish_request(trace_token, status, None)
            await send(message)

        start = time.perf_counter()
        disconnected = failed = False
        try:
            refusal = None
            if b"content-length" in headers or b"&" in scope["query_string"]:
                refusal = self._refusal(scope, headers)
            if refusal is not None:
                status, body = refusal
                finished = True
                await self.tracing.finish_request(trace_token, status, None)
                await _send_json(send, status, body, id_header)
                started = completed = True
            else:
                if has_body(headers):
                    receive = LimitedBody(receive, self.max_body_size, is_json(headers))
                await self.app(scope, receive, send_with_id)
        except ClientDisconnect:
            # The client left: counted below, not a failure of the service.
            disconnected = True
            if not started:
                status = 499  # as nginx logs a request its client closed
        except Exception as error:
            status, failed = 500, True
            self.logger.exception("Unhandled exception")
            if not finished:
                finished = True
                await self.tracing.finish_request(trace_token, status, error)
            if not started:
                body = {"detail": "Internal Server Error", "correlation_id": request.correlation_id}
                await _send_json(send, 500, body, id_header)
                started = completed = True
        finally:
            latency_ms = (time.perf_counter() - start) * 1000
            # Headers sent but not the end: the client left during a streamed response.
            disconnected = disconnected or (started and not completed and not failed)
            if started and not finished:
                await self.tracing.finish_request(trace_token, status, None)
            if self.emit_metrics:
                record_request(
                    self.namespace, self.service, request, status, latency_ms,
                    disconnected=disconnected,
                )  # fmt: skip
            # Every request is in the metrics above and in API Gateway's access logs: the
            # app logs a line per request only at DEBUG, and for every server error.
            if status >= 500 and not disconnected:
                self.logger.error("Request completed", extra=_outcome(status, latency_ms))
            elif self.logger.log_level <= logging.DEBUG:
                outcome = _outcome(status, latency_ms)
                if disconnected:
                    outcome["disconnected"] = True
                self.logger.debug("Request completed", extra=outcome)
            self.tracing.end_request(trace_token)
            current_request.reset(request_token)

    def _refusal(self, scope: Scope, headers: dict[bytes, bytes]) -> tuple[int, Any] | None:
        """The status and body answering a request refused before the app sees it, if so."""
        length = declared_length(headers)
        if length is not None and length > self.max_body_size:
            return 413, {"detail": "Content Too Large"}
        errors = repeated_single_values(scope)
        if errors:
            return 422, {"detail": errors}
        return None


async def _send_json(send: Send, status: int, body: Any, id_header: tuple[bytes, bytes]) -> None:
    """A JSON response written by the middleware itself (a refusal, or a safe 500)."""
    encoded = json.dumps(body, separators=(",", ":")).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
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
