"""Hostile requests: whatever a client puts in a request, the logs stay valid JSON lines with
the request's correlation id, no response is a server error, and limits hold."""

from __future__ import annotations

import asyncio
import io
import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any
from urllib.parse import quote

import pytest
from fastapi import Query, Request
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from starlette.types import Message

from common_runtime import Service
from common_runtime.console import ConsoleFormatter
from common_runtime.correlation import MAX_CORRELATION_ID
from common_runtime.safe_logging import MAX_LOGGED_STRING, dumps

#: What every correlation id the service answers with looks like.
VALID_ID = re.compile(r"[A-Za-z0-9\-_.:;=+/@]{1,128}")


class Item(BaseModel):
    """A body with one string, as the sample POST /items takes."""

    name: str


def _hostile_service() -> Service:
    service = Service(name="hostile-test")
    app, logger = service.app, service.logger

    @app.post("/hostile/items/{label}", status_code=201)
    def create(label: str, item: Item, note: str = "") -> Item:
        logger.info("Creating item", extra={"item_name": item.name, "label": label, "note": note})
        return item

    @app.post("/hostile/raise")
    async def fail(request: Request) -> None:
        # The raw body, decoded as Python would: lone surrogates and all.
        raise ValueError(f"cannot take {json.loads(await request.body())['name']}")

    @app.get("/hostile/many")
    def many(tag: Annotated[list[str], Query()] = [], one: str = "") -> dict[str, Any]:  # noqa: B006
        return {"tag": tag, "one": one}

    return service


SERVICE = _hostile_service()
SERVICE.logger.setLevel("DEBUG")  # every request logs its "Request completed" line


@contextmanager
def strict_stdout() -> Iterator[io.BytesIO]:
    """Stdout as on Lambda: UTF-8, strict. What the app writes is in the yielded buffer."""
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="utf-8", errors="strict", write_through=True)
    previous, previous_err = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = stream
    try:
        yield raw
    finally:
        sys.stdout, sys.stderr = previous, previous_err
        stream.detach()  # so that the buffer stays open to be read


async def call(
    app: Any,
    method: str,
    path: str,
    *,
    raw_path: bytes | None = None,
    query: bytes = b"",
    headers: list[tuple[bytes, bytes]] | None = None,
    body: bytes = b"",
) -> tuple[int, dict[bytes, bytes], bytes]:
    """Call the ASGI app as a server would, with raw bytes no HTTP client would send."""
    sent: list[dict[str, Any]] = []
    all_headers = [(b"host", b"test"), *(headers or [])]
    if body:
        all_headers.append((b"content-length", str(len(body)).encode()))
    scope = {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1", "method": method, "scheme": "http", "path": path,
        "raw_path": raw_path or path.encode("utf-8", "surrogatepass"), "query_string": query,
        "root_path": "", "headers": all_headers, "client": ("127.0.0.1", 1),
        "server": ("test", 80),
    }  # fmt: skip
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    content = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], dict(start["headers"]), content


def _lines(raw: io.BytesIO) -> list[dict[str, Any]]:
    """Every line written, each of which must be one JSON document."""
    text = raw.getvalue().decode("utf-8")  # strict: any invalid UTF-8 fails the test
    assert "Logging error" not in text
    return [json.loads(line) for line in text.splitlines()]


def _encoded(value: str) -> str:
    """``value`` percent-encoded as a URL part (lone surrogates as their UTF-8-like bytes)."""
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


#: Strings no well-behaved client sends: lone surrogates, control characters (CR, LF, NUL,
#: terminal escapes), quotes and backslashes, very long values, and anything else Unicode has.
ODD_ONES = ["\ud800", "a\udfffb", "\ud83d", "\r\nx-forged: 1", "\x00", "\x1b[31mred\x1b[0m",
            '"}{"level":"ERROR"', "\\", "\u2028", "\ufeff", "x" * 100_000]  # fmt: skip
HOSTILE = st.one_of(
    st.text(st.characters(exclude_categories=()), max_size=40), st.sampled_from(ODD_ONES)
)


#: Hypothesis settings: no example database written into the repository.
QUICK = settings(max_examples=60, deadline=None, database=None)


