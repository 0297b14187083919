#!/usr/bin/env python3
"""Make the template's release tags from CHANGELOG.md and the git history, reproducibly.

A release is a ``## vX.Y.Z`` heading of CHANGELOG.md (as committed at HEAD). Its tag, ``vX.Y.Z``,
goes on the commit that added the heading: the oldest commit of HEAD's first-parent history
whose CHANGELOG.md has it (on the main branch, the merge or squashed commit that brought the
release in). A release may name its commit instead, on the first non-blank line under its heading:

    ## v0.1.0
    <!-- release-commit: 7612b449028fe4df3fdafcb40d4ecc4601dcab61 -->

which the releases made before this rule use. So every clone, CI run or maintainer gets the
same tags from the same history; tags are lightweight (a name for a commit, nothing else to
differ). The script only ever adds tags: an existing tag on another commit is refused, never
moved, because generated projects record the release they came from.

    python3 scripts/release.py                 create the missing tags
    python3 scripts/release.py --check         say what would be done; change nothing
    python3 scripts/release.py --push origin   create, then push every release tag
    python3 scripts/release.py --list          "<tag> <commit>" per release, oldest first
    python3 scripts/release.py --notes v0.2.0  the release's CHANGELOG section (release notes)

Exit status 1 on a conflicting tag or a CHANGELOG.md that cannot be resolved to commits.
Python 3.11 and git, nothing else: the release workflow runs it before installing anything.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

CHANGELOG = "CHANGELOG.md"
HEADING = re.compile(r"^## (v\d+\.\d+\.\d+)\s*$")
PINNED = re.compile(r"^<!-- release-commit: ([0-9a-f]{40}) -->\s*$")


class ReleaseError(Exception):
    """CHANGELOG.md, the history or the existing tags do not allow the release tags."""


@dataclass(frozen=True)
class Release:
    """A ``## vX.Y.Z`` section of CHANGELOG.md."""

    tag: str
    #: The commit named by a ``release-commit`` comment, if the section has one.
    pinned: str | None
    #: The section's text under its heading, without the comment.
    notes: str


@dataclass(frozen=True)
class Plan:
    """What a release's tag needs: ``exists``, ``create`` or ``conflict``."""

    release: Release
    commit: str
    #: The commit the tag points to today, if it exists.
    tagged: str | None

    @property
    def action(self) -> str:
        """``exists`` (nothing to do), ``create`` or ``conflict`` (tag on another commit)."""
        if self.tagged is None:
            return "create"
        return "exists" if self.tagged == self.commit else "conflict"


def git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run git in ``repo``; raise ReleaseError with git's message when ``check`` and it fails."""
    result = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise ReleaseError(f"git {' '.join(args)}: {result.stderr.strip()}")
    return result


