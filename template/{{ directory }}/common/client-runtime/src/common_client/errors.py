"""The error every client raises when the API answers with an error status."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx
from pydantic import BaseModel, ValidationError

#: The header that carries a request's correlation id, both ways.
CORRELATION_ID_HEADER = "x-correlation-id"


class ApiError(Exception):
    """The API answered with an error status (4xx or 5xx).

    - ``status_code``: the HTTP status;
    - ``body``: the body, parsed as JSON (the text when it is not JSON);
    - ``model``: the body as the model the OpenAPI document declares for this status
      (``models.HTTPValidationError`` for 422, ``models.InternalError`` for 500...), or
      ``None`` when the document declares none or the body does not match it;
    - ``correlation_id``: the ``X-Correlation-Id`` response header, which finds the request in
      the API's logs.
    """

    def __init__(self, response: httpx.Response, errors: Mapping[int, type[BaseModel]]) -> None:
        self.response = response
        self.status_code = response.status_code
        self.correlation_id: str | None = response.headers.get(CORRELATION_ID_HEADER)
        self.body: Any
        try:
            self.body = json.loads(response.content)
        except ValueError:
            self.body = response.text
        self.model: BaseModel | None = None
        declared = errors.get(response.status_code)
        if declared is not None:
            try:
                self.model = declared.model_validate(self.body)
            except ValidationError:
                self.model = None
        super().__init__(
            f"{response.request.method} {response.request.url.path} answered "
            f"{self.status_code} (correlation id {self.correlation_id}): {response.text[:500]}"
        )
