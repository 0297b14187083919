"""Request and response models of the API.

Generated from the API's OpenAPI document by the repository's toolchain (`uv run poe client`,
which the build runs): do not edit, change the routes and build again.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field


class Chunk(BaseModel):
    """
    One line of a streamed response.
    """

    message: Annotated[str, Field(title="Message")]


class Echo(BaseModel):
    """
    The echoed message.
    """

    message: Annotated[str, Field(title="Message")]


class ErrorMessage(BaseModel):
    """
    An error described by a message, as ``HTTPException`` sends it.
    """

    detail: Annotated[str, Field(title="Detail")]


class InternalError(BaseModel):
    """
    The safe body of an unhandled exception: no detail of the failure, only the id that
    finds its stack trace in the logs (also in the ``X-Correlation-Id`` header).
    """

    correlation_id: Annotated[str, Field(title="Correlation Id")]
    detail: Annotated[str, Field(title="Detail")]


class Item(BaseModel):
    """
    An item of the catalogue.
    """

    name: Annotated[str, Field(title="Name")]


class ValidationError(BaseModel):
    ctx: Annotated[dict[str, Any] | None, Field(title="Context")] = None
    input: Annotated[Any | None, Field(title="Input")] = None
    loc: Annotated[list[str | int], Field(title="Location")]
    msg: Annotated[str, Field(title="Message")]
    type: Annotated[str, Field(title="Error Type")]


class HTTPValidationError(BaseModel):
    detail: Annotated[list[ValidationError] | None, Field(title="Detail")] = None
