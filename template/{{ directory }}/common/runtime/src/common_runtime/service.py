"""One API's app and observability tools, built the same way for every API of the repository."""

from __future__ import annotations

import logging
import os
import sys
from typing import Any, Literal, TextIO

from aws_lambda_powertools import Logger, Tracer
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.middleware.cors import CORSMiddleware

from common_runtime.console import ConsoleFormatter, console_requested
from common_runtime.errors import DEFAULT_RESPONSES, add_error_schemas
from common_runtime.health import AdapterEndpoints
from common_runtime.limits import DEFAULT_MAX_BODY_SIZE, body_size_limit
from common_runtime.metrics import RequestMetrics
from common_runtime.middleware import ObservabilityMiddleware, RequestTracing
from common_runtime.request import RequestLogFilter
from common_runtime.safe_logging import dumps
from common_runtime.streaming import add_item_schemas


class _StdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to the current ``sys.stdout``, like the EMF metrics, so both stay in order."""

    @property
    def stream(self) -> TextIO:
        return sys.stdout

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        """The stream is always the current ``sys.stdout``."""


class _App(FastAPI):
    """FastAPI with the streaming item models in its OpenAPI components."""

    def __init__(self, **kwargs: Any) -> None:
        # The runtime traces each request itself, in the trace of its x-amzn-trace-id header;
        # FastAPI's own request spans would start a second, separate trace per request.
        kwargs.setdefault("telemetry", {"tracing": False})
        super().__init__(**kwargs)

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema:
            return self.openapi_schema
        schema = super().openapi()
        add_item_schemas(schema)
        add_error_schemas(schema)
        return schema


def _operation_id(route: APIRoute) -> str:
    """OperationIds are the route functions' names: the infrastructure maps operations by them."""
    return route.name


#: How traces reach AWS X-Ray: the OpenTelemetry SDK, or the X-Ray SDK (end of support
#: 2027-02-25). Each needs its extra of this package: ``common-runtime[opentelemetry]``,
#: ``common-runtime[xray-sdk]``.
TracingChoice = Literal["opentelemetry", "xray-sdk"]


def _tracing_enabled() -> bool:
    """Tracing runs on Lambda unless ``POWERTOOLS_TRACE_DISABLED`` says otherwise."""
    on_lambda = bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))
    disabled = os.environ.get("POWERTOOLS_TRACE_DISABLED", "").lower() in {"1", "true"}
    return on_lambda and not disabled


def _request_tracing(choice: TracingChoice, service: str) -> RequestTracing:
    """The chosen tracing; only its own packages are imported."""
    if choice == "xray-sdk":
        from common_runtime.xray import XRaySdkTracing

        return XRaySdkTracing(service, enabled=_tracing_enabled())
    from common_runtime.otel import OpenTelemetryTracing, enabled_by_environment

    return OpenTelemetryTracing(service, enabled=enabled_by_environment())


class Service:
    """An API's FastAPI ``app`` with its ``logger``, ``tracer`` and ``metrics``, all wired.

    Each request gets, from pure ASGI middleware:

    - a correlation id: the ``x-correlation-id`` header, else the Lambda request id that Lambda
      Web Adapter forwards in ``x-amzn-lambda-context``, else a new id; an id given with other
      characters than letters, digits and ``-_.:;=+/@`` or longer than 128 is replaced. It is
      in every log line of the request and in the ``X-Correlation-Id`` response header, errors
      included;
    - JSON logs carrying the correlation id, path, route template, method and cold start flag,
      and a ``Request completed`` line (status, latency) for every server error, or for every
      request at ``POWERTOOLS_LOG_LEVEL=DEBUG``. Every record stays one valid JSON line
      whatever a client sent (``safe_logging.py``);
    - CloudWatch metrics in one EMF document, written when the request ends: ``Requests``,
      ``Success`` (2xx), ``Failure`` or ``Disconnected`` (the client left a stream), ``Latency``
      per route template (``GET /items/{item_id}``, never the raw path), ``ColdStart`` once,
      and whatever the handler added to ``metrics``: its metrics, dimensions and metadata
      belong to its request only (``metrics.py``);
    - limits (``limits.py``): a body larger than ``max_body_size`` bytes (``MAX_BODY_SIZE``
      overrides it; 10 MiB by default, API Gateway's limit) is answered 413 while it is
      read; a JSON body with a lone surrogate 400; a query parameter repeated where the route
      takes one value 422;
    - a trace joined from the ``x-amzn-trace-id`` header that Lambda Web Adapter forwards, so
      the handler's subsegments are recorded, through ``tracing``: the OpenTelemetry SDK
      (``otel.py``, OTLP over UDP to Lambda's X-Ray endpoint; off Lambda, on only where
      ``AWS_XRAY_DAEMON_ADDRESS`` is set) or the X-Ray
      SDK (``xray.py``; off Lambda tracing is off);
    - a safe JSON 500 for unhandled exceptions, logged with their stack trace and counted;
    - CORS headers for the origins in ``ALLOWED_ORIGINS`` (comma-separated; all when unset), on
      every response including errors.

    Lambda Web Adapter's readiness check and SnapStart hooks are answered apart (``health``,
    ``snapstart``): they are not requests of the API.

    ``POWERTOOLS_SERVICE_NAME`` and ``POWERTOOLS_METRICS_NAMESPACE`` override ``name``. With
    ``LOG_FORMAT=console`` off Lambda (``run.sh`` in a terminal), log lines are readable text
    and no EMF document is written: there is no CloudWatch to read them locally.
    """

    def __init__(
        self,
        name: str,
        tracing: TracingChoice = "opentelemetry",
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
    ) -> None:
        self.name = os.environ.get("POWERTOOLS_SERVICE_NAME") or name
        self.namespace = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or name
        console = console_requested()
        self.logger = Logger(
            service=self.name,
            logger_handler=_StdoutHandler(),
            logger_formatter=ConsoleFormatter(json_serializer=dumps) if console else None,
            json_serializer=dumps,
        )
        self.logger.addFilter(RequestLogFilter())
        self.metrics = RequestMetrics(namespace=self.namespace, service=self.name)
        self.max_body_size = body_size_limit(max_body_size)
        request_tracing = _request_tracing(tracing, self.name)
        self.tracer: Tracer = request_tracing.tracer
        self.app: FastAPI = _App(
            title=name, generate_unique_id_function=_operation_id, responses=DEFAULT_RESPONSES
        )
        self.app.add_middleware(
            ObservabilityMiddleware,
            service=self.name,
            namespace=self.namespace,
            logger=self.logger,
            tracing=request_tracing,
            emit_metrics=not console,
            max_body_size=self.max_body_size,
        )
        # Added last, so outermost: error responses written by the middleware above get CORS
        # headers too.
        origins = [o.strip() for o in os.environ.get("ALLOWED_ORIGINS", "*").split(",")]
        self.app.add_middleware(
            CORSMiddleware,
            allow_origins=[o for o in origins if o] or ["*"],
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["x-correlation-id"],
        )
        # Outermost: Lambda Web Adapter's readiness check and SnapStart hooks are not requests
        # of the API (no cold start, metric, trace or log line of their own).
        self.app.add_middleware(AdapterEndpoints, logger=self.logger)
