"""Files that template releases moved, and how an update moves the user's copies.

A release that moves a file lists it in ``MOVES``. After ``copier update`` has applied the new
release, the user's version of the old file (edited or not: it matches their code, which the
new release's sample may not) replaces the new release's sample at the new path, so it is
neither duplicated nor orphaned. A move never overwrites a file of the user's: when the new
path already held a file before the update, both are kept and the user is told.

Moves are idempotent: once the old file is gone, there is nothing left to move.
"""

from __future__ import annotations

import fnmatch
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

#: Release -> (old path, new path), as templates relative to the repository root.
MOVES: dict[str, list[tuple[str, str]]] = {
    # The sample routes' tests were renamed.
    "v0.2.0": [
        (
            "{directory}/{api_name}/tests/test_main.py",
            "{directory}/{api_name}/tests/test_routes.py",
        )
    ],
}

#: Per-API copies of the machinery that releases moved into shared packages of the repository
#: (``common/toolchain``: the build; ``common/client-runtime``: what every client calls), as
#: ``fnmatch`` patterns relative to the repository root. Copier deletes them on update; an
#: edited one is put back by keep_edits.py and set aside here with :data:`SET_ASIDE_SUFFIX`,
#: so it is neither run, imported, type-checked nor collected, and the user moves their change.
MACHINERY = (
    "{directory}/{api_name}/scripts/*",
    "{directory}/{api_name}-client/{module_name}_client/_base.py",
    "{directory}/{api_name}-client/{module_name}_client/auth.py",
    "{directory}/{api_name}-client/{module_name}_client/urls.py",
    "{directory}/{api_name}-client/tests/test_client.py",
)
#: The same for a repository whose infrastructure is (still) the CDK: the API's construct, now
#: generated with its operations (``<module>_operations.py``). Switched away from the CDK, it
#: has no replacement to move edits into: it stays where it is, a kept file of the old choice
#: (keep_edits.py lists it).
CDK_MACHINERY = ("{directory}/common/constructs/src/common_constructs/app/apis/{module_name}.py",)
#: The same for a repository on Terraform: the API module's own resources, now built by the core
#: modules (core/api/fastapi, rest-api, http-api) from its answers. A kept copy would declare
#: them twice, so it is set aside where Terraform does not read it.
TERRAFORM_MACHINERY = tuple(
    f"{{directory}}/common/terraform/src/app/apis/{{api_name}}/{name}"
    for name in (
        "api.tf",
        "cognito.tf",
        "authorizer.tf",
        "tests/streaming.tftest.hcl",
        "tests/openapi.json",
        "tests/lambda.zip",
    )
)
SET_ASIDE_SUFFIX = ".before-toolchain"

_DESCRIBED = re.compile(r"^v?(?P<base>\d+(\.\d+)*)(-(?P<ahead>\d+)-g[0-9a-f]+)?$")


@dataclass(frozen=True)
class Outcome:
    """What the moves did: moved (old, new) pairs, and old files kept beside a user's file."""

    moved: list[tuple[str, str]]
    kept_beside: list[tuple[str, str]]


def version_of(commit: Any) -> Version | None:
    """The release a recorded ``_commit`` stands at (``v0.2.0-3-gabc`` is past v0.2.0)."""
    match = _DESCRIBED.match(str(commit or ""))
    if not match:
        return None
    try:
        base = Version(match["base"])
    except InvalidVersion:
        return None
    ahead = int(match["ahead"] or 0)
    return Version(f"{base}.post{ahead}") if ahead else base


def crossed(previous: Any, current: Any) -> list[tuple[str, str]]:
    """The moves of the releases after ``previous`` up to ``current``."""
    old, new = version_of(previous), version_of(current)
    if old is None or new is None:
        return []
    return [
        move
        for release, moves in MOVES.items()
        if old < Version(release.lstrip("v")) <= new
        for move in moves
    ]


def _tracked_at_head(path: str) -> bool:
    result = subprocess.run(
        ["git", "cat-file", "-e", f"HEAD:{path}"], capture_output=True, check=False
    )
    return result.returncode == 0


def apply_moves(moves: list[tuple[str, str]], answers: dict[str, Any]) -> Outcome:
    """Move the user's old files to their new paths; never overwrite a file of theirs."""
    moved: list[tuple[str, str]] = []
    kept_beside: list[tuple[str, str]] = []
    for old_template, new_template in moves:
        old = old_template.format_map(answers)
        new = new_template.format_map(answers)
        if not Path(old).is_file() and _tracked_at_head(old) and not _tracked_at_head(new):
            # The update deleted the old file because the user had not edited it; it still
            # matches their code (the new release's sample at the new path may not), so it
            # moves all the same.
            content = subprocess.run(
                ["git", "show", f"HEAD:{old}"], check=True, capture_output=True
            ).stdout
            Path(old).parent.mkdir(parents=True, exist_ok=True)
            Path(old).write_bytes(content)
        if not Path(old).is_file():
            continue  # moved already, or never there
        if Path(new).exists() and _tracked_at_head(new):
            # The user had a file of their own at the new path: keep both.
            kept_beside.append((old, new))
            continue
        Path(new).parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "mv", "-f", old, new], check=True, capture_output=True)
        moved.append((old, new))
    return Outcome(moved, kept_beside)


def set_aside_machinery(kept: list[str], answers: dict[str, Any]) -> list[tuple[str, str]]:
    """Rename the kept (edited) per-API machinery beside the shared packages; return the
    (old, new) paths. Idempotent: a file set aside before is not set aside again."""
    own = {"CDK": CDK_MACHINERY, "Terraform": TERRAFORM_MACHINERY}.get(
        str(answers.get("iac_provider")), ()
    )
    patterns = [pattern.format_map(answers) for pattern in (*MACHINERY, *own)]
    aside = []
    for path in kept:
        if not any(fnmatch.fnmatch(path, pattern) for pattern in patterns):
            continue
        target = f"{path}{SET_ASIDE_SUFFIX}"
        if Path(target).exists():
            continue
        Path(path).rename(target)
        aside.append((path, target))
    return aside
