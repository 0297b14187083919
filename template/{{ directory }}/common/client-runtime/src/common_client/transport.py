"""What every operation of a client does: build the request, send it, check the status and
parse the body. A client's ``client.py`` (generated from its OpenAPI document) only describes
operations, and names its API's auth scheme (``auth_scheme``): the default ``auth``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Generic, Self, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, TypeAdapter
from pydantic_core import to_jsonable_python

from common_client.auth import default_auth
from common_client.errors import ApiError

T = TypeVar("T")


@dataclass(frozen=True)
class Operation(Generic[T]):
    """One operation of the OpenAPI document: how to call it and how to read its answers.

    ``result`` parses the success body (or each line of a JSON Lines stream); ``errors`` maps
    the error statuses the document declares to their body models; ``raw`` operations answer
    with bytes (a body that is not JSON).
    """

    method: str
    path: str
    result: TypeAdapter[T]
    errors: Mapping[int, type[BaseModel]]
    raw: bool = False

    def url(self, path: Mapping[str, Any]) -> str:
        """The operation's path with ``path`` parameters filled in (percent-encoded)."""
        return self.path.format_map(
            {name: quote(_text(value), safe="") for name, value in path.items()}
        )

    def request(
        self,
        path: Mapping[str, Any] | None,
        query: Mapping[str, Any] | None,
        headers: Mapping[str, Any] | None,
        body: Any,
        has_body: bool,
    ) -> tuple[str, str, dict[str, Any]]:
        """httpx's method, URL and keyword arguments for one call of the operation."""
        args = _request_args(body, headers, has_body)
        return self.method, self.url(path or {}), {"params": _query(query), **args}

    def parse(self, response: httpx.Response) -> T:
        """The success body of ``response``, parsed; raises :class:`ApiError` for an error."""
        if response.is_error:
            raise ApiError(response, self.errors)
        if self.raw:
            return self.result.validate_python(response.content)
        if not response.content:
            return self.result.validate_python(None)
        return self.result.validate_json(response.content)


def _text(value: Any) -> str:
    """A path parameter as text: JSON spelling for booleans, the value of an enum."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(getattr(value, "value", value))


def _query(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Query parameters without those left unset (``None``): the API applies its defaults."""
    if params is None:
        return None
    return {name: _jsonable(value) for name, value in params.items() if value is not None}


def _jsonable(value: Any) -> Any:
    """``value`` as JSON-compatible data: models as the API reads them (by alias, only the
    fields the caller set, so the API applies its own defaults)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return to_jsonable_python(value, by_alias=True)


def _http_options(
    base_url: str, auth: httpx.Auth | None, scheme: str, **options: Any
) -> dict[str, Any]:
    """httpx client options: the API's URL, and its auth scheme's default ``auth``."""
    default = auth if auth is not None else default_auth(scheme)
    return {"base_url": base_url.rstrip("/"), "auth": default, **options}


def _request_args(body: Any, headers: Mapping[str, Any] | None, has_body: bool) -> dict[str, Any]:
    """httpx keyword arguments for a JSON body and header parameters."""
    args: dict[str, Any] = {}
    if has_body:
        args["json"] = _jsonable(body)
    if headers:
        args["headers"] = {name: _text(v) for name, v in headers.items() if v is not None}
    return args


class BaseClient:
    """The synchronous transport of a generated ``Client``."""

    #: How the API authenticates callers (``auth.AUTH_SCHEMES``): the default ``auth``.
    auth_scheme: str = "None"

    def __init__(
        self,
        base_url: str,
        *,
        auth: httpx.Auth | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(
            **_http_options(base_url, auth, self.auth_scheme, headers=headers, timeout=timeout),
            transport=transport,
        )

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _call(
        self,
        operation: Operation[T],
        *,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        headers: Mapping[str, Any] | None = None,
        body: Any = None,
        has_body: bool = False,
    ) -> T:
        method, url, args = operation.request(path, query, headers, body, has_body)
        return operation.parse(self._http.request(method, url, **args))

    def _stream(
        self,
        operation: Operation[T],
        *,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        headers: Mapping[str, Any] | None = None,
        body: Any = None,
        has_body: bool = False,
    ) -> Iterator[T]:
        method, url, args = operation.request(path, query, headers, body, has_body)
        with self._http.stream(method, url, **args) as response:
            if response.is_error:
                response.read()
                raise ApiError(response, operation.errors)
            # Each line is parsed as soon as it arrives, not once the stream ends.
            for line in response.iter_lines():
                if line.strip():
                    yield operation.result.validate_json(line)


class AsyncBaseClient:
    """The asynchronous transport of a generated ``AsyncClient``."""

    #: How the API authenticates callers (``auth.AUTH_SCHEMES``): the default ``auth``.
    auth_scheme: str = "None"

    def __init__(
        self,
        base_url: str,
        *,
        auth: httpx.Auth | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._http = httpx.AsyncClient(
            **_http_options(base_url, auth, self.auth_scheme, headers=headers, timeout=timeout),
            transport=transport,
        )

    async def aclose(self) -> None:
        """Close the connections."""
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _call(
        self,
        operation: Operation[T],
        *,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        headers: Mapping[str, Any] | None = None,
        body: Any = None,
        has_body: bool = False,
    ) -> T:
        method, url, args = operation.request(path, query, headers, body, has_body)
        return operation.parse(await self._http.request(method, url, **args))

    async def _stream(
        self,
        operation: Operation[T],
        *,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        headers: Mapping[str, Any] | None = None,
        body: Any = None,
        has_body: bool = False,
    ) -> AsyncIterator[T]:
        method, url, args = operation.request(path, query, headers, body, has_body)
        async with self._http.stream(method, url, **args) as response:
            if response.is_error:
                await response.aread()
                raise ApiError(response, operation.errors)
            async for line in response.aiter_lines():
                if line.strip():
                    yield operation.result.validate_json(line)
