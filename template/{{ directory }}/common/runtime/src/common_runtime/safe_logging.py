"""Log records that stay one valid JSON line whatever a client sent.

A client controls much of what gets logged (the path, a body field a handler logs, an
exception message quoting it). Powertools writes each record with ``json.dumps`` and
``ensure_ascii=False``; a string holding a lone surrogate (``"\\ud800"``, which a JSON body
may carry) then cannot be written as UTF-8, and the record is lost to a ``--- Logging error
---`` dump. :func:`dumps` writes such characters as visible text instead, escapes the line
separators JSON leaves raw (U+2028, U+2029, NEL) so that no reader splits a record, and cuts
strings too long for a log line (CloudWatch Logs keeps at most 256 KB of an event), keeping
their beginning and end.
"""

from __future__ import annotations

import json
import re
from typing import Any

#: Longest string kept whole in a log record; longer ones keep their first and last halves.
MAX_LOGGED_STRING = 16_384
#: Deepest nesting of dicts and lists examined in a record (deeper values are written as is).
_MAX_DEPTH = 8
#: What JSON leaves raw but must not reach a log line: lone surrogates (not encodable as
#: UTF-8) and the line separators some log readers split lines on (NEL, U+2028, U+2029).
_UNSAFE = re.compile("[\x85\u2028\u2029\ud800-\udfff]")


def bounded(text: str, limit: int = MAX_LOGGED_STRING) -> str:
    """``text``, or its beginning and end around a note of how much was cut."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}…[{len(text) - 2 * half} characters cut]…{text[-half:]}"


def _bounded_values(value: Any, depth: int = 0) -> Any:
    """``value`` with every string in it bounded (containers are copied, never changed)."""
    if isinstance(value, str):
        return bounded(value)
    if depth >= _MAX_DEPTH:
        return value
    if isinstance(value, dict):
        return {
            bounded(key) if isinstance(key, str) else key: _bounded_values(item, depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_bounded_values(item, depth + 1) for item in value]
    return value


def _default(value: Any) -> str:
    """Values JSON cannot represent are logged as their ``str()``, bounded."""
    return bounded(str(value))


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xD800 <= code <= 0xDFFF:
        # Inside a JSON string: a backslash (escaped) and the code point, read as \ud800.
        return f"\\\\u{code:04x}"
    return f"\\u{code:04x}"  # a JSON escape of the same character


def dumps(record: dict[str, Any]) -> str:
    """One log record as one line of valid, UTF-8 encodable JSON."""
    try:
        text = json.dumps(
            _bounded_values(record), default=_default, separators=(",", ":"), ensure_ascii=False
        )
    except (TypeError, ValueError, RecursionError):
        # Keys JSON cannot have, or a value that contains itself: the record as plain text.
        text = json.dumps(
            {str(key): _default(value) for key, value in record.items()},
            separators=(",", ":"),
            ensure_ascii=False,
        )
    if not text.isascii():
        # Such characters can only be inside JSON strings, where escapes are allowed.
        text = _UNSAFE.sub(_escape, text)
    return text
