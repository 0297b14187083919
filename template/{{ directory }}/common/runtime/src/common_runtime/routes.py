"""The build's check that every operation is declared once.

FastAPI serves the first route that matches a method and path, while the OpenAPI document, the
Lambda functions and the typed client are named after each route's function: a route declared
twice (a sample pasted under the generated one) would be served by one function and deployed
and called as another. The build refuses it, naming both declarations.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute


class DuplicateRouteError(ValueError):
    """Two routes share a method and path, or an operation id."""


def _where(endpoint: Callable[..., Any]) -> str:
    """``name (file:line)`` of a route's function, looking through its decorators."""
    function = inspect.unwrap(endpoint)
    try:
        source = inspect.getsourcefile(function) or "?"
        line = inspect.getsourcelines(function)[1]
    except (OSError, TypeError):
        return getattr(function, "__qualname__", repr(function))
    return f"{function.__qualname__} ({source}:{line})"


def check_unique_routes(app: FastAPI) -> None:
    """Raise :class:`DuplicateRouteError` if two routes of ``app`` share a method and path, or
    an operation id; the message names both functions and where they are declared."""
    by_path: dict[tuple[str, str], APIRoute] = {}
    by_operation: dict[str, APIRoute] = {}
    problems: list[str] = []
    for route in app.routes:
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        for method in sorted(route.methods or ()):
            first = by_path.setdefault((method, route.path), route)
            if first is not route:
                problems.append(
                    f"{method} {route.path} is declared twice: by {_where(first.endpoint)} "
                    f"(which FastAPI serves) and by {_where(route.endpoint)}"
                )
        operation = route.unique_id
        first = by_operation.setdefault(operation, route)
        if first is not route:
            problems.append(
                f"the operation id '{operation}' is used twice: by {_where(first.endpoint)} "
                f"and by {_where(route.endpoint)}"
            )
    if problems:
        raise DuplicateRouteError(
            "; ".join(problems) + ". Remove or rename one of each pair: every operation is "
            "declared once."
        )
