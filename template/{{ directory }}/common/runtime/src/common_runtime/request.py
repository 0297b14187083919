"""What the logs and metrics of the request being served need to know about it."""

from __future__ import annotations

import contextvars
from typing import TYPE_CHECKING, Any

from starlette.routing import BaseRoute, Match
from starlette.types import Scope

if TYPE_CHECKING:
    from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import (
        AmazonCloudWatchEMFProvider,
    )


class Request:
    """The request being served: its correlation id, method, path and route template."""

    __slots__ = ("cold_start", "correlation_id", "method", "metric_set", "path", "scope")

    def __init__(self, scope: Scope, correlation_id: str, cold_start: bool) -> None:
        self.scope = scope
        self.correlation_id = correlation_id
        self.cold_start = cold_start
        self.method: str = scope["method"]
        self.path: str = scope["path"]
        #: The metrics its handler added (``RequestMetrics``), made on first use.
        self.metric_set: AmazonCloudWatchEMFProvider | None = None

    @property
    def route(self) -> str:
        """The matched route template (``/items/{item_id}``), or ``UNMATCHED``."""
        path = getattr(self.scope.get("route"), "path", None)
        if isinstance(path, str):
            return path
        # FastAPI's own routes (/openapi.json, /docs) are served without setting
        # scope["route"]: find them. Only those and unknown paths take this way.
        for route in getattr(self.scope.get("app"), "routes", ()):
            if isinstance(route, BaseRoute) and route.matches(self.scope)[0] is Match.FULL:
                path = getattr(route, "path", None)
                if isinstance(path, str):
                    return path
        return "UNMATCHED"


#: The request the current task serves (each request runs in its own context).
current_request: contextvars.ContextVar[Request | None] = contextvars.ContextVar(
    "current_request", default=None
)


class RequestLogFilter:
    """Adds the current request's fields to every log record (per request, via contextvars)."""

    def filter(self, record: Any) -> bool:
        """Annotate ``record``; never drops it."""
        request = current_request.get()
        if request is not None:
            record.correlation_id = request.correlation_id
            record.method = request.method
            record.path = request.path
            record.route = request.route
            record.cold_start = request.cold_start
        return True
