"""Put a copy's destination back as it was when the copy fails or is interrupted.

Copier removes the destination of a failed copy only when it created it, and not at all when
the copy is interrupted: Ctrl-C raises ``KeyboardInterrupt``, which its clean-up does not catch,
and SIGTERM ends the process at once. A copy into a folder of the user's would then leave the
template's files among theirs. So, just before Copier writes its first file (it renders the
``_exclude`` patterns then, with the final answers), :func:`journal_destination` records which
of the paths the copy writes exist already, and copies the files it would replace (only
possible with ``--overwrite``) into a temporary folder outside the destination. When the copy
ends:

* it succeeded: that temporary folder is deleted, nothing is left anywhere;
* it failed or was interrupted: the files it created are deleted, the folders it created are
  removed once empty, the ``.git`` of its first commit is removed, and the files it replaced are
  put back byte for byte, with their modes.

Nothing else is ever deleted: only a path that did not exist when the journal was taken *and*
that the copy writes (one of its files, the ``.git`` of the first commit) or an empty folder
that did not exist before. A file of the user's survives any misfire, even one written into a
new folder while the copy ran.

How the end of the copy is learnt, most precise first:

1. Copier's worker runs its clean-up hooks when ``run_copy`` returns or raises (the CLI and the
   library alike); the journal adds one, and the exception being raised, if any, says whether
   the copy failed. The hook list is private to Copier, so it is used only when it is there;
2. otherwise, at interpreter exit: the template's last task marks the journal finished (tasks
   run after every file is written); a journal without the mark is put back, unless tasks were
   skipped, in which case nothing is removed and the backups are kept and named.

SIGTERM and SIGHUP, whose default ends the process without any clean-up, exit through Python
while a copy writes (only where no other handler is installed), and no signal interrupts the
putting back.

Usage as a script (the template's last task): ``python copy_journal.py <marker file>``.
"""

from __future__ import annotations

import atexit
import inspect
import os
import shutil
import signal
import stat
import sys
import tempfile
import threading
from collections.abc import Iterable
from contextlib import suppress
from pathlib import Path, PurePosixPath
from types import FrameType
from typing import Any

from jinja2 import Environment, pass_context
from jinja2.ext import Extension
from jinja2.runtime import Context

#: Name of the file the template's last task creates in the journal's folder.
FINISHED = "finished"

#: Signals whose default action ends the process without running any Python code.
_TERMINATING = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)
)
_QUIET = (signal.SIGINT, *_TERMINATING)


def _kind(path: Path) -> str | None:
    """``file``, ``dir``, ``symlink`` or ``other`` for what ``path`` is, ``None`` if nothing."""
    try:
        mode = path.lstat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISDIR(mode):
        return "dir"
    return "file" if stat.S_ISREG(mode) else "other"


def _same(backup: Path, path: Path) -> bool:
    """Whether ``path`` is still what ``backup`` holds: type, content (or target) and mode."""
    kind = _kind(path)
    if kind != _kind(backup):
        return False
    if kind == "symlink":
        return os.readlink(path) == os.readlink(backup)
    return (
        stat.S_IMODE(path.stat().st_mode) == stat.S_IMODE(backup.stat().st_mode)
        and path.read_bytes() == backup.read_bytes()
    )


def _put(source: Path, target: Path) -> None:
    """Copy the file or symlink ``source`` to ``target`` (mode and times kept)."""
    if _kind(source) == "symlink":
        os.symlink(os.readlink(source), target)
    else:
        shutil.copy2(source, target)


def _terminate(signum: int, frame: FrameType | None) -> None:
    """Leave through Python (clean-up hooks, ``atexit``) with the exit status of ``signum``."""
    raise SystemExit(128 + signum)


def _set_handlers(handlers: dict[int, Any]) -> None:
    if threading.current_thread() is not threading.main_thread():
        return  # only the main thread may set signal handlers; the defaults then stay
    for signum, handler in handlers.items():
        if handler is not None:  # None: a handler not installed from Python, left alone
            signal.signal(signum, handler)


