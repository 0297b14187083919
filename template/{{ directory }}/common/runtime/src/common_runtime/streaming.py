"""Streamed JSON Lines responses, typed in the OpenAPI document.

A synchronous generator is iterated in the thread pool, one item at a time, so its blocking
work never holds up other requests. When the client leaves before the end, the stream stops:
a generator (synchronous or not) is closed, which runs its ``finally`` blocks, and nothing
more is produced.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterable, Iterable, Mapping, Sequence
from typing import Any, ClassVar

import anyio
from pydantic import BaseModel
from starlette.concurrency import iterate_in_threadpool
from starlette.responses import StreamingResponse
from starlette.types import Send


class JsonStreamingResponse(StreamingResponse):
    """Streams Pydantic models (or plain JSON values) as JSON Lines (``application/jsonl``)."""

    media_type = "application/jsonl"
    #: Item models declared with ``openapi_response``, by schema name; each app's OpenAPI
    #: document takes those its own routes refer to.
    item_models: ClassVar[dict[str, type[BaseModel]]] = {}

    def __init__(
        self,
        content: AsyncIterable[Any] | Iterable[Any],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self._lines_iterator = self._lines(content)
        super().__init__(
            self._lines_iterator, status_code=status_code, headers=headers, media_type=None
        )

    async def stream_response(self, send: Send) -> None:
        try:
            await super().stream_response(send)
        finally:
            # Also when the stream was cancelled (the client left): close the content now,
            # not whenever the garbage collector finds it.
            with anyio.CancelScope(shield=True):
                await self._lines_iterator.aclose()

    @staticmethod
    async def _lines(content: AsyncIterable[Any] | Iterable[Any]) -> AsyncGenerator[bytes]:
        if isinstance(content, AsyncIterable):
            try:
                async for item in content:
                    yield JsonStreamingResponse._line(item)
            finally:
                aclose = getattr(content, "aclose", None)
                if aclose is not None:
                    with anyio.CancelScope(shield=True):
                        await aclose()
        elif isinstance(content, Sequence):  # already in memory: nothing to wait for
            for item in content:
                yield JsonStreamingResponse._line(item)
        else:
            try:
                async for item in iterate_in_threadpool(content):
                    yield JsonStreamingResponse._line(item)
            finally:
                close = getattr(content, "close", None)
                if close is not None:  # its finally blocks may block too: in the pool
                    with anyio.CancelScope(shield=True):
                        await anyio.to_thread.run_sync(close)

    @staticmethod
    def _line(item: Any) -> bytes:
        if isinstance(item, BaseModel):
            return item.model_dump_json().encode() + b"\n"
        return json.dumps(item, separators=(",", ":")).encode() + b"\n"

    @classmethod
    def openapi_response(cls, model: type[BaseModel], description: str) -> dict[str, Any]:
        """The ``responses`` entry of a streaming route: JSON Lines of ``model``."""
        cls.item_models[model.__name__] = model
        return {
            "description": description,
            "content": {
                cls.media_type: {"itemSchema": {"$ref": f"#/components/schemas/{model.__name__}"}}
            },
        }


def add_item_schemas(schema: dict[str, Any]) -> None:
    """Add the item models that ``schema``'s streaming responses refer to, to its components."""
    prefix = "#/components/schemas/"
    wanted = {
        ref.removeprefix(prefix)
        for path in schema.get("paths", {}).values()
        for operation in path.values()
        if isinstance(operation, dict)
        for response in operation.get("responses", {}).values()
        for media in response.get("content", {}).values()
        if isinstance(ref := media.get("itemSchema", {}).get("$ref"), str)
    }
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name in sorted(wanted):
        model = JsonStreamingResponse.item_models.get(name)
        if model is None:
            continue
        item_schema = model.model_json_schema(ref_template=prefix + "{model}")
        components.update(item_schema.pop("$defs", {}))
        components.setdefault(name, item_schema)
