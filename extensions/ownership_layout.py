"""Before an update from a release older than the ownership layout (v0.3.0) onto it.

Two things of the old layout would otherwise turn into conflicts:

- Every API rendered the repository's shared files with its own answers: a second API wrote,
  for instance, the HTTP API core module next to the first API's REST one. Updating the first
  API then took that file for a user's addition and conflicted with the new release's version.
  Each shared file that is exactly what another API's answers rendered is set back to what
  this answers file rendered (or removed where it rendered nothing), so the update brings the
  new release's version and keeps every real user edit.
- Each API's ``init.py`` held the whole observability runtime (about 400 lines); it is now a
  short file wiring the repository's runtime. A 3-way merge of an edited old ``init.py`` into
  the new one gives a file that no longer runs. When the user had edited it, their version is
  kept whole as ``init_before_runtime.py`` next to it, and ``init.py`` takes the new release's
  version: the project runs, and the user moves what they need.

Both steps change the working tree and the index before Copier computes the user's changes.

Usage (from copier.yml): ``python ownership_layout.py <template clone> <answers file>``, run in
the destination repository.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from keep_edits import previous_answers, render_previous
from migrations import version_of
from packaging.version import Version

#: The first release in which each API renders only its own files.
OWNERSHIP_LAYOUT = Version("0.3.0")
REPOSITORY_ANSWERS = ".copier-answers.yml"


def owned_by(answers: dict[str, Any], rel: str) -> bool:
    """Whether ``rel`` is one of the API's own files, not a shared one: what copier.yml's
    ``_exclude`` lets an added API render (its answers file, everything under the API folder
    but ``common/`` and ``infra/``, and its own files in those two)."""
    d, api, module = answers.get("directory"), answers.get("api_name"), answers.get("module_name")
    if rel.startswith(".copier-answers"):
        return True
    if rel.startswith(f"{d}/") and not rel.startswith((f"{d}/common/", f"{d}/infra/")):
        return True
    own = (
        f"{d}/common/constructs/src/common_constructs/app/apis/{module}.py",
        f"{d}/common/constructs/src/common_constructs/app/apis/{module}_operations.py",
        f"{d}/infra/src/infra/apis/{module}.py",
        f"{d}/common/terraform/src/app/apis/{api}/",
        f"{d}/infra/{api}.tf",
        f"{d}/infra/tests/{api}.tftest.hcl",
    )
    return any(rel == path or (path.endswith("/") and rel.startswith(path)) for path in own)


def _tracked() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], check=True, capture_output=True, text=True
    ).stdout
    return [name for name in listed.split("\0") if name]


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and ".git" not in p.parts
    }


def _reset(rel: str, content: bytes | None) -> None:
    """Set ``rel`` to ``content`` (or remove it) in the working tree and the index."""
    if content is None:
        subprocess.run(["git", "rm", "--quiet", "--force", "--", rel], check=True)
        return
    Path(rel).write_bytes(content)
    subprocess.run(["git", "add", "--", rel], check=True)


def adopt(mine: dict[str, bytes], template: str, tmp: Path) -> list[str]:
    """Reset the shared files other APIs rendered; return their paths.

    ``mine`` is what this answers file rendered at its recorded version.
    """
    tracked = set(_tracked())
    adopted: list[str] = []
    for index, other_file in enumerate(sorted(Path().glob(".copier-answers.*.yml"))):
        other_root = tmp / f"other{index}"
        other = previous_answers(other_file.name)
        render_previous(template, other, other_root)
        for rel, content in _files(other_root).items():
            if rel not in tracked or owned_by(other, rel):
                continue
            if Path(rel).read_bytes() != content or mine.get(rel) == content:
                continue  # the user's edit, or this API's own output: the update merges it
            _reset(rel, mine.get(rel))
            adopted.append(rel)
    return adopted


def set_aside_init(own: dict[str, Any], mine: dict[str, bytes]) -> str | None:
    """Keep an edited old ``init.py`` whole beside the new one; return where, if it was."""
    rel = f"{own.get('directory')}/{own.get('api_name')}/{own.get('module_name')}/init.py"
    path = Path(rel)
    if not path.is_file() or rel not in mine or path.read_bytes() == mine[rel]:
        return None
    if b"common_runtime" in mine[rel]:
        return None  # already the short init.py of the ownership layout: the update merges it
    kept = path.with_name("init_before_runtime.py")
    if kept.exists():
        return None  # set aside by an earlier run
    kept.write_bytes(path.read_bytes())
    _reset(rel, mine[rel])
    return kept.as_posix()


def main(argv: list[str]) -> int:
    """Entry point: ``ownership_layout.py <template clone> <answers file>``."""
    template, answers_file = argv
    own = previous_answers(answers_file)
    old = version_of(own.get("_commit"))
    if old is None or old >= OWNERSHIP_LAYOUT:
        return 0
    with tempfile.TemporaryDirectory(prefix="copier-layout-") as tmp:
        render_previous(template, own, Path(tmp) / "mine")
        mine = _files(Path(tmp) / "mine")
        if Path(answers_file).name == REPOSITORY_ANSWERS:
            for rel in adopt(mine, template, Path(tmp)):
                print(f"{rel}: another API's template output; the update brings its new version.",
                      file=sys.stderr)  # fmt: skip
        kept = set_aside_init(own, mine)
    if kept:
        print(
            f"Your edited init.py is kept whole as {kept}: init.py now wires the repository's "
            "shared runtime (common/runtime). Move your changes into init.py (or into the "
            f"runtime), then delete {kept} (git rm).",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
