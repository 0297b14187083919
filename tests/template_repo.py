"""The template repository as a clone gets it: git with a fixed identity, the release script.

A clone of the template carries its history but no tags (they are not fetched from a local
path by default, and a fresh GitHub clone may lack them); the working tree's uncommitted state
is committed on top, so what is tested is what the next push will hold.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from conftest import TEMPLATE_ROOT, run, tool_env

RELEASE_SCRIPT = TEMPLATE_ROOT / "scripts" / "release.py"


def git(cwd: Path, *args: str) -> str:
    """Run git in ``cwd`` with a fixed identity; return its output."""
    env = {
        **tool_env(),
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.com",
    }
    return run(["git", *args], cwd, env=env).stdout


def working_tree_files() -> list[str]:
    """The template's files as the next commit would hold them (tracked and new, not ignored)."""
    listed = git(TEMPLATE_ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    return [name for name in listed.split("\0") if name and (TEMPLATE_ROOT / name).is_file()]


def copy_working_tree(target: Path) -> None:
    """Copy the template's working tree files into ``target`` (deleted files stay deleted)."""
    for name in working_tree_files():
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(TEMPLATE_ROOT / name, destination)


def clone_template(dst: Path) -> Path:
    """A clone of the template, without tags, its working tree committed on top."""
    git(TEMPLATE_ROOT, "clone", "--quiet", "--no-tags", str(TEMPLATE_ROOT), str(dst))
    for name in git(dst, "ls-files", "-z").split("\0"):
        if name and not (TEMPLATE_ROOT / name).is_file():
            (dst / name).unlink()
    copy_working_tree(dst)
    git(dst, "add", "--all")
    if git(dst, "status", "--porcelain").strip():
        git(dst, "commit", "--quiet", "-m", "Work in progress")
    return dst


def release(repo: Path, *args: str) -> str:
    """Run the template's release script in ``repo``; return what it printed."""
    return run([sys.executable, str(RELEASE_SCRIPT), *args], repo).stdout
