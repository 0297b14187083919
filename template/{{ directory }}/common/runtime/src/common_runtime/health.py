"""The paths Lambda Web Adapter calls on the app itself: its readiness check and SnapStart hooks.

They are the platform's, not the API's: answered before any other middleware, so they are not
requests of the API (no cold start credited, no metric, no trace, no log line above DEBUG) and
not in the OpenAPI document or the client. Their paths are read from the variables the adapter
reads, so the two never disagree:

- ``AWS_LWA_READINESS_CHECK_PATH`` (default ``/_lambda/health``): ``200`` once the app serves.
  The adapter probes it at start-up and again after a SnapStart restore.
- ``AWS_LWA_SNAPSTART_BEFORE_CHECKPOINT_PATH``, ``AWS_LWA_SNAPSTART_AFTER_RESTORE_PATH``:
  an empty ``POST`` before the snapshot and after a restore, answered ``204`` once
  ``snapstart``'s callbacks have run (``500`` if one failed, which fails the phase). Served only
  when their variable is set; the adapter refuses them to callers from outside (``403``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from aws_lambda_powertools import Logger
from starlette.types import ASGIApp, Receive, Scope, Send

from common_runtime import snapstart

#: The readiness check's path unless ``AWS_LWA_READINESS_CHECK_PATH`` names another; the
#: infrastructure sets that variable to this value.
DEFAULT_HEALTH_PATH = "/_lambda/health"


def adapter_paths(env: Mapping[str, str]) -> dict[str, Callable[[], None] | None]:
    """The adapter's paths in ``env`` and what each runs (``None``: the readiness check)."""
    paths: dict[str, Callable[[], None] | None] = {
        env.get("AWS_LWA_READINESS_CHECK_PATH") or DEFAULT_HEALTH_PATH: None
    }
    if before := env.get("AWS_LWA_SNAPSTART_BEFORE_CHECKPOINT_PATH"):
        paths[before] = snapstart.before_checkpoint
    if after := env.get("AWS_LWA_SNAPSTART_AFTER_RESTORE_PATH"):
        paths[after] = snapstart.after_restore
    return paths


class AdapterEndpoints:
    """Pure ASGI middleware answering the adapter's own paths, outermost."""

    def __init__(self, app: ASGIApp, *, logger: Logger) -> None:
        self.app = app
        self.logger = logger
        self.paths = adapter_paths(os.environ)
        self.done = {
            path: "Ready for the SnapStart snapshot"
            if hook is snapstart.before_checkpoint
            else "Restored from a SnapStart snapshot"
            for path, hook in self.paths.items()
            if hook is not None
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path") if scope["type"] == "http" else None
        if path not in self.paths:
            await self.app(scope, receive, send)
            return
        hook = self.paths[path]
        if hook is None:
            await _answer(send, 200, b'{"status":"ok"}')
            return
        if scope["method"] != "POST":
            await _answer(send, 405, b'{"detail":"Method Not Allowed"}')
            return
        try:
            hook()
        except Exception:
            self.logger.exception("SnapStart hook failed", extra={"path": path})
            await _answer(send, 500, b'{"detail":"SnapStart hook failed"}')
            return
        self.logger.info(self.done[path])
        await _answer(send, 204, b"")


async def _answer(send: Send, status: int, body: bytes) -> None:
    headers = [(b"content-length", str(len(body)).encode())]
    if body:
        headers.append((b"content-type", b"application/json"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
