"""The correlation id of a request: given by the caller, by Lambda, or made up.

Whatever a client sends is checked before it is logged or echoed in the ``X-Correlation-Id``
response header: an id longer than :data:`MAX_CORRELATION_ID` or with a character outside
letters, digits and ``-_.:;=+/@`` (no spaces, quotes, control characters, CR or LF) is not
used, so it can neither break the response nor forge a log line.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping

#: Longest correlation id accepted; longer ones are replaced.
MAX_CORRELATION_ID = 128
#: Longest ``x-amzn-lambda-context`` header parsed (Lambda Web Adapter's is a few hundred bytes).
MAX_LAMBDA_CONTEXT = 8192
#: What an accepted id is made of: UUIDs, AWS request ids, X-Ray trace headers and the like.
_VALID_ID = re.compile(rf"[A-Za-z0-9\-_.:;=+/@]{{1,{MAX_CORRELATION_ID}}}")


def valid_id(value: object) -> str | None:
    """``value`` if it is usable as a correlation id, else None."""
    if isinstance(value, str) and _VALID_ID.fullmatch(value):
        return value
    return None


def correlation_id(headers: Mapping[bytes, bytes]) -> str:
    """The request's correlation id: its header, else the Lambda request id, else a new one.

    Lambda Web Adapter forwards the invocation's context (with its request id) in the
    ``x-amzn-lambda-context`` header. Either is used only when :func:`valid_id` accepts it.
    """
    given = headers.get(b"x-correlation-id")
    # Only HTTP's optional whitespace (space, tab) surrounds a field value (RFC 9110, 5.5).
    if given is not None and (found := valid_id(given.decode("latin-1").strip(" \t"))):
        return found
    lambda_context = headers.get(b"x-amzn-lambda-context")
    if lambda_context and len(lambda_context) <= MAX_LAMBDA_CONTEXT:
        try:
            context = json.loads(lambda_context)
        except (ValueError, RecursionError):  # malformed, or nested too deep
            context = None
        if isinstance(context, dict) and (found := valid_id(context.get("request_id"))):
            return found
    return str(uuid.uuid4())
