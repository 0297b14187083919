"""`copier update` for real: from a released tag to the current template, with user edits.

The template is cloned into a temporary git repository whose history holds the release tags;
the working tree's current state is committed on top, so what is tested is what the next
release will ship. Generated projects are git repositories, as Copier requires for updates.
"""

from __future__ import annotations

import difflib
import re
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import copier
import pytest
import yaml
from conftest import TEMPLATE_ROOT, run
from template_repo import git

#: The release projects are updated from in these tests.
OLD_RELEASE = "v0.1.0"

D, API, MODULE = "packages", "order-service", "order_service"
SERVICE = f"{D}/{API}"
MARKERS = re.compile(r"^(<<<<<<<|>>>>>>>)( |$)", re.MULTILINE)


@pytest.fixture(scope="session")
def template_clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clone of the template with its release tags and the working tree committed on top."""
    clone = tmp_path_factory.mktemp("template") / "repo"
    git(TEMPLATE_ROOT, "clone", "--quiet", str(TEMPLATE_ROOT), str(clone))
    # Clones may come without tags: make them as the release workflow does, from CHANGELOG.md.
    run(["python3", str(TEMPLATE_ROOT / "scripts" / "release.py")], clone)
    assert OLD_RELEASE in set(git(clone, "tag", "--list").split()), (
        f"release {OLD_RELEASE} is missing: fetch the template's tags (git fetch --tags)"
    )
    # Bring over uncommitted work: tracked and untracked files that git does not ignore.
    listed = git(TEMPLATE_ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    for name in filter(None, listed.split("\0")):
        source = TEMPLATE_ROOT / name
        target = clone / name
        if source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
        elif target.exists():
            target.unlink()
    git(clone, "add", "--all")
    if git(clone, "status", "--porcelain").strip():
        git(clone, "commit", "--quiet", "-m", "Work in progress")
    return clone


def generate(
    template: Path, dst: Path, answers: Mapping[str, str], *, ref: str = "HEAD", **kwargs: Any
) -> Path:
    """Generate a project from ``template`` at ``ref`` and commit it, as a user would."""
    copier.run_copy(
        str(template),
        dst,
        data={"name": "order-service", **answers},
        vcs_ref=ref,
        defaults=True,
        unsafe=True,
        quiet=True,
        **kwargs,
    )
    if not (dst / ".git").exists():
        git(dst, "init", "--quiet", "--initial-branch=main")
    commit(dst, "Generate the project")
    return dst


def commit(project: Path, message: str) -> None:
    """Commit every change of ``project``."""
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "--allow-empty", "-m", message)


def update(project: Path, **kwargs: Any) -> None:
    """``copier update`` to the template's current commit, conflicts inline."""
    copier.run_update(
        project,
        vcs_ref="HEAD",
        defaults=True,
        overwrite=True,
        unsafe=True,
        quiet=True,
        conflict="inline",
        **kwargs,
    )


def leftovers(project: Path) -> list[str]:
    """Conflict markers and rejected hunks anywhere in ``project``."""
    found = [p.relative_to(project).as_posix() for p in project.rglob("*.rej")]
    for path in project.rglob("*"):
        if ".git" in path.parts or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        if MARKERS.search(text):
            found.append(path.relative_to(project).as_posix())
    return found


def rendered(template: Path, tmp: Path, answers: Mapping[str, str], ref: str) -> Path:
    """A throwaway render of ``template`` at ``ref`` (no git repository)."""
    copier.run_copy(
        str(template),
        tmp,
        data={"name": "order-service", **answers},
        vcs_ref=ref,
        defaults=True,
        unsafe=True,
        quiet=True,
    )
    return tmp


def changed_by_template(old: Path, new: Path) -> list[str]:
    """Text files both renders have, whose content the template changed."""
    changed = []
    for path in sorted(old.rglob("*")):
        rel = path.relative_to(old).as_posix()
        other = new / rel
        if (
            path.is_file()
            and other.is_file()
            and rel != ".copier-answers.yml"
            and path.read_bytes() != other.read_bytes()
        ):
            changed.append(rel)
    return changed


ANSWERS = [{"iac_provider": "CDK"}, {"iac_provider": "Terraform"}]


