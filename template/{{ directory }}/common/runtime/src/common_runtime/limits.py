"""What a request may hold: a bounded body of well-formed text, one value per single parameter.

- **Body size**: at most ``max_body_size`` bytes (10 MiB by default, API Gateway's payload
  limit; ``MAX_BODY_SIZE`` overrides it). A request declaring more in ``Content-Length`` is
  answered 413 before its body is read; one sending more (chunked) is stopped at the first
  chunk past the limit, before it is read whole.
- **Lone surrogates** (``"\\ud800"`` without its pair) in a JSON body: Python would accept
  the string, but it is not Unicode text; no response or log could carry it as UTF-8.
  The body is answered 400 ("There was an error parsing the body"), as one that does not
  parse.
- **Repeated query parameters** where the route takes a single value (``?q=a&q=b`` for
  ``q: str``): answered 422 with FastAPI's validation error body, rather than silently
  keeping the last value. Parameters declared as lists take every value, as in FastAPI.
"""

from __future__ import annotations

import collections.abc
import os
import re
import types
import typing
from typing import Any
from urllib.parse import parse_qsl

from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.routing import Match
from starlette.types import Message, Receive, Scope

#: API Gateway's payload limit (REST and HTTP APIs), the default of every API.
DEFAULT_MAX_BODY_SIZE = 10 * 1024 * 1024


def body_size_limit(configured: int) -> int:
    """The body limit in bytes: ``MAX_BODY_SIZE`` from the environment, else ``configured``."""
    given = os.environ.get("MAX_BODY_SIZE", "").strip()
    limit = int(given) if given else configured
    if limit < 0:
        raise ValueError(f"MAX_BODY_SIZE must be a number of bytes, not {limit}")
    return limit


class BodyTooLarge(HTTPException):
    """The request's body is larger than the API accepts (answered 413)."""

    def __init__(self) -> None:
        super().__init__(status_code=413, detail="Content Too Large")


class BodyNotText(HTTPException):
    """The request's JSON body holds a string that is not Unicode text (answered 400)."""

    def __init__(self) -> None:
        # FastAPI's own words for a body it cannot parse, documented as 400 on every route.
        super().__init__(status_code=400, detail="There was an error parsing the body")


def declared_length(headers: dict[bytes, bytes]) -> int | None:
    """The body's ``Content-Length``, if the request declares one."""
    value = headers.get(b"content-length")
    return int(value) if value is not None and value.isdigit() else None


def has_body(headers: dict[bytes, bytes]) -> bool:
    """Whether the request comes with a body (HTTP/1.1: a length or chunked encoding)."""
    return headers.get(b"content-length", b"0") != b"0" or b"transfer-encoding" in headers


def is_json(headers: dict[bytes, bytes]) -> bool:
    """Whether the body is declared as JSON (FastAPI's test: ``json`` or ``+json``)."""
    media = headers.get(b"content-type", b"").split(b";", 1)[0].strip().lower()
    return media.startswith(b"application/") and (media.endswith((b"/json", b"+json")))