class Journal:
    """What a destination held, at the paths a copy writes, just before the copy wrote."""

    def __init__(self, destination: Path, planned: Iterable[str], *, tasks_run: bool) -> None:
        self.destination = destination
        self.planned = sorted({PurePosixPath(rel).as_posix() for rel in planned if rel})
        # The kind of every planned path, of the folders holding them and of `.git`, before.
        self.before: dict[str, str | None] = {"": _kind(destination), ".git": None}
        for rel in self.planned:
            parts = PurePosixPath(rel).parts
            for end in range(1, len(parts) + 1):
                key = "/".join(parts[:end])
                if key not in self.before:
                    self.before[key] = _kind(destination / key)
        self.before[".git"] = _kind(destination / ".git")
        self.tasks_run = tasks_run
        self.closed = False
        self.folder = Path(tempfile.mkdtemp(prefix="copier-journal-"))
        try:
            self.replaced = [rel for rel in self.planned if self.before[rel] in {"file", "symlink"}]
            for rel in self.replaced:
                backup = self.folder / "files" / rel
                backup.parent.mkdir(parents=True, exist_ok=True)
                _put(destination / rel, backup)
        except BaseException:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise
        # An exception being handled around the copy is not the copy's failure.
        self.ambient = sys.exc_info()[1]
        self.handlers: dict[int, Any] = {}

    @property
    def marker(self) -> Path:
        """The file the template's last task creates once every file is written."""
        return self.folder / FINISHED

    def arm(self) -> None:
        """Be told when the copy ends, through Copier's worker when possible, else at exit."""
        atexit.register(self.at_exit)
        hooks = getattr(_running_worker(), "_cleanup_hooks", None)
        if isinstance(hooks, list):
            hooks.insert(0, self.on_worker_exit)  # first: another hook's failure skips the rest
        if threading.current_thread() is threading.main_thread():
            for signum in _TERMINATING:
                if signal.getsignal(signum) is signal.SIG_DFL:
                    self.handlers[signum] = signal.signal(signum, _terminate)

    def on_worker_exit(self) -> None:
        """Copier's worker is done: the copy failed if an exception is on its way out."""
        error = sys.exc_info()[1]
        failed = error is not None and error is not self.ambient
        self.close(failed=failed, reason=error)

    def at_exit(self) -> None:
        """The interpreter exits and the worker never said how the copy ended."""
        if self.closed:
            return
        if self.marker.exists():
            self.close(failed=False)
        elif self.tasks_run:
            self.close(failed=True, reason="it stopped before its last task")
        else:
            self.closed = True
            kept = f"; the files it replaced are kept in {self.folder}" if self.replaced else ""
            if not self.replaced:
                shutil.rmtree(self.folder, ignore_errors=True)
            _say(f"Could not tell whether the copy into {self.destination} finished (tasks were "
                 f"skipped), so nothing was removed{kept}.")  # fmt: skip

    def close(self, *, failed: bool, reason: object = None) -> None:
        """Forget the journal after a success; put the destination back after a failure."""
        if self.closed:
            return
        self.closed = True
        previous = {signum: signal.getsignal(signum) for signum in _QUIET}
        _set_handlers(dict.fromkeys(_QUIET, signal.SIG_IGN))
        try:
            atexit.unregister(self.at_exit)
            if failed:
                _say(self.report(reason, *self.restore()))
            else:
                shutil.rmtree(self.folder, ignore_errors=True)
        except Exception as error:  # never fail a copy, nor hide why it failed
            _say(f"Putting {self.destination} back failed: {error!r}; the files the copy "
                 f"replaced are kept in {self.folder}.")  # fmt: skip
        finally:
            _set_handlers(previous | self.handlers)
            _OPEN.pop(self.destination, None)

    def _under_symlink(self, rel: str) -> bool:
        parents = PurePosixPath(rel).parents
        return any(
            self.before.get(str(parent)) == "symlink"
            or _kind(self.destination / parent) == "symlink"
            for parent in parents
            if str(parent) != "."
        )

    def restore(self) -> tuple[list[str], list[str]]:
        """Put the destination back; return the files put back and what could not be."""
        dst, put_back, problems, kept = self.destination, [], [], False
        # Files the copy created (never through a symlinked folder).
        for rel in self.planned:
            if self.before[rel] is None and not self._under_symlink(rel):
                kind = _kind(dst / rel)
                if kind in {"file", "symlink"}:
                    (dst / rel).unlink()
                elif kind is not None:
                    problems.append(f"{rel} is now a {kind} the copy did not write; left there")
        if self.before[".git"] is None and _kind(dst / ".git") == "dir":
            shutil.rmtree(dst / ".git")
        # Folders it created, deepest first, when nothing but empty folders is left in them.
        created = [rel for rel, kind in self.before.items() if rel and kind is None]
        for rel in sorted(created, key=lambda r: r.count("/"), reverse=True):
            if _kind(dst / rel) != "dir" or self._under_symlink(rel):
                continue
            for root, _dirs, _files in os.walk(dst / rel, topdown=False):
                if not any(Path(root).iterdir()):
                    Path(root).rmdir()
            if (dst / rel).exists():
                problems.append(f"{rel}/ holds files the copy did not write; left there")
        # Files it replaced.
        for rel in self.replaced:
            backup, path = self.folder / "files" / rel, dst / rel
            if _kind(path) == "dir":
                problems.append(f"{rel} was replaced by a folder; your file is kept in {backup}")
                kept = True
            elif not _same(backup, path):
                if _kind(path) is not None:
                    path.unlink()
                _put(backup, path)
                put_back.append(rel)
        if self.before[""] is None and _kind(dst) == "dir" and not any(dst.iterdir()):
            dst.rmdir()
        if not kept:
            shutil.rmtree(self.folder, ignore_errors=True)
        return put_back, problems

    def report(self, reason: object, put_back: list[str], problems: list[str]) -> str:
        """What the user reads after a failed copy was put back."""
        lines = [f"The copy did not finish ({_why(reason)}): "]
        if problems:
            lines[0] += f"{self.destination} is put back as far as it could be."
        elif self.before[""] is None:
            lines[0] += f"{self.destination} is removed, as it did not exist before."
        else:
            lines[0] += f"{self.destination} holds again what it held before the copy."
        if put_back:
            lines.append("Put back as they were: " + ", ".join(put_back))
        if problems:
            lines += ["Could not put everything back:", *(f"  {p}" for p in problems)]
        return "\n".join(lines)