@settings(QUICK, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=HOSTILE,
    # One path segment: never empty, no slash (the route would not match).
    label=HOSTILE.map(lambda text: "l" + text.replace("/", "|")),
    note=HOSTILE,
    given_id=HOSTILE,
    header=HOSTILE,
)
def test_hostile_strings_anywhere_leave_valid_json_logs_with_the_correlation_id(
    name: str, label: str, note: str, given_id: str, header: str
) -> None:
    body = json.dumps({"name": name}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"x-correlation-id", given_id.encode("utf-8", "surrogatepass")[:20_000]),
        (b"x-other", header.encode("utf-8", "surrogatepass")[:20_000]),
    ]
    with strict_stdout() as raw:
        status, response_headers, content = asyncio.run(
            call(
                SERVICE.app,
                "POST",
                f"/hostile/items/{label}",
                raw_path=f"/hostile/items/{_encoded(label)}".encode(),
                query=f"note={_encoded(note)}".encode(),
                headers=headers,
                body=body,
            )
        )
    lines = _lines(raw)
    correlation_id = response_headers[b"x-correlation-id"].decode("ascii")
    assert VALID_ID.fullmatch(correlation_id)
    # Only HTTP's optional whitespace (space, tab) is trimmed: '0\x85' is not the id '0'.
    if VALID_ID.fullmatch(given_id.strip(" \t")):
        assert correlation_id == given_id.strip(" \t")
    if any("\ud800" <= char <= "\udfff" for char in json.loads(body)["name"]):
        # Not Unicode text: refused as a body that does not parse, never a 500.
        assert status == 400
        assert json.loads(content) == {"detail": "There was an error parsing the body"}
    else:
        assert status == 201, content
        logged = next(line for line in lines if line.get("message") == "Creating item")
        assert logged["correlation_id"] == correlation_id
        if len(name) <= MAX_LOGGED_STRING:
            assert logged["item_name"] == name
        else:
            assert "characters cut" in logged["item_name"]
    completed = next(line for line in lines if line.get("message") == "Request completed")
    assert completed["correlation_id"] == correlation_id
    assert completed["status"] == status
    (document,) = [line for line in lines if "_aws" in line]
    assert document["route"] == "POST /hostile/items/{label}"


@QUICK
@given(name=HOSTILE)
def test_an_exception_quoting_a_client_string_is_logged_with_its_stack_trace(name: str) -> None:
    with strict_stdout() as raw:
        status, headers, content = asyncio.run(
            call(
                SERVICE.app,
                "POST",
                "/hostile/raise",
                headers=[(b"content-type", b"application/octet-stream")],
                body=json.dumps({"name": name}).encode(),
            )
        )
    assert status == 500
    correlation_id = headers[b"x-correlation-id"].decode()
    assert json.loads(content) == {
        "detail": "Internal Server Error",
        "correlation_id": correlation_id,
    }
    lines = _lines(raw)
    error = next(line for line in lines if line.get("message") == "Unhandled exception")
    assert error["correlation_id"] == correlation_id
    assert "Traceback (most recent call last)" in error["exception"]
    assert "ValueError: cannot take" in error["exception"]
    assert error["stack_trace"]["type"] == "ValueError"


@pytest.mark.parametrize(
    "given",
    [
        "x" * (MAX_CORRELATION_ID + 1),
        "x" * 10_000,
        "a\r\nx-forged: 1",
        "with space",
        'quote"d',
        "caf\xe9",
        "\x00",
        "",
    ],
)
def test_an_unusable_correlation_id_is_replaced_never_echoed(given: str) -> None:
    status, headers, _ = asyncio.run(
        call(
            SERVICE.app,
            "GET",
            "/openapi.json",
            headers=[(b"x-correlation-id", given.encode("latin-1"))],
        )
    )
    assert status == 200
    answered = headers[b"x-correlation-id"].decode("ascii")
    assert answered != given
    assert VALID_ID.fullmatch(answered)


@pytest.mark.parametrize(
    "context",
    [
        json.dumps({"request_id": "a\r\nb"}),
        json.dumps({"request_id": "x" * 10_000}),
        json.dumps({"request_id": "日本語"}),
        json.dumps({"request_id": 12}),
        json.dumps([1, 2]),
        "[" * 5000,
        "{not json",
        json.dumps({"request_id": "ok"}).replace("ok", "o\\ud800k"),
    ],
)
def test_a_malformed_lambda_context_still_gets_a_bounded_valid_id(context: str) -> None:
    status, headers, _ = asyncio.run(
        call(
            SERVICE.app,
            "GET",
            "/openapi.json",
            headers=[(b"x-amzn-lambda-context", context.encode("utf-8", "surrogatepass"))],
        )
    )
    assert status == 200
    assert VALID_ID.fullmatch(headers[b"x-correlation-id"].decode("ascii"))


