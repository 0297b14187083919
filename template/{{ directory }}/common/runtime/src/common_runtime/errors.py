"""The error bodies every route can answer with, declared in each API's OpenAPI document.

Callers (and the typed clients generated from the document) can then rely on them: a status the
document does not list is a defect, which schemathesis finds.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorMessage(BaseModel):
    """An error described by a message, as ``HTTPException`` sends it."""

    detail: str


class InternalError(BaseModel):
    """The safe body of an unhandled exception: no detail of the failure, only the id that
    finds its stack trace in the logs (also in the ``X-Correlation-Id`` header)."""

    detail: str
    correlation_id: str


_PREFIX = "#/components/schemas/"


def _json(model: type[BaseModel], description: str) -> dict[str, Any]:
    # Given as content rather than ``model``: FastAPI would describe a ``model`` with the
    # route's media type, application/jsonl on streamed routes, but errors are always JSON.
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": _PREFIX + model.__name__}}},
    }


#: ``responses`` of every route. 400: a body that cannot be parsed (FastAPI's "There was an
#: error parsing the body"); 413: a body over the API's size limit (``limits.py``); 500: an
#: unhandled exception (the observability middleware).
DEFAULT_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _json(ErrorMessage, "Malformed request"),
    413: _json(ErrorMessage, "Request body too large"),
    500: _json(InternalError, "Internal error (see its correlation id)"),
}


def add_error_schemas(schema: dict[str, Any]) -> None:
    """Add the models of ``DEFAULT_RESPONSES`` to ``schema``'s components."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in (ErrorMessage, InternalError):
        components.setdefault(
            model.__name__, model.model_json_schema(ref_template=_PREFIX + "{model}")
        )
