"""Migrations of generated projects between template releases, run by ``copier update``.

Each migration runs after Copier applied the new release and moves what the release moved:
the user's edited version of a moved file (which ``keep_edits.py`` kept) replaces the new
release's copy at the new path, so it is neither duplicated nor orphaned.

Usage (from copier.yml): ``python migrations.py <migration> <answers file>``, run in the
destination repository.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml


def answers(answers_file: str) -> dict[str, Any]:
    """The answers recorded before the update."""
    data = yaml.safe_load(Path(answers_file).read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def move(old: Path, new: Path) -> bool:
    """``git mv -f old new`` when ``old`` is still there (the user edited it); whether it moved."""
    if not old.is_file():
        return False
    new.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "mv", "-f", str(old), str(new)], check=True)
    print(f"Moved {old} to {new}", file=sys.stderr)
    return True


def rename_sample_tests(recorded: dict[str, Any]) -> None:
    """v0.2.0: the sample routes' tests move from tests/test_main.py to tests/test_routes.py."""
    tests = Path(str(recorded["directory"])) / str(recorded["api_name"]) / "tests"
    move(tests / "test_main.py", tests / "test_routes.py")


MIGRATIONS = {"rename-sample-tests": rename_sample_tests}


def main(argv: list[str]) -> int:
    """Entry point: ``migrations.py <migration> <answers file>``."""
    name, answers_file = argv
    MIGRATIONS[name](answers(answers_file))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