def test_the_lambda_request_id_is_used_when_valid() -> None:
    context = json.dumps({"request_id": "8476a536-e9f4-11e8-9739-2dfe598c3fcd"})
    _, headers, _ = asyncio.run(
        call(
            SERVICE.app,
            "GET",
            "/openapi.json",
            headers=[(b"x-amzn-lambda-context", context.encode())],
        )
    )
    assert headers[b"x-correlation-id"] == b"8476a536-e9f4-11e8-9739-2dfe598c3fcd"


def test_paired_surrogate_escapes_and_escaped_backslashes_are_accepted() -> None:
    client = TestClient(SERVICE.app)
    for text in ('"\\ud83d\\ude00"', '"\\\\ud800"', '"\\\\\\ud83d\\ude00"', '"plain \\u00e9"'):
        response = client.post(
            "/hostile/items/x", content=b'{"name": ' + text.encode() + b"}",
            headers={"content-type": "application/json"},
        )  # fmt: skip
        assert response.status_code == 201, text
        assert response.json()["name"] == json.loads(text)


LONE = ['"\\ud800"', '"\\uDBFF x"', '"\\udc00"', '"\\\\\\ud800"', '"\\ude00\\ud83d"']


@pytest.mark.parametrize("text", LONE)
def test_lone_surrogate_escapes_are_refused_as_unparsable(text: str) -> None:
    response = TestClient(SERVICE.app).post(
        "/hostile/items/x", content=b'{"name": ' + text.encode() + b"}",
        headers={"content-type": "application/json"},
    )  # fmt: skip
    assert response.status_code == 400
    assert response.json() == {"detail": "There was an error parsing the body"}


async def _post_chunks(path: str, chunks: list[bytes]) -> int:
    """POST a chunked JSON body, chunk by chunk; returns the status."""
    sent: list[dict[str, Any]] = []

    async def receive() -> Message:
        chunk = chunks.pop(0)
        return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}

    async def send(message: Message) -> None:
        sent.append(dict(message))

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 1), "server": ("test", 80),
        "headers": [(b"content-type", b"application/json"), (b"transfer-encoding", b"chunked")],
    }  # fmt: skip
    await SERVICE.app(scope, receive, send)
    status: int = sent[0]["status"]
    return status


def test_a_lone_surrogate_split_across_body_chunks_is_found() -> None:
    body = b'{"name": "abc\\ud800"}'
    for cut in range(1, len(body)):
        assert asyncio.run(_post_chunks("/hostile/items/x", [body[:cut], body[cut:]])) == 400, cut
    paired = b'{"name": "abc\\ud83d\\ude00"}'
    for cut in range(1, len(paired)):
        status = asyncio.run(_post_chunks("/hostile/items/x", [paired[:cut], paired[cut:]]))
        assert status == 201, cut


def test_a_repeated_single_value_query_parameter_is_refused_with_422() -> None:
    client = TestClient(SERVICE.app)
    response = client.get("/hostile/many?one=a&one=b")
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["query", "one"]
    assert error["input"] == ["a", "b"]
    # A list parameter takes every value; unknown parameters are ignored, repeated or not.
    response = client.get("/hostile/many?tag=a&tag=b&one=c&other=1&other=2")
    assert response.json() == {"tag": ["a", "b"], "one": "c"}


def test_413_is_documented_on_every_route() -> None:
    document = SERVICE.app.openapi()
    for path in document["paths"].values():
        for operation in path.values():
            content = operation["responses"]["413"]["content"]["application/json"]
            assert content["schema"] == {"$ref": "#/components/schemas/ErrorMessage"}


def test_the_safe_serializer_writes_every_string_as_valid_utf8_json() -> None:
    record = {"a": "\ud800", "b": ["x\udfff", {"\ud801key": 1}], "c": "é😀", "d": "y" * 100_000}
    text = dumps(record)
    text.encode("utf-8")
    parsed = json.loads(text)
    assert parsed["a"] == "\\ud800"
    assert parsed["b"] == ["x\\udfff", {"\\ud801key": 1}]
    assert parsed["c"] == "é😀"
    assert len(parsed["d"]) < MAX_LOGGED_STRING + 100
    assert parsed["d"].startswith("yyy") and parsed["d"].endswith("yyy")
    looping: dict[str, Any] = {}
    looping["self"] = looping
    assert json.loads(dumps({"loop": looping}))["loop"]


def test_the_console_format_shows_control_characters_as_escapes() -> None:
    import logging

    formatter = ConsoleFormatter(json_serializer=dumps)
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hi\x1b[2J\r\nFORGED", None, None)
    record.label = "\x1b[31m\ud800"
    line = formatter.format(record)
    assert "\x1b[2J" not in line
    assert "\r" not in line and "\n" not in line
    assert "\\x1b[2J\\x0d\\x0aFORGED" in line
