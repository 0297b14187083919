"""Keep the user's edited files that ``copier update`` deleted because an answer changed.

Copier deletes every file the previous answers generated and the new answers do not (for
example ``rest_api.py`` when ``compute_type`` switches to the HTTP API), even when the user
edited it. This script runs as the template's ``after`` migration of every update: Copier only
updates a clean git tree, so each deleted file is still in ``HEAD``. The files whose ``HEAD``
content differs from what the previous template version generated hold the user's work; they
are put back (unchanged from ``HEAD``) and listed, so the user decides what to do with them.

Then the files that the releases crossed by this update moved are moved (``migrations.py``),
and the update's result is put in git's index so that ``git commit -a`` records all of it:
Copier only updates a tree without untracked files, so every untracked file now is one the
update wrote (conflict leftovers, ``*.rej`` and ``*.orig``, stay untracked for the user to see),
and a file an earlier migration step removed from the index (``ownership_layout.py``) that the
new release writes again is tracked again instead of staying staged for deletion. The user is
told only what is left to do.

Usage (from copier.yml): ``python keep_edits.py <template clone> <answers file>``, run in the
destination repository.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml
from migrations import Outcome, apply_moves, crossed
from naming import owns_repository, planned_files


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], check=True, capture_output=True, text=True, encoding="utf-8"
    ).stdout


def _git_bytes(*args: str) -> bytes:
    return subprocess.run(["git", *args], check=True, capture_output=True).stdout


def deleted_files() -> list[str]:
    """Tracked files missing from the working tree: those the update deleted."""
    return [line for line in _git("ls-files", "--deleted", "-z").split("\0") if line]


def previous_answers(answers_file: str) -> dict[str, Any]:
    """The answers recorded before the update (the committed answers file)."""
    data = yaml.safe_load(_git("show", f"HEAD:{answers_file}"))
    return data if isinstance(data, dict) else {}


def render_previous(template: str, answers: dict[str, Any], dst: Path) -> None:
    """Render the template version and answers of the last update into ``dst``."""
    import copier  # Copier's own interpreter runs this script.

    data = {key: value for key, value in answers.items() if not key.startswith("_")}
    last_error: Exception | None = None
    for source in (template, str(answers.get("_src_path", ""))):
        if not source:
            continue
        try:
            copier.run_copy(
                source,
                dst,
                data=data,
                vcs_ref=str(answers["_commit"]),
                defaults=True,
                quiet=True,
                unsafe=True,
            )
            return
        except Exception as error:  # fall back to the recorded source
            last_error = error
    raise SystemExit(f"Could not render the previous template version: {last_error}")


def keep_edited(template: str, answers_file: str) -> list[str]:
    """Restore the deleted files the user had edited; return their paths."""
    deleted = deleted_files()
    if not deleted:
        return []
    with tempfile.TemporaryDirectory(prefix="copier-previous-") as tmp:
        previous = Path(tmp) / "render"
        render_previous(template, previous_answers(answers_file), previous)
        kept = []
        for path in deleted:
            committed = _git_bytes("show", f"HEAD:{path}")
            generated = previous / path
            if generated.is_file() and generated.read_bytes() == committed:
                continue  # untouched template output: the deletion loses nothing
            target = Path(path)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(committed)
            mode = _git("ls-files", "-s", "--", path).split(" ", 1)[0]
            if mode == "100755":
                target.chmod(0o755)
            kept.append(path)
    return kept


#: Leftovers of a conflict, never staged: the user must see and resolve them.
LEFTOVERS = (".rej", ".orig")


def track_update() -> list[str]:
    """Put the update's files in the index; return the paths newly added to it.

    A path staged for deletion but present in the working tree gets its ``HEAD`` entry back
    (the working tree's content is then an ordinary change for ``git commit -a``); an untracked
    file, which only the update can have written, is added.
    """
    staged_deleted = _git("diff", "--cached", "--name-only", "--diff-filter=D", "-z")
    back = [path for path in staged_deleted.split("\0") if path and Path(path).is_file()]
    if back:
        _git("reset", "--quiet", "--", *back)
    untracked = _git("ls-files", "--others", "--exclude-standard", "-z").split("\0")
    new = [path for path in untracked if path and not path.endswith(LEFTOVERS)]
    if new:
        _git("add", "--", *new)
    return new


def current_answers(answers_file: str) -> dict[str, Any]:
    """The answers the update just recorded."""
    data = yaml.safe_load(Path(answers_file).read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def deleted_managed(template: str, answers_file: str, answers: dict[str, Any]) -> list[str]:
    """Files the template writes for these answers that are missing after the update.

    Copier keeps deleted a file the user deleted (it is not at ``HEAD`` but the previous
    version rendered it); every other file of the new version is written, so a planned file
    that is missing now is one the user deleted.
    """
    planned = planned_files(template, answers, answers_file)
    if not owns_repository(answers_file):
        from ownership_layout import owned_by  # imports this module: only when needed

        planned = {rel for rel in planned if owned_by(answers, rel)}
    return sorted(rel for rel in planned if not Path(rel).exists())


def restore_command(answers_file: str, answers: dict[str, Any]) -> str:
    """The command that renders the template as ``answers`` record it, into a new folder."""
    return (
        f"copier copy --trust --defaults --skip-tasks --data-file {answers_file} "
        f"--vcs-ref {answers.get('_commit')} {answers.get('_src_path')} <new-folder>"
    )


def report(
    kept: list[str],
    outcome: Outcome,
    deleted: tuple[str, ...] | list[str] = (),
    restore: str = "",
) -> str:
    """What the user must do, and nothing else: empty when there is nothing to do."""
    moved = {old for old, _ in outcome.moved}
    beside = {old: new for old, new in outcome.kept_beside}
    to_review = [path for path in kept if path not in moved and path not in beside]
    lines = []
    if to_review:
        lines.append(
            "The new answers no longer generate these files, but you had edited them, so they "
            "were kept:"
        )
        lines += [f"  {path}" for path in to_review]
        lines.append("Move what you need into the new files, then delete them (git rm).")
    if beside:
        lines.append(
            "This release moves these files to a path where you already have a file of your "
            "own; both were kept:"
        )
        lines += [f"  {old} (its new path: {new})" for old, new in beside.items()]
        lines.append("Merge each into the file at its new path, then delete it (git rm).")
    if deleted:
        lines.append(
            "The template manages these files, which were deleted in this repository; the "
            "update leaves them deleted:"
        )
        lines += [f"  {path}" for path in deleted]
        lines.append(
            "Nothing to do if that was on purpose. To get one back as this release writes it, "
            "render the template with this API's answers into a new folder and copy it from "
            f"there:\n  {restore}\n  cp <new-folder>/<path> <path>"
        )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    """Entry point: ``keep_edits.py <template clone> <answers file>``."""
    template, answers_file = argv
    kept = keep_edited(template, answers_file)
    before, after = previous_answers(answers_file), current_answers(answers_file)
    outcome = apply_moves(crossed(before.get("_commit"), after.get("_commit")), after)
    for old, new in outcome.moved:
        print(f"Moved {old} to {new} (with your changes)", file=sys.stderr)
    track_update()
    deleted = deleted_managed(template, answers_file, after)
    message = report(kept, outcome, deleted, restore_command(answers_file, after))
    if message:
        print(message, file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
