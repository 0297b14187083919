"""scripts/release.py: release tags from CHANGELOG.md and the history, in real git repositories.

The rule: ``vX.Y.Z`` goes on the first-parent commit that added the ``## vX.Y.Z`` heading, or on
the commit a ``<!-- release-commit: <sha> -->`` line under the heading names.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import run, tool_env
from template_repo import RELEASE_SCRIPT, clone_template, git, release

#: The releases made before the rule existed, and the commits they were made from.
RECORDED_RELEASES = {
    "v0.1.0": "7612b449028fe4df3fdafcb40d4ecc4601dcab61",
    "v0.2.0": "ecf9caf88b92bbdcc3e0f2afaa4428a69a735cc2",
}


def tags(repo: Path) -> dict[str, str]:
    """Every tag of ``repo`` and its commit."""
    out = git(repo, "for-each-ref", "--format=%(refname:short) %(objectname)", "refs/tags")
    return dict(line.split() for line in out.splitlines())


def release_fails(repo: Path, *args: str) -> str:
    """Run the release script expecting it to refuse; return its error output."""
    result = subprocess.run(
        [sys.executable, str(RELEASE_SCRIPT), *args],
        cwd=repo, env=tool_env(), capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    return result.stderr


def commit_changelog(repo: Path, *sections: str) -> str:
    """Commit a CHANGELOG.md with ``sections`` (newest first); return the commit."""
    (repo / "CHANGELOG.md").write_text("# Changelog\n\n" + "\n".join(sections), encoding="utf-8")
    git(repo, "add", "CHANGELOG.md")
    git(repo, "commit", "--quiet", "-m", "Changelog")
    return git(repo, "rev-parse", "HEAD").strip()


def commit_other(repo: Path, name: str) -> str:
    """Commit a change that does not touch CHANGELOG.md; return the commit."""
    (repo / name).write_text(name, encoding="utf-8")
    git(repo, "add", name)
    git(repo, "commit", "--quiet", "-m", f"Add {name}")
    return git(repo, "rev-parse", "HEAD").strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """An empty git repository on ``main``."""
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "--quiet", "--initial-branch=main")
    return path


@pytest.fixture(scope="module")
def fresh_clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clone of the template without tags, the release script run once in it."""
    clone = clone_template(tmp_path_factory.mktemp("release") / "template")
    assert tags(clone) == {}
    release(clone)
    return clone


