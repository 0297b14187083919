"""Readable log lines for a developer's terminal (``LOG_FORMAT=console``, never on Lambda).

On Lambda every log record is one JSON document, for CloudWatch Logs Insights. In a terminal
the same record reads better as one short coloured line, with a traceback printed as Python
prints it. ``run.sh`` chooses this format when its output is a terminal.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import datetime
from typing import Any

from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

_COLOURS = {"DEBUG": "\033[2m", "INFO": "\033[32m", "WARNING": "\033[33m", "ERROR": "\033[31m",
            "CRITICAL": "\033[1;31m"}  # fmt: skip
_RESET = "\033[0m"
#: Control characters a client may have slipped into a logged value (escape sequences, CR,
#: LF), shown as escapes so they neither colour the terminal nor start a forged line.
_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0))}
#: The same, keeping the line breaks and tabs of a traceback.
_TRACEBACK_CONTROLS = {c: v for c, v in _CONTROLS.items() if chr(c) not in "\n\t"}
#: Keys every JSON record has that a developer at a terminal does not need on each line.
_QUIET = frozenset(
    {"level", "location", "message", "timestamp", "service", "cold_start", "sampling_rate",
     "xray_trace_id", "exception", "exception_name", "stack_trace", "method", "path",
     "taskName"}
)  # fmt: skip


def console_requested() -> bool:
    """Whether logs go to a developer's terminal: ``LOG_FORMAT=console``, off Lambda."""
    on_lambda = bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))
    return not on_lambda and os.environ.get("LOG_FORMAT", "").lower() == "console"


class ConsoleFormatter(LambdaPowertoolsFormatter):
    """Powertools' record, written as ``12:00:00.000 INFO  GET /items/1  message  key=value``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.colour = not os.environ.get("NO_COLOR")

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = json.loads(super().format(record))
        level = str(fields.get("level", record.levelname))
        when = datetime.fromtimestamp(record.created).strftime("%H:%M:%S.%f")[:-3]
        shown_level = f"{level:<5}"
        if self.colour:
            shown_level = f"{_COLOURS.get(level, '')}{shown_level}{_RESET}"
        parts = [when, shown_level]
        if fields.get("method") and fields.get("path"):
            parts.append(f"{fields['method']} {fields['path']}".translate(_CONTROLS))
        parts.append(str(fields.get("message", "")).translate(_CONTROLS))
        parts += [
            f"{key}={value}".translate(_CONTROLS)
            for key, value in fields.items()
            if key not in _QUIET
        ]
        line = "  ".join(parts)
        exception = fields.get("exception")
        return f"{line}\n{str(exception).translate(_TRACEBACK_CONTROLS)}" if exception else line
