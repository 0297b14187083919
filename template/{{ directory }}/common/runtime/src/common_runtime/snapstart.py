"""What a Lambda SnapStart snapshot and restore ask of the app, run from Lambda Web Adapter's hooks.

With SnapStart, Lambda initialises the function once, snapshots the environment and restores
every later environment from that snapshot, so whatever the app computed at start-up is shared
by all of them: the state of ``random``, cached credentials and connections, and the fact that
the process has served nothing yet. The app runs behind the adapter, in a process of its own,
so the Python runtime's own hooks (``snapshot_restore_py``) never reach it; the adapter calls
two HTTP paths instead, named by ``AWS_LWA_SNAPSTART_BEFORE_CHECKPOINT_PATH`` and
``AWS_LWA_SNAPSTART_AFTER_RESTORE_PATH`` (an empty ``POST`` each; a status other than 2xx fails
the phase). ``health.AdapterEndpoints`` answers them by running the callbacks registered here.

After a restore the runtime itself:

- reseeds ``random`` from the operating system (OpenTelemetry's X-Ray trace and span ids come
  from it: restored environments would otherwise generate the same ids);
- forgets boto3's default session (its cached credentials), when boto3 was imported;
- marks the next request as the environment's cold start;
- closes the sockets that tracing holds; they reopen on first use.

Register your own, e.g. to reconnect a database pool::

    from common_runtime.snapstart import register_after_restore

    register_after_restore(pool.reset)
"""

from __future__ import annotations

import random
import sys
import threading
import weakref
from collections.abc import Callable
from typing import Any

_lock = threading.Lock()
_before_checkpoint: list[Callable[[], Callable[[], Any] | None]] = []
_after_restore: list[Callable[[], Callable[[], Any] | None]] = []


def _reference(callback: Callable[[], Any]) -> Callable[[], Callable[[], Any] | None]:
    """A reference to ``callback`` that does not keep its object alive (bound methods)."""
    if hasattr(callback, "__self__") and hasattr(callback, "__func__"):
        return weakref.WeakMethod(callback)
    return lambda: callback


def register_before_checkpoint(callback: Callable[[], Any]) -> Callable[[], Any]:
    """Run ``callback`` before Lambda snapshots the environment (drain, close)."""
    with _lock:
        _before_checkpoint.append(_reference(callback))
    return callback


def register_after_restore(callback: Callable[[], Any]) -> Callable[[], Any]:
    """Run ``callback`` after Lambda restores an environment from the snapshot (reconnect,
    refresh credentials); it must finish well within Lambda's 10 s restore limit."""
    with _lock:
        _after_restore.append(_reference(callback))
    return callback


def _run(callbacks: list[Callable[[], Callable[[], Any] | None]]) -> None:
    """Run the live callbacks, in the order registered; the first failure stops the phase."""
    with _lock:
        live = [callback for reference in callbacks if (callback := reference()) is not None]
        callbacks[:] = [reference for reference in callbacks if reference() is not None]
    for callback in live:
        callback()


def before_checkpoint() -> None:
    """What runs before the snapshot: the registered callbacks, then stdout flushed."""
    _run(_before_checkpoint)
    sys.stdout.flush()


def after_restore() -> None:
    """What a restored environment refreshes (see the module's docstring), then the
    registered callbacks."""
    random.seed()  # from os.urandom
    boto3 = sys.modules.get("boto3")
    if boto3 is not None:
        setattr(boto3, "DEFAULT_SESSION", None)  # noqa: B010 (not typed in every version)
    _run(_after_restore)
