"""The correlation id of a request: given by the caller, by Lambda, or made up."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping

#: Longest correlation id accepted from a client; longer or unprintable ones are replaced.
MAX_CORRELATION_ID = 128


def correlation_id(headers: Mapping[bytes, bytes]) -> str:
    """The request's correlation id: its header, else the Lambda request id, else a new one.

    Lambda Web Adapter forwards the invocation's context (with its request id) in the
    ``x-amzn-lambda-context`` header.
    """
    given = headers.get(b"x-correlation-id", b"").decode("latin-1").strip()
    if given and len(given) <= MAX_CORRELATION_ID and given.isprintable():
        return given
    lambda_context = headers.get(b"x-amzn-lambda-context")
    if lambda_context:
        try:
            request_id = json.loads(lambda_context).get("request_id")
        except (ValueError, AttributeError):
            request_id = None
        if isinstance(request_id, str) and request_id:
            return request_id
    return str(uuid.uuid4())
