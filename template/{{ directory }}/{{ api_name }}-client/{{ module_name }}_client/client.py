"""One method per operation of the API, synchronous and async.

Generated from the API's OpenAPI document by scripts/generate_client.py of the API (the build
runs it): do not edit, change the routes and build again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from pydantic import TypeAdapter

from . import models
from ._base import AsyncBaseClient, BaseClient, Operation

_ECHO = Operation(
    "GET",
    "/echo",
    TypeAdapter(models.Echo),
    {
        400: models.ErrorMessage,
        413: models.ErrorMessage,
        422: models.HTTPValidationError,
        500: models.InternalError,
    },
)

_CREATE_ITEM = Operation(
    "POST",
    "/items",
    TypeAdapter(models.Item),
    {
        400: models.ErrorMessage,
        413: models.ErrorMessage,
        422: models.HTTPValidationError,
        500: models.InternalError,
    },
)

_GET_ITEM = Operation(
    "GET",
    "/items/{item_id}",
    TypeAdapter(models.Item),
    {
        400: models.ErrorMessage,
        413: models.ErrorMessage,
        422: models.HTTPValidationError,
        500: models.InternalError,
    },
)

_STREAM = Operation(
    "POST",
    "/stream",
    TypeAdapter(models.Chunk),
    {
        400: models.ErrorMessage,
        413: models.ErrorMessage,
        422: models.HTTPValidationError,
        500: models.InternalError,
    },
)


class Client(BaseClient):
    """Calls the API synchronously: ``Client(base_url)``, then one method per operation.

    ``auth`` is an ``httpx.Auth`` (the API's own scheme when omitted), ``headers`` are sent
    with every request, ``timeout`` is in seconds. Errors raise ``ApiError``. A streamed
    operation sends its request when iteration starts: iterate before the client closes.
    """

    def echo(self, *, message: str = "hello") -> models.Echo:
        """Return the message it was given (the middleware still logs errors and counts
        it).
        """
        return self._call(_ECHO, query={"message": message})

    def create_item(self, body: models.Item) -> models.Item:
        """Create an item."""
        return self._call(_CREATE_ITEM, body=body, has_body=True)

    def get_item(self, item_id: int) -> models.Item:
        """Fetch one item (ids are not negative: FastAPI answers 422 to -1, as documented)."""
        return self._call(_GET_ITEM, path={"item_id": item_id})

    def stream(self, *, count: int = 100) -> Iterator[models.Chunk]:
        """Stream ``count`` chunks as JSON Lines (at most 1000)."""
        return self._stream(_STREAM, query={"count": count})


class AsyncClient(AsyncBaseClient):
    """Calls the API asynchronously (``async with AsyncClient(base_url) as client``),
    with the same methods as ``Client``."""

    async def echo(self, *, message: str = "hello") -> models.Echo:
        """Return the message it was given (the middleware still logs errors and counts
        it).
        """
        return await self._call(_ECHO, query={"message": message})

    async def create_item(self, body: models.Item) -> models.Item:
        """Create an item."""
        return await self._call(_CREATE_ITEM, body=body, has_body=True)

    async def get_item(self, item_id: int) -> models.Item:
        """Fetch one item (ids are not negative: FastAPI answers 422 to -1, as documented)."""
        return await self._call(_GET_ITEM, path={"item_id": item_id})

    def stream(self, *, count: int = 100) -> AsyncIterator[models.Chunk]:
        """Stream ``count`` chunks as JSON Lines (at most 1000)."""
        return self._stream(_STREAM, query={"count": count})