@pytest.mark.parametrize("answers", ANSWERS, ids=lambda a: a["iac_provider"].lower())
def test_update_from_the_release_keeps_edits_and_brings_template_changes(
    template_clone: Path, tmp_path: Path, answers: dict[str, str]
) -> None:
    project = generate(template_clone, tmp_path / "project", answers, ref=OLD_RELEASE)
    main_py = project / SERVICE / MODULE / "main.py"
    route = (
        '\n\n@app.get("/health")\ndef health() -> dict[str, str]:\n    return {"status": "ok"}\n'
    )
    main_py.write_text(main_py.read_text() + route)
    readme = project / "README.md"
    # Under the title: the template rewrites the end of its README from release to release.
    title, rest = readme.read_text().split("\n", 1)
    readme.write_text(f"{title}\n\nOur team's note: deploy on Tuesdays.\n{rest}")
    commit(project, "Our own changes")

    update(project)

    assert route in main_py.read_text()
    assert "Our team's note: deploy on Tuesdays." in readme.read_text()
    assert not leftovers(project)
    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert recorded["_commit"] != OLD_RELEASE
    # Every file the user did not touch is exactly what the current template generates.
    # An API made before the tracing question keeps the X-Ray SDK it was built on.
    assert recorded["tracing"] == "xray-sdk"
    fresh = rendered(template_clone, tmp_path / "fresh", {**answers, "tracing": "xray-sdk"}, "HEAD")
    untouched = set(
        changed_by_template(rendered(template_clone, tmp_path / "old", answers, OLD_RELEASE), fresh)
    )
    # Besides the user's edits: the operations file is the build's to rewrite (skip-if-exists).
    operations = f"{D}/common/constructs/src/common_constructs/app/apis/{MODULE}_operations.py"
    untouched -= {f"{SERVICE}/{MODULE}/main.py", "README.md", operations}
    for rel in sorted(untouched):
        assert (project / rel).read_bytes() == (fresh / rel).read_bytes(), rel


def test_lines_both_changed_conflict_visibly(template_clone: Path, tmp_path: Path) -> None:
    old = rendered(template_clone, tmp_path / "old", {}, OLD_RELEASE)
    new = rendered(template_clone, tmp_path / "new", {}, "HEAD")
    # A file both releases have, with a line the template rewrote (not only added lines).
    candidates = [
        (rel, start)
        for rel in changed_by_template(old, new)
        # Files the template writes once and never updates cannot conflict.
        if not rel.endswith(("main.py", ".copier-answers.yml")) and "/tests/" not in rel
        for tag, start, _, _, _ in difflib.SequenceMatcher(
            None,
            (old / rel).read_text().splitlines(keepends=True),
            (new / rel).read_text().splitlines(keepends=True),
        ).get_opcodes()
        if tag in ("replace", "delete")
    ]
    assert candidates, f"no line of an updatable file was rewritten since {OLD_RELEASE}"
    rel, start = candidates[0]
    project = generate(template_clone, tmp_path / "project", {}, ref=OLD_RELEASE)
    ours = (project / rel).read_text().splitlines(keepends=True)
    ours[start] = "our own version of this line\n"
    (project / rel).write_text("".join(ours))
    commit(project, "Change a line the template changes too")

    update(project)

    text = (project / rel).read_text()
    assert "<<<<<<< before updating" in text
    assert ">>>>>>> after updating" in text
    assert "our own version of this line" in text


def _switch_cases() -> list[tuple[dict[str, str], dict[str, str], str, str]]:
    """(before, after, a file only ``before`` generates, a file only ``after`` generates)."""
    tf_api = f"{D}/common/terraform/src/app/apis/{API}"
    return [
        (
            {"iac_provider": "Terraform", "auth": "Cognito"},
            {"iac_provider": "CDK", "auth": "IAM"},
            # The API's Terraform module, which the user tunes (its answers, its wiring).
            f"{tf_api}/{API}.tf",
            f"{D}/infra/src/infra/apis/{MODULE}.py",
        ),
        (
            {"iac_provider": "CDK"},
            {"iac_provider": "Terraform"},
            # The API's registration in the CDK app, the file a CDK user edits the most.
            f"{D}/infra/src/infra/apis/{MODULE}.py",
            f"{D}/common/terraform/src/app/apis/{API}/{API}.tf",
        ),
    ]


@pytest.mark.parametrize(
    ("before", "after", "old_file", "new_file"),
    _switch_cases(),
    ids=["terraform-cognito-to-cdk-iam", "cdk-to-terraform"],
)
def test_changing_an_answer_keeps_edited_files_of_the_old_choice(
    template_clone: Path,
    tmp_path: Path,
    before: dict[str, str],
    after: dict[str, str],
    old_file: str,
    new_file: str,
) -> None:
    project = generate(template_clone, tmp_path / "project", before)
    old_render = rendered(template_clone, tmp_path / "old", before, "HEAD")
    new_render = rendered(template_clone, tmp_path / "new", after, "HEAD")
    gone = {
        p.relative_to(old_render).as_posix()
        for p in old_render.rglob("*")
        if p.is_file()
        and ".git" not in p.relative_to(old_render).parts
        and not (new_render / p.relative_to(old_render)).exists()
    }
    assert old_file in gone
    edited = project / old_file
    edited.write_text(edited.read_text() + "\n# our own addition\n")
    commit(project, "Edit a file of the current choice")

    update(project, data=after)

    assert edited.read_text().endswith("\n# our own addition\n"), "the user's edit was lost"
    assert (project / new_file).is_file()
    # Files of the old choice the user did not edit are gone.
    for rel in sorted(gone - {old_file}):
        assert not (project / rel).exists(), rel
    assert not leftovers(project)


