"""The build refuses routes declared twice, naming both functions."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from common_runtime import Service
from common_runtime.routes import DuplicateRouteError, check_unique_routes


def _app(name: str) -> FastAPI:
    return Service(name=name).app


def test_distinct_routes_pass() -> None:
    app = _app("routes-distinct")

    @app.get("/items/{item_id}")
    def get_item(item_id: int) -> int:
        return item_id

    @app.post("/items/{item_id}")
    def update_item(item_id: int) -> int:
        return item_id

    check_unique_routes(app)


def test_the_same_method_and_path_twice_is_refused_with_both_functions() -> None:
    app = _app("routes-same-path")

    @app.get("/items/{item_id}")
    def get_item(item_id: int) -> int:
        return item_id

    @app.get("/items/{item_id}")
    def read_item(item_id: int) -> int:
        return item_id

    with pytest.raises(DuplicateRouteError) as refused:
        check_unique_routes(app)
    message = str(refused.value)
    assert "GET /items/{item_id} is declared twice" in message
    assert "get_item (" in message and "read_item (" in message
    assert "test_routes_unique.py:" in message


def test_one_function_name_for_two_routes_is_refused() -> None:
    app = _app("routes-same-name")

    @app.get("/a")
    def handler() -> str:
        return "a"

    def other() -> str:
        return "b"

    other.__name__ = "handler"
    app.get("/b")(other)

    with pytest.raises(DuplicateRouteError, match="operation id 'handler' is used twice"):
        check_unique_routes(app)
