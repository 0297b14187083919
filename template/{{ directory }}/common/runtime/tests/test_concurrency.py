"""Concurrency: metrics and logs stay with their request, streams neither block the server nor
outlive their client, and oversized bodies are refused before they are read whole."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx2
import pytest
from aws_lambda_powertools.metrics import MetricUnit
from fastapi import Request

from common_runtime import JsonStreamingResponse, Service

#: What the streams of these tests did, by label: "closed" once their generator was closed.
EVENTS: dict[str, list[str]] = {}
#: Set by the held stream once it blocks; lets it go on.
WAITING, RELEASE = threading.Event(), threading.Event()


def _service(name: str = "concurrency-test", **options: Any) -> Service:
    service = Service(name=name, **options)
    app, logger, metrics = service.app, service.logger, service.metrics

    @app.get("/tenant/{tenant}")
    async def async_tenant(tenant: str) -> dict[str, str]:
        metrics.add_dimension(name="tenant", value=tenant)
        await asyncio.sleep(0.01)  # let every other request add its own in between
        metrics.add_metric(name="Orders", unit=MetricUnit.Count, value=1)
        metrics.add_metadata(key="order", value=tenant)
        await asyncio.sleep(0.01)
        logger.info("ordered", extra={"tenant": tenant})
        return {"tenant": tenant}

    @app.get("/sync-tenant/{tenant}")
    def sync_tenant(tenant: str) -> dict[str, str]:
        metrics.add_dimension(name="tenant", value=tenant)
        time.sleep(0.005)
        metrics.add_metric(name="Orders", unit=MetricUnit.Count, value=2)
        return {"tenant": tenant}

    async def tenant_chunks(tenant: str) -> AsyncIterator[dict[str, int]]:
        metrics.add_dimension(name="tenant", value=tenant)
        for n in range(3):
            await asyncio.sleep(0.005)
            metrics.add_metric(name="Chunks", unit=MetricUnit.Count, value=1)
            yield {"n": n}

    @app.get("/stream-tenant/{tenant}")
    async def stream_tenant(tenant: str) -> JsonStreamingResponse:
        return JsonStreamingResponse(tenant_chunks(tenant))

    def blocking_lines(label: str, count: int, pause: float) -> Iterator[dict[str, int]]:
        try:
            for n in range(count):
                time.sleep(pause)  # blocking work, as a database cursor would do
                EVENTS.setdefault(label, []).append(f"item {n}")
                yield {"n": n}
        finally:
            EVENTS.setdefault(label, []).append("closed")

    def held_lines(label: str) -> Iterator[dict[str, int]]:
        try:
            yield {"n": 0}
            EVENTS.setdefault(label, []).append("waiting")
            WAITING.set()
            # Blocks until the test releases it (on the event loop, the test never could).
            released = RELEASE.wait(timeout=3)
            EVENTS[label].append("released" if released else "timed out")
            yield {"n": 1}
        finally:
            EVENTS[label].append("closed")

    @app.get("/held/{label}")
    def held(label: str) -> JsonStreamingResponse:
        return JsonStreamingResponse(held_lines(label))

    @app.get("/blocking/{label}")
    def blocking(label: str, count: int = 5, pause: float = 0.1) -> JsonStreamingResponse:
        return JsonStreamingResponse(blocking_lines(label, count, pause))

    async def endless_lines(label: str) -> AsyncIterator[dict[str, int]]:
        try:
            n = 0
            while True:
                await asyncio.sleep(0.01)
                n += 1
                EVENTS.setdefault(label, []).append(f"item {n}")
                yield {"n": n}
        finally:
            EVENTS.setdefault(label, []).append("closed")

    @app.get("/endless/{label}")
    async def endless(label: str) -> JsonStreamingResponse:
        return JsonStreamingResponse(endless_lines(label))

    @app.get("/fast")
    async def fast() -> dict[str, bool]:
        return {"ok": True}

    @app.post("/upload")
    async def upload(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    return service


SERVICE = _service()


def _emf(out: str) -> list[dict[str, Any]]:
    return [doc for doc in map(json.loads, filter(None, out.splitlines())) if "_aws" in doc]


def _gather(app: Any, paths: list[str]) -> list[httpx2.Response]:
    async def run() -> list[httpx2.Response]:
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://test") as client:
            return await asyncio.gather(*(client.get(path) for path in paths))

    return asyncio.run(run())


@pytest.mark.parametrize("kind", ["tenant", "sync-tenant", "stream-tenant"])
def test_concurrent_requests_each_write_one_document_with_their_own_dimension(
    kind: str, capfd: pytest.CaptureFixture[str]
) -> None:
    count = 300
    responses = _gather(SERVICE.app, [f"/{kind}/t{i}" for i in range(count)])
    assert all(response.status_code == 200 for response in responses)
    documents = [doc for doc in _emf(capfd.readouterr().out) if "Requests" in doc]
    # One document per request: every one present, written once.
    assert len(documents) == count
    assert sorted(doc["tenant"] for doc in documents) == sorted(f"t{i}" for i in range(count))
    metric = {"tenant": "Orders", "sync-tenant": "Orders", "stream-tenant": "Chunks"}[kind]
    expected = {"tenant": [1.0], "sync-tenant": [2.0], "stream-tenant": [1.0, 1.0, 1.0]}[kind]
    for doc in documents:
        assert doc["route"] == f"GET /{kind}/{{tenant}}"
        assert doc[metric] == expected, doc
        directives = doc["_aws"]["CloudWatchMetrics"]
        assert directives[0]["Dimensions"] == [["route", "service"]]
        handler = next(d for d in directives if d["Metrics"][0]["Name"] == metric)
        assert handler["Dimensions"] == [["tenant", "service"]]
        if kind == "tenant":
            assert doc["order"] == doc["tenant"]  # the metadata, too, is the request's own


def test_concurrent_requests_keep_their_own_log_fields(capfd: pytest.CaptureFixture[str]) -> None:
    async def run() -> list[httpx2.Response]:
        transport = httpx2.ASGITransport(app=SERVICE.app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://test") as client:
            return await asyncio.gather(
                *(
                    client.get(f"/tenant/t{i}", headers={"x-correlation-id": f"cid-{i}"})
                    for i in range(200)
                )
            )

    asyncio.run(run())
    logs = [json.loads(line) for line in capfd.readouterr().out.splitlines()]
    ordered = [log for log in logs if log.get("message") == "ordered"]
    assert len(ordered) == 200
    for log in ordered:
        assert log["correlation_id"] == "cid-" + log["tenant"].removeprefix("t")
        assert log["path"] == f"/tenant/{log['tenant']}"


def test_metrics_added_outside_a_request_never_join_one(capfd: pytest.CaptureFixture[str]) -> None:
    service = _service("outside-test")
    service.metrics.add_metric(name="AtImport", unit=MetricUnit.Count, value=1)
    _gather(service.app, ["/fast"])
    (document,) = _emf(capfd.readouterr().out)
    assert "AtImport" not in document
    assert service.metrics.metric_set == {"AtImport": {"Unit": "Count", "StorageResolution": 60,
                                                       "Value": [1.0]}}  # fmt: skip
    service.metrics.clear_metrics()


def test_a_synchronous_stream_does_not_delay_other_requests() -> None:
    async def run() -> httpx2.Response:
        transport = httpx2.ASGITransport(app=SERVICE.app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://test") as client:
            stream = asyncio.create_task(client.get("/held/held-1"))
            assert await asyncio.to_thread(WAITING.wait, 10)
            # The generator is blocked in its thread: other requests are still served.
            for _ in range(5):
                response = await asyncio.wait_for(client.get("/fast"), timeout=10)
                assert response.status_code == 200
            assert EVENTS["held-1"] == ["waiting"], "the loop waited for the generator"
            RELEASE.set()
            return await stream

    streamed = asyncio.run(run())
    assert streamed.text.splitlines() == ['{"n":0}', '{"n":1}']
    assert EVENTS["held-1"] == ["waiting", "released", "closed"]


async def _abandon(app: Any, path: str, *, after: float, spec: str) -> list[dict[str, Any]]:
    """Request ``path`` and leave once ``after`` seconds of the response have been sent."""
    sent: list[dict[str, Any]] = []
    gone = asyncio.Event()
    scope = {
        "type": "http", "asgi": {"version": "3.0", "spec_version": spec}, "http_version": "1.1",
        "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(),
        "query_string": b"", "root_path": "", "headers": [(b"host", b"test")],
        "client": ("127.0.0.1", 1), "server": ("test", 80),
    }  # fmt: skip
    first = True

    async def receive() -> dict[str, Any]:
        nonlocal first
        if first:
            first = False
            return {"type": "http.request", "body": b"", "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if gone.is_set():
            if spec >= "2.4":
                raise OSError("the client has gone")
            return  # servers before ASGI 2.4 drop what is sent to a closed connection
        sent.append(message)

    async def leave() -> None:
        await asyncio.sleep(after)
        gone.set()

    leaving = asyncio.create_task(leave())
    await asyncio.wait_for(app(scope, receive, send), timeout=10)
    await leaving
    return sent


@pytest.mark.parametrize("spec", ["2.3", "2.4"])
@pytest.mark.parametrize("kind", ["blocking", "endless"])
def test_a_client_leaving_a_stream_stops_and_closes_its_generator(
    kind: str, spec: str, capfd: pytest.CaptureFixture[str]
) -> None:
    label = f"{kind}-{spec}"
    sent = asyncio.run(_abandon(SERVICE.app, f"/{kind}/{label}", after=0.25, spec=spec))
    assert sent[0]["status"] == 200
    assert not any(m["type"] == "http.response.body" and not m.get("more_body") for m in sent)
    events = EVENTS[label]
    assert events[-1] == "closed", events
    produced = len(events)
    time.sleep(0.2)
    assert len(EVENTS[label]) == produced, "the generator ran on after its client left"
    (document,) = _emf(capfd.readouterr().out)
    assert (document["Success"], document["Failure"], document["Disconnected"]) == (0, 0, 1)
    names = [m["Name"] for m in document["_aws"]["CloudWatchMetrics"][0]["Metrics"]]
    assert "Disconnected" in names


def test_a_finished_stream_is_a_success_and_its_generator_closed(
    capfd: pytest.CaptureFixture[str],
) -> None:
    response = _gather(SERVICE.app, ["/blocking/finished?count=3&pause=0"])[0]
    assert response.text.count("\n") == 3
    assert EVENTS["finished"] == ["item 0", "item 1", "item 2", "closed"]
    (document,) = _emf(capfd.readouterr().out)
    assert (document["Success"], document["Failure"]) == (1, 0)
    assert "Disconnected" not in document


LIMITED = _service("limit-test", max_body_size=1000)


async def _upload(
    app: Any, chunks: list[bytes], length: int | None
) -> tuple[int, dict[bytes, bytes], bytes, int]:
    """Send ``chunks`` as a body; returns the status, headers, body and chunks read."""
    sent: list[dict[str, Any]] = []
    read = 0
    headers = [(b"host", b"test"), (b"content-type", b"application/octet-stream")]
    headers.append(
        (b"content-length", str(length).encode()) if length is not None
        else (b"transfer-encoding", b"chunked")
    )  # fmt: skip
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/upload", "raw_path": b"/upload", "query_string": b"",
        "root_path": "", "headers": headers, "client": ("127.0.0.1", 1),
        "server": ("test", 80),
    }  # fmt: skip

    async def receive() -> dict[str, Any]:
        nonlocal read
        read += 1
        return {"type": "http.request", "body": chunks[read - 1], "more_body": read < len(chunks)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = sent[0]
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return start["status"], dict(start["headers"]), body, read


def test_a_declared_oversized_body_is_refused_before_it_is_read() -> None:
    chunks = [b"x" * 600, b"x" * 600]
    status, headers, body, read = asyncio.run(_upload(LIMITED.app, chunks, 1200))
    assert (status, json.loads(body), read) == (413, {"detail": "Content Too Large"}, 0)
    assert headers[b"x-correlation-id"]


def test_a_chunked_oversized_body_is_refused_at_the_chunk_past_the_limit() -> None:
    chunks = [b"x" * 400] * 50
    status, headers, body, read = asyncio.run(_upload(LIMITED.app, chunks, None))
    assert (status, json.loads(body)) == (413, {"detail": "Content Too Large"})
    assert read == 3  # 1200 bytes > 1000: the other 47 chunks were never read
    assert headers[b"x-correlation-id"]


def test_a_body_within_the_limit_is_read_whole() -> None:
    status, _, body, _ = asyncio.run(_upload(LIMITED.app, [b"x" * 500, b"x" * 500], None))
    assert (status, json.loads(body)) == (200, {"size": 1000})


def test_the_default_limit_is_api_gateways_and_the_environment_overrides_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert SERVICE.max_body_size == 10 * 1024 * 1024
    monkeypatch.setenv("MAX_BODY_SIZE", "2048")
    assert _service("env-limit-test", max_body_size=1000).max_body_size == 2048


def test_threads_started_by_a_handler_do_not_break_other_requests() -> None:
    # A thread without the request's context adds to the process's set, never a request's.
    service = _service("thread-test")
    seen: list[str] = []

    @service.app.get("/threaded")
    def threaded() -> dict[str, bool]:
        worker = threading.Thread(
            target=lambda: service.metrics.add_metric(name="Background", unit="Count", value=1)
        )
        worker.start()
        worker.join()
        seen.append("done")
        return {"ok": True}

    _gather(service.app, ["/threaded"])
    assert seen == ["done"]
    assert "Background" in service.metrics.metric_set
    service.metrics.clear_metrics()


def test_powertools_log_metrics_decorator_leaves_writing_to_the_runtime(
    capfd: pytest.CaptureFixture[str],
) -> None:
    service = _service("decorated-test")
    metrics = service.metrics

    @service.app.get("/decorated")
    @metrics.log_metrics(capture_cold_start_metric=True)
    def decorated() -> dict[str, bool]:
        metrics.add_metric(name="Decorated", unit=MetricUnit.Count, value=1)
        return {"ok": True}

    _gather(service.app, ["/decorated", "/decorated"])
    documents = _emf(capfd.readouterr().out)
    assert [doc["Decorated"] for doc in documents] == [[1.0], [1.0]]
    assert sorted(doc.get("ColdStart", 0) for doc in documents) == [0, 1]