def test_a_second_api_joins_and_updates_on_its_own(template_clone: Path, tmp_path: Path) -> None:
    project = generate(template_clone, tmp_path / "project", {"iac_provider": "CDK"})
    shared_before = {
        rel: (project / rel).read_bytes()
        for rel in git(project, "ls-files").split()
        if not rel.startswith(SERVICE) and "order" not in rel
    }
    generate(
        template_clone,
        project,
        {"name": "payments", "iac_provider": "CDK"},
        answers_file=".copier-answers.payments.yml",
        overwrite=True,
    )
    assert (project / D / "payments" / "payments" / "main.py").is_file()
    for rel, content in shared_before.items():
        if rel != ".copier-answers.yml":
            assert (project / rel).read_bytes() == content, f"{rel} changed by the second API"
    recorded = yaml.safe_load((project / ".copier-answers.payments.yml").read_text())
    assert recorded["api_name"] == "payments"

    update(project, answers_file=".copier-answers.payments.yml")
    update(project)
    assert not leftovers(project)
    assert not git(project, "status", "--porcelain").strip(), (
        "updating to the same commit changed files:\n" + git(project, "status", "--porcelain")
    )


def test_the_release_migration_moves_the_users_sample_tests(
    template_clone: Path, tmp_path: Path
) -> None:
    project = generate(template_clone, tmp_path / "project", {}, ref=OLD_RELEASE)
    old = project / SERVICE / "tests" / "test_main.py"
    assert old.is_file(), f"{OLD_RELEASE} should have tests/test_main.py"
    ours = "\n\ndef test_our_own_rule() -> None:\n    assert 1 + 1 == 2\n"
    old.write_text(old.read_text() + ours)
    commit(project, "Our own test")

    update(project)

    new = project / SERVICE / "tests" / "test_routes.py"
    assert not old.exists(), "the old file was left behind (orphaned)"
    assert new.read_text().endswith(ours), "the user's test did not move with the file"
    assert not leftovers(project)


@pytest.mark.slow
def test_the_updated_project_still_passes_its_tests(template_clone: Path, tmp_path: Path) -> None:
    project = generate(template_clone, tmp_path / "project", {}, ref=OLD_RELEASE)
    main_py = project / SERVICE / MODULE / "main.py"
    main_py.write_text(
        main_py.read_text()
        + '\n\n@app.get("/health")\ndef health() -> dict[str, str]:\n'
        + '    """Tell that the API is up."""\n    return {"status": "ok"}\n'
    )
    commit(project, "Add a route")
    update(project)
    run(["uv", "sync"], project, timeout=900)
    result = run(["uv", "run", "pytest", "-p", "no:cacheprovider", "-q", str(SERVICE)], project)
    assert " passed" in result.stdout
    run(["uv", "run", "ruff", "check", "--no-cache", "."], project)
    run(["uv", "run", "mypy", "--no-incremental", str(SERVICE)], project)


def test_an_update_names_the_managed_files_the_user_deleted_and_how_to_get_them_back(
    template_clone: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    project = generate(template_clone, tmp_path / "project", {}, ref=OLD_RELEASE)
    run_sh = f"{SERVICE}/run.sh"
    git(project, "rm", "--quiet", run_sh)
    commit(project, "We serve the API another way")
    capfd.readouterr()

    update(project)

    said = capfd.readouterr().err
    assert not (project / run_sh).exists(), "a file the user deleted came back"
    lines = said.splitlines()
    assert "the update leaves them deleted:" in said
    assert f"  {run_sh}" in lines
    command = next(line.strip() for line in lines if line.strip().startswith("copier copy"))
    # The command given renders this release's file, as the answers record it.
    folder = tmp_path / "restore"
    run([str(Path(sys.executable).parent / "copier"), *command.split()[1:-1], str(folder)],
        project)  # fmt: skip
    fresh = rendered(template_clone, tmp_path / "fresh", {"tracing": "xray-sdk"}, "HEAD")
    assert (folder / run_sh).read_bytes() == (fresh / run_sh).read_bytes()


def test_after_an_update_and_commit_all_nothing_is_left_outside_git(
    template_clone: Path, tmp_path: Path
) -> None:
    """A Terraform repository of two APIs from the oldest release: `git commit -a` records the
    whole update, the core module of the second API included."""
    answers = {"iac_provider": "Terraform"}
    project = generate(template_clone, tmp_path / "project", answers, ref=OLD_RELEASE)
    second = ".copier-answers.payments.yml"
    generate(template_clone, project, {**answers, "name": "payments",
             "compute_type": "ServerlessApiGatewayHttpApi"}, ref=OLD_RELEASE,
             answers_file=second, overwrite=True)  # fmt: skip
    for answers_file in (".copier-answers.yml", second):
        update(project, answers_file=answers_file)
        git(project, "commit", "--quiet", "-a", "-m", f"Update {answers_file}")
        assert git(project, "status", "--porcelain", "--untracked-files=all") == ""
    core = f"{D}/common/terraform/src/core/api/http-api"
    tracked = git(project, "ls-files", core).split()
    assert f"{core}/http-api.tf" in tracked
    assert set(tracked) == {
        p.relative_to(project).as_posix() for p in (project / core).rglob("*") if p.is_file()
    }
