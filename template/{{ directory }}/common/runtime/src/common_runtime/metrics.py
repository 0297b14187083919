"""Per-request CloudWatch metrics, written as one EMF document per request on stdout.

Powertools' ``Metrics`` keeps one set of metrics, dimensions and metadata per process: two
requests served at the same time would add to, and flush, each other's. :class:`RequestMetrics`
is a ``Metrics`` whose every call (``add_metric``, ``add_dimension``, ``add_metadata``, ...)
goes to the metric set of the request being served, found through a context variable, so it
holds for async handlers, handlers run in the thread pool and streamed responses alike. When
the request ends, its set is written in the same EMF document as the request's own metrics.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any, Generic, Self, TypeVar, overload

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import (
    AmazonCloudWatchEMFProvider,
)

from common_runtime.request import Request, current_request

#: The metrics of every request, as declared in its EMF document (values follow per request).
REQUEST_METRICS = [
    {"Name": "Requests", "Unit": "Count"},
    {"Name": "Success", "Unit": "Count"},
    {"Name": "Failure", "Unit": "Count"},
    {"Name": "Latency", "Unit": "Milliseconds"},
]
#: Declared instead when the client left before the response ended (a stream it abandoned):
#: neither a success nor a failure of the service.
DISCONNECTED_METRICS = [*REQUEST_METRICS[:3], {"Name": "Disconnected", "Unit": "Count"},
                        REQUEST_METRICS[3]]  # fmt: skip
_T = TypeVar("_T")
_COLD_START = {"Dimensions": [["service"]], "Metrics": [{"Name": "ColdStart", "Unit": "Count"}]}


class _OfTheRequest(Generic[_T]):
    """An attribute of ``Metrics`` read from the metric set of the request being served; it
    cannot be replaced, as the set is the request's."""

    _name = ""

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self._name = name

    @overload
    def __get__(self, instance: None, owner: type[Any] | None = None) -> Self: ...

    @overload
    def __get__(self, instance: RequestMetrics, owner: type[Any] | None = None) -> _T: ...

    def __get__(self, instance: RequestMetrics | None, owner: type[Any] | None = None) -> _T | Self:
        if instance is None:  # on the class, as a property is: the attribute itself
            return self
        value: _T = getattr(instance.provider, self._name)
        return value

    def __set__(self, instance: RequestMetrics, _value: _T) -> None:
        raise AttributeError(f"{self._name} belongs to the request being served")


class RequestMetrics(Metrics):
    """Powertools ``Metrics`` whose metrics, dimensions and metadata belong to one request.

    Outside a request (at import, in a thread started without the request's context) calls go
    to a set of the process, which only an explicit ``flush_metrics()`` writes. Default
    dimensions (``set_default_dimensions``) are the process's, added to every request's set.
    """

    def __init__(self, namespace: str, service: str) -> None:
        # Metrics.__init__ is not called: it binds the process-wide sets this class replaces.
        self._namespace = namespace
        self._service = service
        self._default_dimensions: dict[str, Any] = {}
        self._process = self._new_provider()

    def _new_provider(self) -> AmazonCloudWatchEMFProvider:
        return AmazonCloudWatchEMFProvider(
            namespace=self._namespace,
            service=self._service,
            default_dimensions=self._default_dimensions,
        )

    @property
    def provider(self) -> AmazonCloudWatchEMFProvider:
        """The metric set of the request being served (made on its first use)."""
        request = current_request.get()
        if request is None:
            return self._process
        provider = request.metric_set
        if provider is None:
            provider = request.metric_set = self._new_provider()
        return provider

    @provider.setter
    def provider(self, _value: AmazonCloudWatchEMFProvider) -> None:
        raise AttributeError("each request has its own provider")

    metric_set: _OfTheRequest[dict[str, Any]] = _OfTheRequest()
    dimension_set: _OfTheRequest[dict[str, str]] = _OfTheRequest()
    metadata_set: _OfTheRequest[dict[str, Any]] = _OfTheRequest()

    def log_metrics(
        self,
        lambda_handler: Callable[..., Any] | None = None,
        capture_cold_start_metric: bool = False,
        raise_on_empty_metrics: bool = False,
        default_dimensions: dict[str, str] | None = None,
        **kwargs: dict[str, Any],
    ) -> Callable[..., Any]:
        """Powertools' decorator, kept for code written for it: the runtime already writes each
        request's metrics (and the cold start) when the request ends, so the handler is
        returned as it is; ``default_dimensions`` are set."""
        if default_dimensions:
            self.set_default_dimensions(**default_dimensions)
        if lambda_handler is None:
            return lambda handler: handler
        return lambda_handler

    @property
    def default_dimensions(self) -> dict[str, Any]:
        """Dimensions of the process, added to every request's metrics."""
        return self._default_dimensions

    @default_dimensions.setter
    def default_dimensions(self, _value: dict[str, Any]) -> None:
        raise AttributeError("use set_default_dimensions()")