#: Journals not closed yet, by destination (one module per Copier worker: Copier loads the
#: template's extensions anew for each).
_OPEN: dict[Path, Journal] = {}


def _why(reason: object) -> str:
    """``reason`` (the exception that ended the copy, or words) as the report gives it."""
    if isinstance(reason, KeyboardInterrupt):
        return "interrupted"
    if isinstance(reason, SystemExit) and isinstance(reason.code, int) and reason.code > 128:
        try:
            return f"stopped by {signal.Signals(reason.code - 128).name}"
        except ValueError:
            pass
    if isinstance(reason, BaseException):
        text = str(reason).strip().splitlines()
        return f"{type(reason).__name__}: {text[0]}" if text else type(reason).__name__
    return str(reason)


def _say(message: str) -> None:
    with suppress(OSError, ValueError):  # a closed terminal must not stop the putting back
        print(message, file=sys.stderr, flush=True)


def _running_worker() -> object | None:
    """The Copier worker whose rendering called this extension, found on the call stack."""
    frame = inspect.currentframe()
    while frame is not None:
        candidate = frame.f_locals.get("self")
        kind = type(candidate)
        if kind.__name__ == "Worker" and kind.__module__.split(".")[0] == "copier":
            return candidate
        frame = frame.f_back
    return None


@pass_context
def journal_destination(context: Context, planned: Iterable[str]) -> str:
    """Take the journal of a copy's destination, once, before Copier writes; render nothing.

    ``planned`` are the files (relative POSIX paths) the copy writes. Only copies are journaled,
    not updates; not with ``--pretend`` (nothing is written), nor with ``--no-cleanup`` (the
    user asked to keep what a failed copy wrote).
    """
    conf = context.get("_copier_conf") or {}
    if (
        context.get("_copier_operation") != "copy"
        or str(context.get("_copier_phase", "render")) != "render"
        or not conf.get("dst_path")
        or conf.get("pretend")
        or not conf.get("cleanup_on_error", True)
    ):
        return ""
    destination = Path(str(conf["dst_path"])).absolute()
    if destination not in _OPEN:
        journal = Journal(destination, planned, tasks_run=not conf.get("skip_tasks"))
        journal.arm()
        _OPEN[destination] = journal
    return ""


@pass_context
def journal_marker(context: Context) -> str:
    """The file the last task creates to mark the copy finished, ``""`` without a journal."""
    conf = context.get("_copier_conf") or {}
    journal = _OPEN.get(Path(str(conf.get("dst_path", ""))).absolute())
    return str(journal.marker) if journal else ""


class CopyJournalExtension(Extension):
    """Registers the journal's globals with Copier's Jinja environment."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.globals["journal_destination"] = journal_destination
        environment.globals["journal_marker"] = journal_marker


if __name__ == "__main__":
    Path(sys.argv[1]).touch()
