"""The API's routes. This file is yours: template updates never rewrite it.

Every route's function name becomes its OpenAPI operationId, which the infrastructure uses to
name the operation (and, with isolated integrations, its Lambda function).
"""

from collections.abc import AsyncIterator
from typing import Annotated

from aws_lambda_powertools.metrics import MetricUnit
from fastapi import Path, Query
from pydantic import BaseModel

from .init import JsonStreamingResponse, app, logger, metrics, tracer


class Echo(BaseModel):
    """The echoed message."""

    message: str


class Item(BaseModel):
    """An item of the catalogue."""

    name: str


class Chunk(BaseModel):
    """One line of a streamed response."""

    message: str


@app.get("/echo")
def echo(message: str = "hello") -> Echo:
    """Return the message it was given (the middleware still logs errors and counts it)."""
    return Echo(message=message)


@app.get("/items/{item_id}")
@tracer.capture_method
def get_item(item_id: Annotated[int, Path(ge=0)]) -> Item:
    """Fetch one item (ids are not negative: FastAPI answers 422 to -1, as documented)."""
    with tracer.provider.in_subsegment("fetch-item-details"):
        item = Item(name=f"item-{item_id}")
    metrics.add_metric(name="ItemViewed", unit=MetricUnit.Count, value=1)
    return item


@app.post("/items", status_code=201)
@tracer.capture_method
def create_item(item: Item) -> Item:
    """Create an item."""
    logger.info("Creating item", extra={"item_name": item.name})
    return item


async def generate_chunks(count: int) -> AsyncIterator[Chunk]:
    """Produce the chunks of ``stream`` one at a time."""
    for i in range(count):
        yield Chunk(message=f"This is chunk {i}")


@app.post(
    "/stream",
    response_class=JsonStreamingResponse,
    responses={200: JsonStreamingResponse.openapi_response(Chunk, "Stream of chunks")},
)
async def stream(count: Annotated[int, Query(ge=0, le=1000)] = 100) -> JsonStreamingResponse:
    """Stream ``count`` chunks as JSON Lines (at most 1000)."""
    return JsonStreamingResponse(generate_chunks(count))