#: A high surrogate escape ``\ud800`` to ``\udbff``: only these need the exact check.
_MAYBE_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")
#: JSON escapes that matter, scanned from the start of the body: an escaped backslash, a
#: high surrogate (with its low one, if paired) or a low surrogate on its own.
_ESCAPES = re.compile(
    rb"\\\\|\\u[dD][89abAB][0-9a-fA-F]{2}(\\u[dD][c-fC-F][0-9a-fA-F]{2})?"
    rb"|\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)


def has_lone_surrogate(body: bytes) -> bool:
    """Whether a JSON text has a ``\\uXXXX`` escape of a surrogate without its pair."""
    for match in _ESCAPES.finditer(body):
        escape = match.group()
        if escape != b"\\\\" and (escape[3] in b"cdefCDEF" or match.group(1) is None):
            return True
    return False


class LimitedBody:
    """The request's ``receive``, counting the body against the limit as it arrives.

    A JSON body's chunks are also looked at for a surrogate escape; if one shows, the body
    (whose chunks the app keeps anyway, to parse it whole) is checked exactly once complete.
    """

    __slots__ = ("check_text", "chunks", "limit", "receive", "size", "suspect")

    def __init__(self, receive: Receive, limit: int, check_text: bool) -> None:
        self.receive = receive
        self.limit = limit
        self.check_text = check_text
        self.size = 0
        self.chunks: list[bytes] = []
        self.suspect = False

    async def __call__(self) -> Message:
        message = await self.receive()
        if message["type"] != "http.request":
            return message
        chunk: bytes = message.get("body", b"")
        self.size += len(chunk)
        if self.size > self.limit:
            raise BodyTooLarge
        if self.check_text:
            self._check(chunk, more=message.get("more_body", False))
        return message

    def _check(self, chunk: bytes, *, more: bool) -> None:
        # Four bytes of the previous chunk: an escape may be cut between the two.
        previous = self.chunks[-1][-4:] if self.chunks else b""
        self.chunks.append(chunk)
        if not self.suspect and _MAYBE_SURROGATE.search(previous + chunk) is not None:
            self.suspect = True
        if not more:
            body = b"".join(self.chunks) if self.suspect else b""
            self.chunks, self.check_text = [], False
            if body and has_lone_surrogate(body):
                raise BodyNotText


def repeated_single_values(scope: Scope) -> list[dict[str, Any]]:
    """Validation errors for query parameters given several times where one value is taken."""
    query = scope.get("query_string", b"")
    if b"&" not in query:
        return []
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    counts = collections.Counter(name for name, _ in pairs)
    repeated = {name for name, count in counts.items() if count > 1}
    if not repeated:
        return []
    route = _route(scope)
    if route is None:
        return []
    single = repeated & _single_value_parameters(route)
    return [
        {
            "type": "single_value",
            "loc": ["query", name],
            "msg": f"Expected one value, got {counts[name]}",
            "input": [value for key, value in pairs if key == name],
        }
        for name in sorted(single)
    ]


def _route(scope: Scope) -> APIRoute | None:
    for route in getattr(scope.get("app"), "routes", ()):
        if isinstance(route, APIRoute) and route.matches(scope)[0] is Match.FULL:
            return route
    return None


#: ``_single_value_parameters`` of each route seen, by its id (routes are not hashable).
_SINGLE: dict[int, tuple[APIRoute, frozenset[str]]] = {}


def _single_value_parameters(route: APIRoute) -> frozenset[str]:
    """The query parameter names of ``route`` (its dependencies' included) taking one value."""
    cached = _SINGLE.get(id(route))
    if cached is not None and cached[0] is route:
        return cached[1]
    names = _find_single_value_parameters(route)
    _SINGLE[id(route)] = (route, names)
    return names


def _find_single_value_parameters(route: APIRoute) -> frozenset[str]:
    names: set[str] = set()
    dependants = [route.dependant]
    while dependants:
        dependant = dependants.pop()
        dependants.extend(dependant.dependencies)
        for field in dependant.query_params:
            model = _model(field.field_info.annotation)
            if model is not None:
                # A model of query parameters: each of its fields is one parameter.
                for name, info in model.model_fields.items():
                    if not _takes_many(info.annotation):
                        names.add(info.alias or name)
            elif not _takes_many(field.field_info.annotation):
                names.add(field.alias)
    return frozenset(names)


def _model(annotation: Any) -> type[BaseModel] | None:
    """The model of a parameter typed ``Model`` or ``Model | None``, if it is one."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        annotation = args[0] if len(args) == 1 else None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _takes_many(annotation: Any) -> bool:
    """Whether a parameter of this type takes every value given (a list, set or tuple)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _takes_many(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return any(_takes_many(arg) for arg in typing.get_args(annotation))
    kind = origin or annotation
    return (
        isinstance(kind, type)
        and issubclass(kind, collections.abc.Iterable)
        and not issubclass(kind, str | bytes | dict | collections.abc.Mapping)
    )
