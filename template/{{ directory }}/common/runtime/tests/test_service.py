"""Tests of the runtime: what every API's app gets, whatever its routes."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

from common_runtime import JsonStreamingResponse, Service

#: The `records` fixture: (log records, EMF documents) written so far.
Records = Callable[[], tuple[list[dict[str, Any]], list[dict[str, Any]]]]


@pytest.fixture
def probe_routes(service: Service) -> Iterator[None]:
    """Routes that fail or log, added for one test and removed after it."""
    app, logger, metrics = service.app, service.logger, service.metrics

    async def probe_fail() -> None:
        raise RuntimeError("secret internal detail")

    async def probe_log(label: str) -> dict[str, str]:
        await asyncio.sleep(0.01)  # let concurrent requests interleave
        logger.info("probe", extra={"label": label})
        metrics.add_metric(name="Probe", unit="Count", value=1)
        return {"label": label}

    before = list(app.router.routes)
    app.add_api_route("/probe/fail", probe_fail)
    app.add_api_route("/probe/log/{label}", probe_log)
    yield
    app.router.routes[:] = before


def test_correlation_id_comes_from_the_header(
    client: TestClient, records: Records, probe_routes: None
) -> None:
    response = client.get("/probe/log/a", headers={"x-correlation-id": "req-42"})
    assert response.headers["x-correlation-id"] == "req-42"
    logs, _ = records()
    assert [log["correlation_id"] for log in logs] == ["req-42"]


def test_correlation_id_falls_back_to_the_lambda_request_id(client: TestClient) -> None:
    context = json.dumps({"request_id": "lambda-request-1", "deadline": 0})
    response = client.get("/openapi.json", headers={"x-amzn-lambda-context": context})
    assert response.headers["x-correlation-id"] == "lambda-request-1"


def test_correlation_id_is_generated_when_absent(client: TestClient) -> None:
    first = client.get("/openapi.json").headers["x-correlation-id"]
    second = client.get("/openapi.json").headers["x-correlation-id"]
    assert first
    assert first != second


def test_unusable_correlation_ids_are_replaced(client: TestClient) -> None:
    response = client.get("/openapi.json", headers={"x-correlation-id": "x" * 500})
    assert response.headers["x-correlation-id"] != "x" * 500


def test_logs_carry_the_request_and_its_route_template(
    client: TestClient, records: Records, probe_routes: None
) -> None:
    client.get("/probe/log/a", headers={"x-correlation-id": "route-test"})
    logs, _ = records()
    (probe,) = [log for log in logs if log["message"] == "probe"]
    assert probe["correlation_id"] == "route-test"
    assert probe["path"] == "/probe/log/a"
    assert probe["route"] == "/probe/log/{label}"
    assert probe["method"] == "GET"
    assert "cold_start" in probe
    # Successful requests are counted in the metrics, not logged line by line...
    assert not [log for log in logs if log["message"] == "Request completed"]


def test_every_request_is_logged_at_debug_level(
    client: TestClient, records: Records, probe_routes: None, service: Service
) -> None:
    logger = service.logger
    level = logger.log_level
    logger.setLevel("DEBUG")
    try:
        client.get("/probe/log/a", headers={"x-correlation-id": "debug-1"})
    finally:
        logger.setLevel(level)
    logs, _ = records()
    (completed,) = [log for log in logs if log["message"] == "Request completed"]
    assert completed["correlation_id"] == "debug-1"
    assert completed["status"] == 200
    assert completed["route"] == "/probe/log/{label}"
    assert completed["latency_ms"] >= 0


def test_metrics_are_flushed_per_request_by_route_template(
    client: TestClient, records: Records, probe_routes: None
) -> None:
    client.get("/probe/log/a")
    client.get("/probe/log/b")
    client.get("/no/such/route")
    client.get("/openapi.json")
    _, emf = records()
    routes = [doc["route"] for doc in emf if "Requests" in doc]
    assert routes == [
        "GET /probe/log/{label}",
        "GET /probe/log/{label}",
        "GET UNMATCHED",
        "GET /openapi.json",
    ]
    missing = next(doc for doc in emf if doc.get("route") == "GET UNMATCHED")
    assert missing["Failure"] == 1
    assert missing["Requests"] == 1
    assert missing["Latency"] >= 0
    assert sum(doc.get("Probe", [0])[0] for doc in emf) == 2
    for doc in emf:
        assert doc["_aws"]["CloudWatchMetrics"][0]["Namespace"]


def test_unhandled_errors_give_a_safe_500(
    client: TestClient, records: Records, probe_routes: None, service: Service
) -> None:
    client_no_raise = TestClient(service.app, raise_server_exceptions=False)
    response = client_no_raise.get(
        "/probe/fail", headers={"x-correlation-id": "boom-1", "origin": "https://example.com"}
    )
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error", "correlation_id": "boom-1"}
    assert "secret" not in response.text
    assert response.headers["x-correlation-id"] == "boom-1"
    assert response.headers["access-control-allow-origin"] == "*"
    logs, emf = records()
    error = next(log for log in logs if log["message"] == "Unhandled exception")
    assert error["correlation_id"] == "boom-1"
    assert "RuntimeError: secret internal detail" in error["exception"]
    completed = next(log for log in logs if log["message"] == "Request completed")
    assert (completed["level"], completed["status"]) == ("ERROR", 500)
    assert completed["correlation_id"] == "boom-1"
    failures = [doc for doc in emf if doc.get("route") == "GET /probe/fail"]
    assert failures[0]["Failure"] == 1


def test_cors_headers_are_on_client_errors_too(client: TestClient) -> None:
    response = client.get("/no/such/route", headers={"origin": "https://example.com"})
    assert response.status_code == 404
    assert response.headers["access-control-allow-origin"] == "*"


def test_allowed_origins_restrict_cors() -> None:
    code = (
        "from fastapi.testclient import TestClient\n"
        "from common_runtime import Service\n"
        "c = TestClient(Service(name='cors-test').app)\n"
        "ok = c.get('/openapi.json', headers={'origin': 'https://b.example'})\n"
        "no = c.get('/openapi.json', headers={'origin': 'https://evil.example'})\n"
        "print(ok.headers.get('access-control-allow-origin'),"
        " no.headers.get('access-control-allow-origin'))\n"
    )
    env = {**os.environ, "ALLOWED_ORIGINS": "https://a.example, https://b.example"}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.split()[-2:] == ["https://b.example", "None"]


def test_concurrent_requests_keep_their_own_correlation_ids(
    records: Records, probe_routes: None, service: Service
) -> None:
    async def call_all() -> list[httpx2.Response]:
        transport = httpx2.ASGITransport(app=service.app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://test") as client:
            return await asyncio.gather(
                *(
                    client.get(f"/probe/log/{i}", headers={"x-correlation-id": f"id-{i}"})
                    for i in range(50)
                )
            )

    responses = asyncio.run(call_all())
    for i, response in enumerate(responses):
        assert response.headers["x-correlation-id"] == f"id-{i}"
        assert response.json() == {"label": str(i)}
    logs, _ = records()
    probes = [log for log in logs if log["message"] == "probe"]
    assert len(probes) == 50
    for log in probes:
        assert log["correlation_id"] == f"id-{log['label']}"
        assert log["path"] == f"/probe/log/{log['label']}"


def test_tracing_is_off_locally_without_errors(
    client: TestClient, records: Records, service: Service
) -> None:
    # The spec's custom subsegment sample runs locally without an X-Ray daemon.
    with service.tracer.provider.in_subsegment("local-work"):
        pass
    logs, _ = records()
    assert not [log for log in logs if log["level"] == "ERROR"]


def test_streaming_item_schemas_are_in_each_apps_own_document() -> None:
    class Line(BaseModel):
        text: str

    class Other(BaseModel):
        value: int

    first, second = Service(name="first"), Service(name="second")
    response = JsonStreamingResponse.openapi_response(Line, "Lines")
    JsonStreamingResponse.openapi_response(Other, "Other lines")

    @first.app.get("/lines", response_class=JsonStreamingResponse, responses={200: response})
    def lines() -> JsonStreamingResponse:
        return JsonStreamingResponse([Line(text="a"), {"text": "b"}])

    schema = first.app.openapi()
    media = schema["paths"]["/lines"]["get"]["responses"]["200"]["content"]["application/jsonl"]
    assert media["itemSchema"] == {"$ref": "#/components/schemas/Line"}
    assert schema["components"]["schemas"]["Line"]["properties"]["text"]["type"] == "string"
    assert "Other" not in schema["components"]["schemas"]
    assert "Line" not in second.app.openapi().get("components", {}).get("schemas", {})
    with TestClient(first.app) as client:
        response_lines = client.get("/lines")
    assert response_lines.headers["content-type"] == "application/jsonl"
    assert response_lines.text == '{"text":"a"}\n{"text":"b"}\n'


def test_console_format_is_readable_and_writes_no_metrics_documents() -> None:
    code = (
        "from fastapi.testclient import TestClient\n"
        "from common_runtime import Service\n"
        "service = Service(name='console-test')\n"
        "@service.app.get('/fail')\n"
        "def fail() -> None:\n"
        "    raise RuntimeError('shown with its traceback')\n"
        "service.logger.info('hello', extra={'item': 3})\n"
        "TestClient(service.app, raise_server_exceptions=False).get('/fail')\n"
    )
    env = {**os.environ, "LOG_FORMAT": "console", "NO_COLOR": "1"}
    env.pop("AWS_LAMBDA_FUNCTION_NAME", None)
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    lines = result.stdout.splitlines()
    assert not [line for line in lines if line.startswith("{")], "JSON or EMF in console mode"
    (hello,) = [line for line in lines if "hello" in line]
    assert "INFO" in hello
    assert "item=3" in hello
    (error,) = [line for line in lines if "Unhandled exception" in line]
    assert "GET /fail" in error
    assert "correlation_id=" in error
    assert "Traceback (most recent call last):" in lines
    assert "RuntimeError: shown with its traceback" in lines


def test_lambda_always_gets_json_whatever_log_format_says() -> None:
    code = "from common_runtime import Service\nService(name='on-lambda').logger.info('hello')\n"
    env = {**os.environ, "LOG_FORMAT": "console", "AWS_LAMBDA_FUNCTION_NAME": "fn",
           "POWERTOOLS_TRACE_DISABLED": "true"}  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    (line,) = result.stdout.splitlines()
    assert json.loads(line)["message"] == "hello"