def request_document(
    namespace: str,
    service: str,
    request: Request,
    status: int,
    latency_ms: float,
    disconnected: bool = False,
) -> dict[str, Any]:
    """The EMF document of one request: its outcome per route template and service."""
    success = 200 <= status < 300 and not disconnected
    directives: list[dict[str, Any]] = [
        {
            "Namespace": namespace,
            "Dimensions": [["route", "service"]],
            "Metrics": DISCONNECTED_METRICS if disconnected else REQUEST_METRICS,
        }
    ]
    document: dict[str, Any] = {
        "_aws": {"Timestamp": int(time.time() * 1000), "CloudWatchMetrics": directives},
        "route": f"{request.method} {request.route}",
        "service": service,
        "Requests": 1,
        "Success": 1 if success else 0,
        "Failure": 0 if success or disconnected else 1,
        "Latency": latency_ms,
    }
    if disconnected:
        document["Disconnected"] = 1
    if request.cold_start:
        directives.append({"Namespace": namespace, **_COLD_START})
        document["ColdStart"] = 1
    return document


def _handler_document(provider: AmazonCloudWatchEMFProvider) -> dict[str, Any] | None:
    """What the handler added to its request's metric set, as an EMF document, if anything."""
    if not provider.metric_set:
        return None
    return dict(provider.serialize_metric_set())


def _merge(document: dict[str, Any], handler: dict[str, Any]) -> bool:
    """Add the handler's metrics to the request's ``document``, unless a key clashes."""
    handler_aws = handler.pop("_aws")
    if any(document.get(key, value) != value for key, value in handler.items()):
        handler["_aws"] = handler_aws
        return False
    document["_aws"]["CloudWatchMetrics"].extend(handler_aws["CloudWatchMetrics"])
    document.update(handler)
    return True


def record_request(
    namespace: str,
    service: str,
    request: Request,
    status: int,
    latency_ms: float,
    *,
    disconnected: bool = False,
) -> None:
    """Write the request's EMF document, with what its handler added to ``metrics``, now.

    One document per request, with its own dimensions: concurrent requests never mix. Its
    shape is mostly fixed, so it is written directly: a fifth of the cost of building and
    validating a Powertools metric set on every request. The handler's metrics join it (as
    further directives) unless they set their own timestamp or reuse one of its keys with
    another value; then they follow as a second document.
    """
    document = request_document(namespace, service, request, status, latency_ms, disconnected)
    handler: dict[str, Any] | None = None
    provider = request.metric_set
    if provider is not None:
        handler = _handler_document(provider)
        provider.clear_metrics()
        if handler is not None and provider.timestamp is None and _merge(document, handler):
            handler = None
    stdout = sys.stdout
    stdout.write(json.dumps(document, separators=(",", ":")) + "\n")
    if handler is not None:
        stdout.write(json.dumps(handler, separators=(",", ":")) + "\n")
    # Lambda freezes the process between invocations: nothing may wait in a buffer.
    stdout.flush()