def parse_releases(text: str) -> list[Release]:
    """The releases of a CHANGELOG.md text, in the order they appear (newest first)."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if HEADING.match(line)]
    releases: list[Release] = []
    for start in starts:
        match = HEADING.match(lines[start])
        assert match is not None
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), None)
        body = lines[start + 1 : end]
        pinned = None
        content = [line for line in body if line.strip()]
        if content and content[0].startswith("<!-- release-commit"):
            # A misspelt comment must not silently fall back to the rule and tag another commit.
            comment = PINNED.match(content[0])
            if comment is None:
                raise ReleaseError(
                    f"{match.group(1)}: write it as <!-- release-commit: <full commit id> -->"
                )
            pinned = comment.group(1)
            body.remove(content[0])
        releases.append(Release(match.group(1), pinned, "\n".join(body).strip() + "\n"))
    return releases


def changelog_at(repo: Path, commit: str) -> str:
    """CHANGELOG.md as committed in ``commit`` (empty when the commit has none)."""
    result = git(repo, "show", f"{commit}:{CHANGELOG}", check=False)
    return result.stdout if result.returncode == 0 else ""


def heading_commits(repo: Path) -> dict[str, str]:
    """For each release heading, the oldest first-parent commit of HEAD that has it."""
    log = git(repo, "log", "--first-parent", "--reverse", "--format=%H", "HEAD", "--", CHANGELOG)
    found: dict[str, str] = {}
    for commit in log.stdout.split():
        for release in parse_releases(changelog_at(repo, commit)):
            found.setdefault(release.tag, commit)
    return found


def tagged_commit(repo: Path, tag: str) -> str | None:
    """The commit ``tag`` points to, or None when there is no such tag."""
    result = git(repo, "rev-parse", "-q", "--verify", f"refs/tags/{tag}^{{commit}}", check=False)
    return result.stdout.strip() or None


def plan(repo: Path) -> list[Plan]:
    """Every release of HEAD's CHANGELOG.md with its commit and its tag's state, oldest first."""
    if git(repo, "rev-parse", "--is-shallow-repository").stdout.strip() == "true":
        raise ReleaseError("this clone is shallow: fetch the whole history (git fetch --unshallow)")
    releases = parse_releases(changelog_at(repo, "HEAD"))
    tags = [r.tag for r in releases]
    if duplicates := sorted({tag for tag in tags if tags.count(tag) > 1}):
        raise ReleaseError(f"{CHANGELOG} has more than one section {', '.join(duplicates)}")
    added = heading_commits(repo) if any(r.pinned is None for r in releases) else {}
    plans = []
    for release in reversed(releases):
        if release.pinned is not None:
            exists = git(repo, "cat-file", "-e", f"{release.pinned}^{{commit}}", check=False)
            ancestor = git(repo, "merge-base", "--is-ancestor", release.pinned, "HEAD", check=False)
            if exists.returncode != 0 or ancestor.returncode != 0:
                raise ReleaseError(
                    f"{release.tag}: release-commit {release.pinned} is not in HEAD's history"
                )
            commit = release.pinned
        else:
            commit = added[release.tag]
        plans.append(Plan(release, commit, tagged_commit(repo, release.tag)))
    return plans


def apply(repo: Path, plans: Sequence[Plan], *, check: bool) -> list[str]:
    """Create the missing tags (none when ``check``); a line per release saying what was done.

    Refuses everything when one tag exists on another commit, so a run never half-applies.
    """
    conflicts = [p for p in plans if p.action == "conflict"]
    if conflicts:
        raise ReleaseError(
            "\n".join(
                f"{p.release.tag} exists at {p.tagged}, but {CHANGELOG} puts it at {p.commit}: "
                "tags are never moved, fix the changelog or the tag by hand"
                for p in conflicts
            )
        )
    lines = []
    for item in plans:
        if item.action == "create":
            if not check:
                git(repo, "tag", item.release.tag, item.commit)
            lines.append(
                f"{item.release.tag} {item.commit} {'would create' if check else 'created'}"
            )
        else:
            lines.append(f"{item.release.tag} {item.commit} exists")
    return lines


def push(repo: Path, remote: str, plans: Sequence[Plan]) -> None:
    """Push every release tag to ``remote``; git refuses to move one that differs there."""
    if plans:
        refs = [f"refs/tags/{p.release.tag}:refs/tags/{p.release.tag}" for p in plans]
        git(repo, "push", "--atomic", remote, *refs)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: see the module's docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repo", type=Path, default=Path.cwd(), help="the git repository")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--check", action="store_true", help="change nothing, say what to do")
    action.add_argument("--push", metavar="REMOTE", help="push the release tags to REMOTE")
    action.add_argument("--list", action="store_true", help="print '<tag> <commit>' per release")
    action.add_argument("--notes", metavar="TAG", help="print the CHANGELOG section of TAG")
    args = parser.parse_args(argv)
    repo: Path = args.repo
    try:
        plans = plan(repo)
        if args.list:
            for item in plans:
                print(item.release.tag, item.commit)
            return 0
        if args.notes:
            notes = [p.release.notes for p in plans if p.release.tag == args.notes]
            if not notes:
                raise ReleaseError(f"{CHANGELOG} has no section {args.notes}")
            print(notes[0], end="")
            return 0
        for line in apply(repo, plans, check=args.check):
            print(line)
        if args.push:
            push(repo, args.push, plans)
    except ReleaseError as error:
        print(f"release: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
