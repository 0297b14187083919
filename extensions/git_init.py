"""Make a newly generated repository a git repository, with the generated files committed.

Run by Copier after the first copy of a repository's first API (see ``_tasks`` in copier.yml),
in the destination folder, so that ``pre-commit install`` and ``copier update`` (which needs a
clean git tree) work at once. A destination already inside a git repository is left alone: the
user commits there when they choose. A failure here never fails the copy: the files are
written, and the message says what to run instead.

The first commit holds the files the template wrote and nothing else: a file that was in the
folder before the copy (a ``.env``, notes, anything of the user's) stays untracked, and is
named so that the user commits it on purpose or not at all.

Usage: ``python git_init.py <template root> <answers file>``, run in the destination folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from naming import planned_files

#: Used for the initial commit only when git has no identity of the user's.
FALLBACK_NAME = "copier-fastapi-lambda"
FALLBACK_EMAIL = "copier-fastapi-lambda@localhost"

COMMIT_MESSAGE = "Generate the project from the copier-fastapi-lambda template"


def _git(git: str, project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([git, *args], cwd=project, capture_output=True, text=True, check=False)


def inside_repository(git: str, project: Path) -> bool:
    """Whether ``project`` is in the work tree of a git repository (its own or a parent's)."""
    result = _git(git, project, "rev-parse", "--is-inside-work-tree")
    return result.returncode == 0 and result.stdout.strip() == "true"


def fallback_identity(git: str, project: Path) -> list[str]:
    """``-c`` options for the parts of the committer identity the user has not configured."""
    options: list[str] = []
    if _git(git, project, "config", "user.name").returncode != 0 and not (
        os.environ.get("GIT_AUTHOR_NAME") and os.environ.get("GIT_COMMITTER_NAME")
    ):
        options += ["-c", f"user.name={FALLBACK_NAME}"]
    if _git(git, project, "config", "user.email").returncode != 0 and not (
        os.environ.get("EMAIL")
        or (os.environ.get("GIT_AUTHOR_EMAIL") and os.environ.get("GIT_COMMITTER_EMAIL"))
    ):
        options += ["-c", f"user.email={FALLBACK_EMAIL}"]
    return options


def generated_files(project: Path, template: str, answers_file: str) -> list[str]:
    """The files of ``project`` that the copy wrote: those the template plans for its answers."""
    recorded = yaml.safe_load((project / answers_file).read_text(encoding="utf-8"))
    answers: dict[str, Any] = recorded if isinstance(recorded, dict) else {}
    planned = planned_files(template, answers, answers_file)
    return sorted(rel for rel in planned if (project / rel).is_file())


def untracked(git: str, project: Path) -> list[str]:
    """Files git would list as untracked (not ignored)."""
    listed = _git(git, project, "ls-files", "--others", "--exclude-standard", "-z").stdout
    return [name for name in listed.split("\0") if name]


def main(argv: list[str]) -> int:
    """Initialise and commit; print what happened when it is not the ordinary case."""
    template, answers_file = argv[1], argv[2]
    project = Path().resolve()
    git = shutil.which("git")
    if git is None:
        print("git is not installed: run `git init` and commit the project yourself.")
        return 0
    if inside_repository(git, project):
        return 0
    identity = fallback_identity(git, project)
    generated = generated_files(project, template, answers_file)
    for args in (
        ("init", "--quiet"),
        ("add", "--", *generated),
        (*identity, "commit", "--quiet", "--no-verify", "-m", COMMIT_MESSAGE),
    ):
        result = _git(git, project, *args)
        if result.returncode != 0:
            print(
                f"`git {' '.join(args)}` failed, so the project has no initial commit; "
                f"commit it yourself.\n{result.stderr.strip()}",
                file=sys.stderr,
            )
            return 0
    others = untracked(git, project)
    if others:
        print(
            "Not committed, because the copy did not write them (commit what you mean to "
            "share, never secrets):\n" + "\n".join(f"  {name}" for name in others)
        )
    if identity:
        print(
            f"The initial commit's author is '{FALLBACK_NAME}' because git has no identity of "
            "yours: set it with `git config --global user.name ...` and `user.email ...`, then "
            "`git commit --amend --reset-author --no-edit`."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