def test_fresh_clone_gets_every_release_of_the_changelog_on_its_commit(fresh_clone: Path) -> None:
    changelog = (fresh_clone / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = {line[3:] for line in changelog.splitlines() if line.startswith("## v")}
    made = tags(fresh_clone)
    assert set(made) == headings
    assert {tag: made[tag] for tag in RECORDED_RELEASES} == RECORDED_RELEASES


def test_running_again_changes_nothing(fresh_clone: Path) -> None:
    before = tags(fresh_clone)
    out = release(fresh_clone)
    assert tags(fresh_clone) == before
    assert out.splitlines() == [f"{tag} {commit} exists" for tag, commit in before.items()]


#: What a ``copier copy`` renders: the newest release tag must hold exactly these of ``main``.
RENDERED_PATHS = ("template", "copier.yml", "extensions")


def newest_release(repo: Path) -> str:
    """The highest ``vX.Y.Z`` tag of ``repo``: what ``copier copy`` renders by default."""
    versions = [tag for tag in tags(repo) if tag.startswith("v")]
    return max(versions, key=lambda tag: tuple(int(part) for part in tag[1:].split(".")))


def test_a_plain_copy_renders_what_main_has(fresh_clone: Path) -> None:
    """Every batch of work ends with a release: a ``copier copy`` without ``--vcs-ref`` renders
    the newest release tag, so it must hold ``main``'s template, questions and extensions."""
    newest = newest_release(fresh_clone)
    changed = git(fresh_clone, "diff", "--stat", newest, "HEAD", "--", *RENDERED_PATHS)
    assert not changed.strip(), (
        f"{', '.join(RENDERED_PATHS)} differ from the newest release {newest}, which a plain "
        "`copier copy` renders: move CHANGELOG.md's Unreleased entries under a new "
        f"`## vX.Y.Z` heading (scripts/release.py tags it).\n{changed}"
    )
    changelog = (fresh_clone / "CHANGELOG.md").read_text(encoding="utf-8")
    unreleased = changelog.split("## Unreleased", 1)[1].split("\n## v", 1)[0]
    assert not unreleased.strip(), (
        "CHANGELOG.md's Unreleased section holds entries the newest release does not carry: "
        f"release them under a new heading.\n{unreleased}"
    )


def test_readme_pinned_release_works_on_a_fresh_clone_once_tagged(
    fresh_clone: Path, tmp_path: Path
) -> None:
    untagged = clone_template(tmp_path / "untagged")
    command = ["copier", "copy", "--trust", "--defaults", "--data", "name=billing"]
    failed = subprocess.run(
        [*command, "--vcs-ref", "v0.1.0", str(untagged), str(tmp_path / "no")],
        cwd=tmp_path, env=tool_env(), capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert failed.returncode != 0

    run([*command, "--vcs-ref", "v0.1.0", str(fresh_clone), str(tmp_path / "yes")], tmp_path)
    answers = yaml.safe_load((tmp_path / "yes" / ".copier-answers.yml").read_text())
    assert answers["_commit"] == "v0.1.0"
    assert (tmp_path / "yes" / "packages" / "billing" / "tests" / "test_main.py").is_file()


def test_tag_goes_on_the_commit_that_added_the_heading(repo: Path) -> None:
    commit_changelog(repo, "## Unreleased\n\n- a\n")
    first = commit_changelog(repo, "## v1.0.0\n\n- a\n")
    commit_other(repo, "code.py")
    commit_changelog(repo, "## Unreleased\n\n- b\n", "## v1.0.0\n\n- a\n")
    second = commit_changelog(repo, "## v1.1.0\n\n- b\n", "## v1.0.0\n\n- a\n")
    commit_other(repo, "more.py")

    assert release(repo).splitlines() == [f"v1.0.0 {first} created", f"v1.1.0 {second} created"]
    assert tags(repo) == {"v1.0.0": first, "v1.1.0": second}


def test_merged_release_is_tagged_on_the_merge_commit(repo: Path) -> None:
    commit_changelog(repo, "## Unreleased\n")
    git(repo, "switch", "--quiet", "-c", "feature")
    commit_changelog(repo, "## v2.0.0\n\n- c\n")
    commit_other(repo, "feature.py")
    git(repo, "switch", "--quiet", "main")
    commit_other(repo, "other.py")
    git(repo, "merge", "--quiet", "--no-ff", "-m", "Merge feature", "feature")
    merge = git(repo, "rev-parse", "HEAD").strip()

    release(repo)
    assert tags(repo) == {"v2.0.0": merge}


def test_release_commit_comment_overrides_the_rule(repo: Path) -> None:
    named = commit_other(repo, "release.py")
    commit_changelog(repo, f"## v0.9.0\n<!-- release-commit: {named} -->\n\n- d\n")

    release(repo)
    assert tags(repo) == {"v0.9.0": named}
    assert release(repo, "--notes", "v0.9.0") == "- d\n"


def test_check_changes_nothing(repo: Path) -> None:
    added = commit_changelog(repo, "## v1.0.0\n")
    assert release(repo, "--check").splitlines() == [f"v1.0.0 {added} would create"]
    assert tags(repo) == {}


def test_tag_on_another_commit_is_refused_and_nothing_is_tagged(repo: Path) -> None:
    first = commit_changelog(repo, "## v1.0.0\n")
    elsewhere = commit_other(repo, "code.py")
    commit_changelog(repo, "## v1.1.0\n", "## v1.0.0\n")
    git(repo, "tag", "v1.0.0", elsewhere)

    error = release_fails(repo)
    assert f"v1.0.0 exists at {elsewhere}, but CHANGELOG.md puts it at {first}" in error
    assert tags(repo) == {"v1.0.0": elsewhere}


@pytest.mark.parametrize(
    ("section", "message"),
    [
        pytest.param(
            f"## v1.0.0\n<!-- release-commit: {'0' * 40} -->\n",
            "v1.0.0: release-commit 0000000000000000000000000000000000000000 is not in HEAD's",
            id="unknown-commit",
        ),
        pytest.param(
            "## v1.0.0\n<!-- release-commit: 7612b44 -->\n",
            "v1.0.0: write it as <!-- release-commit: <full commit id> -->",
            id="short-commit",
        ),
        pytest.param("## v1.0.0\n\n## v1.0.0\n", "more than one section v1.0.0", id="twice"),
    ],
)
def test_changelog_that_does_not_resolve_is_refused(repo: Path, section: str, message: str) -> None:
    commit_changelog(repo, section)
    assert message in release_fails(repo)
    assert tags(repo) == {}


def test_shallow_clone_is_refused(repo: Path, tmp_path: Path) -> None:
    commit_changelog(repo, "## v1.0.0\n")
    commit_other(repo, "code.py")
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "--quiet", "--depth=1", f"file://{repo}", str(shallow))
    assert "shallow" in release_fails(shallow)


def test_push_sends_the_tags_and_never_moves_one(repo: Path, tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "--quiet", "--bare", "--initial-branch=main", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    added = commit_changelog(repo, "## v1.0.0\n")
    git(repo, "push", "--quiet", "origin", "main")

    release(repo, "--push", "origin")
    release(repo, "--push", "origin")
    assert tags(remote) == {"v1.0.0": added}

    # Someone moved the tag on the remote: pushing ours must not move it back.
    other = tmp_path / "other"
    git(tmp_path, "clone", "--quiet", str(remote), str(other))
    moved = commit_other(other, "code.py")
    git(other, "push", "--quiet", "origin", "main")
    git(other, "tag", "--force", "v1.0.0", moved)
    git(other, "push", "--quiet", "--force", "origin", "v1.0.0")
    assert "v1.0.0" in release_fails(repo, "--push", "origin")
    assert tags(remote) == {"v1.0.0": moved}
