"""`copier update` off the happy path: several APIs, answer changes, migrations, run twice.

Each scenario starts from a released tag and a git repository with the user's edits, runs
Copier for real, and then checks that no edit was lost (file by file), that no hunk was
rejected, and that conflict markers stand only in files the user edited. The repository of two
APIs (one REST, one HTTP) is also installed, tested and synthesized after its update.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import copier
import pytest
import yaml
from conftest import TEMPLATE_ROOT, run, tf_env, tool_env
from template_repo import git
from test_terraform import (
    UnvalidatedTerraform,
    mirrored_aws_versions,
    prepare_for_provider,
    terraform_validate,
)
from test_update import commit, generate, leftovers, template_clone, update

__all__ = ["template_clone"]  # the session fixture, shared with test_update.py

#: The latest release: the starting point of every scenario below.
RELEASE = "v0.2.0"
D = "packages"
HTTP = "ServerlessApiGatewayHttpApi"
SECOND = ".copier-answers.payments.yml"
CORE = f"{D}/common/constructs/src/common_constructs/core/api"


@dataclass
class Edits:
    """The user's edits: a line of their own appended to each file, to find again later."""

    project: Path
    lines: dict[str, str] = field(default_factory=dict)

    def append(self, rel: str, comment: str = "#") -> None:
        """Append a line of the user's own to ``rel``."""
        line = f"{comment} our own line in {rel}"
        path = self.project / rel
        path.write_text(path.read_text() + f"\n{line}\n")
        self.lines[rel] = line

    def insert_under_title(self, rel: str) -> None:
        """Add a line of the user's own under a Markdown file's title."""
        line = f"Our own line in {rel}"
        path = self.project / rel
        title, rest = path.read_text().split("\n", 1)
        path.write_text(f"{title}\n\n{line}\n{rest}")
        self.lines[rel] = line

    def assert_kept(self) -> None:
        """Every edit is still there, and conflicts stand only in files the user edited."""
        lost = [rel for rel, line in self.lines.items() if line not in self.text(rel)]
        assert not lost, f"edits lost in {lost}"
        assert not list(self.project.rglob("*.rej")), "rejected hunks"
        stray = sorted(set(leftovers(self.project)) - set(self.lines))
        assert not stray, f"conflict markers in files the user did not edit: {stray}"

    def text(self, rel: str) -> str:
        """The file's text, and that of the copy a migration kept of it (when it did)."""
        path = self.project / rel
        kept = path.with_name("init_before_runtime.py") if path.name == "init.py" else path
        return "".join(p.read_text() for p in {path, kept} if p.is_file())


def _text(path: Path) -> str:
    return path.read_text() if path.is_file() else ""


def two_apis(template: Path, dst: Path, orders: Mapping[str, str] | None = None) -> Path:
    """A repository at the release with two APIs: ``orders`` (REST) and ``payments`` (HTTP)."""
    generate(template, dst, {"name": "orders", **(orders or {})}, ref=RELEASE)
    generate(
        template,
        dst,
        {"name": "payments", "compute_type": HTTP},
        ref=RELEASE,
        answers_file=SECOND,
        overwrite=True,
    )
    return dst


def files_of(project: Path, prefix: str) -> dict[str, bytes]:
    """The files below ``prefix`` in the working tree, with their content."""
    return {
        path.relative_to(project).as_posix(): path.read_bytes()
        for path in (project / prefix).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def recorded(project: Path, answers_file: str = ".copier-answers.yml") -> dict[str, str]:
    data: dict[str, str] = yaml.safe_load((project / answers_file).read_text())
    return data


def update_all(project: Path) -> None:
    """Update the repository (its first API's answers), then the added API, as README says."""
    update(project)
    commit(project, "Update the repository and orders")
    update(project, answers_file=SECOND)
    commit(project, "Update payments")


@pytest.fixture
def edited_two_apis(template_clone: Path, tmp_path: Path) -> Edits:
    """Two APIs at the release, with edits to shared and to each API's files."""
    project = two_apis(template_clone, tmp_path / "repo")
    edits = Edits(project)
    edits.append(f"{D}/orders/orders/main.py")
    edits.append(f"{D}/orders/orders/init.py")
    edits.append(f"{D}/payments/README.md", "")
    edits.insert_under_title("README.md")
    edits.append(f"{CORE}/utils.py")
    edits.append(f"{D}/infra/src/infra/stack.py")
    commit(project, "Our own changes")
    return edits


def test_two_apis_update_one_after_the_other_and_lose_nothing(edited_two_apis: Edits) -> None:
    project = edited_two_apis.project
    payments_before = files_of(project, f"{D}/payments")
    update(project)
    # Updating the repository's API leaves the other API's files alone.
    assert files_of(project, f"{D}/payments") == payments_before
    commit(project, "Update the repository and orders")
    update(project, answers_file=SECOND)
    commit(project, "Update payments")
    edited_two_apis.assert_kept()
    for answers_file in (".copier-answers.yml", SECOND):
        assert recorded(project, answers_file)["_commit"] != RELEASE
    # Both APIs now use the repository's runtime.
    for module in ("orders", "payments"):
        init = _text(project / D / module / module / "init.py")
        assert "common_runtime" in init, module
    assert (project / D / "common" / "runtime" / "pyproject.toml").is_file()


def test_updating_twice_changes_nothing_the_second_time(edited_two_apis: Edits) -> None:
    project = edited_two_apis.project
    update_all(project)
    head = git(project, "rev-parse", "HEAD")
    update(project)
    update(project, answers_file=SECOND)
    assert not git(project, "status", "--porcelain").strip(), "the second update changed files"
    assert git(project, "rev-parse", "HEAD") == head
    edited_two_apis.assert_kept()


@pytest.mark.parametrize(
    "change",
    [{"compute_type": HTTP}, {"auth": "Cognito"}, {"integration_pattern": "shared"}],
    ids=["rest-to-http", "iam-to-cognito", "isolated-to-shared"],
)
def test_an_answer_change_on_one_api_leaves_the_other_working(
    edited_two_apis: Edits, change: dict[str, str]
) -> None:
    project = edited_two_apis.project
    update_all(project)
    payments_before = files_of(project, f"{D}/payments")
    shared_core = files_of(project, CORE)
    update(project, data=change)
    edited_two_apis.assert_kept()
    assert all(recorded(project)[key] == value for key, value in change.items())
    assert files_of(project, f"{D}/payments") == payments_before
    # The core every API imports is the repository's: no answer of one API removes a module.
    for rel in shared_core:
        assert (project / rel).is_file(), f"{rel} was deleted"


def test_the_iac_tool_of_a_repository_with_two_apis_cannot_be_switched_by_one(
    edited_two_apis: Edits,
) -> None:
    project = edited_two_apis.project
    update_all(project)
    with pytest.raises(ValueError, match=r"The API 'payments'.*deploys with CDK"):
        update(project, data={"iac_provider": "Terraform"})
    git(project, "checkout", "--", ".")
    git(project, "clean", "-fdq")
    assert recorded(project)["iac_provider"] == "CDK"
    edited_two_apis.assert_kept()


def test_a_single_api_switching_tools_keeps_its_edited_cdk_files(
    template_clone: Path, tmp_path: Path
) -> None:
    project = generate(template_clone, tmp_path / "repo", {"name": "orders"}, ref=RELEASE)
    edits = Edits(project)
    api_construct = f"{D}/common/constructs/src/common_constructs/app/apis/orders.py"
    edits.append(api_construct)
    commit(project, "Our own construct change")
    update(project, data={"iac_provider": "Terraform"})
    edits.assert_kept()
    assert (project / D / "common" / "terraform" / "src" / "app" / "apis" / "orders").is_dir()
    # Inherit reads the answers, not the CDK folder the kept file keeps alive.
    copier.run_copy(
        str(template_clone),
        project,
        data={"name": "payments"},
        answers_file=SECOND,
        vcs_ref="HEAD",
        defaults=True,
        unsafe=True,
        quiet=True,
    )
    assert recorded(project, SECOND)["iac_provider"] == "Terraform"


def test_adding_an_api_keeps_edits_to_shared_files(template_clone: Path, tmp_path: Path) -> None:
    project = generate(template_clone, tmp_path / "repo", {"name": "orders"})
    edits = Edits(project)
    shared_files = ("pyproject.toml", f"{CORE}/integrations.py", ".github/workflows/ci.yml")
    for rel in (*shared_files, "README.md"):
        edits.append(rel)
    commit(project, "Our own changes to shared files")
    shared = {rel: (project / rel).read_bytes() for rel in edits.lines}
    # Non-interactive, without --overwrite: nothing shared is rendered, so nothing is asked.
    copier.run_copy(
        str(template_clone),
        project,
        data={"name": "payments", "compute_type": HTTP},
        answers_file=SECOND,
        vcs_ref="HEAD",
        defaults=True,
        unsafe=True,
        quiet=True,
    )
    assert {rel: (project / rel).read_bytes() for rel in shared} == shared
    added = git(project, "status", "--porcelain", "--untracked-files=all").split("\n")
    paths = sorted(line[3:] for line in added if line)
    assert paths, "the API was not added"
    owned = (f"{D}/payments/", f"{D}/payments-client/", f"{D}/infra/src/infra/apis/payments.py",
             f"{D}/common/constructs/src/common_constructs/app/apis/payments", SECOND)  # fmt: skip
    assert all(path.startswith(owned) for path in paths), paths


def test_a_user_file_at_a_migration_target_is_kept_beside_the_moved_one(
    template_clone: Path, tmp_path: Path
) -> None:
    project = generate(template_clone, tmp_path / "repo", {"name": "orders"}, ref="v0.1.0")
    tests = project / D / "orders" / "tests"
    edits = Edits(project)
    edits.append(f"{D}/orders/tests/test_main.py")
    (tests / "test_routes.py").write_text('"""Our own tests."""\n\n# our own test module\n')
    edits.lines[f"{D}/orders/tests/test_routes.py"] = "# our own test module"
    commit(project, "Our own tests")
    update(project)
    edits.assert_kept()
    assert (tests / "test_main.py").is_file(), "the user's edited file was not kept"
    assert (tests / "test_routes.py").read_text().startswith('"""Our own tests."""')
    commit(project, "Updated")
    update(project)
    assert not git(project, "status", "--porcelain").strip(), "the second update changed files"


@pytest.mark.slow
def test_two_updated_apis_pass_their_tests_and_synthesize(edited_two_apis: Edits) -> None:
    project = edited_two_apis.project
    update_all(project)
    # The edited old init.py was kept whole beside the new one, which runs as released.
    kept = project / D / "orders" / "orders" / "init_before_runtime.py"
    assert edited_two_apis.lines[f"{D}/orders/orders/init.py"] in kept.read_text()
    assert not leftovers(project), "conflicts left: the project would not run"
    run(["uv", "sync"], project, timeout=900)
    for package in ("orders", "payments", "common/runtime"):
        result = run(["uv", "run", "pytest", "-q", "-p", "no:cacheprovider", f"{D}/{package}"],
                     project)  # fmt: skip
        assert " passed" in result.stdout
    infra = project / D / "infra"
    run(["uv", "run", "--no-sync", "toolchain", "build"], infra)
    outdir = project / "cdk.out.test"
    env = {**tool_env(), "CDK_OUTDIR": str(outdir)}
    run(["uv", "run", "--no-sync", "python", "-m", "infra.app"], infra, env=env)
    template = json.loads((outdir / "Apis.template.json").read_text())
    kinds = {r["Type"] for r in template["Resources"].values()}
    assert {"AWS::ApiGateway::RestApi", "AWS::ApiGatewayV2::Api"} <= kinds


# --- from every release to this one, committed with `git commit -a` ---------------------------


def releases() -> list[str]:
    """The releases CHANGELOG.md lists (each has its tag), oldest first."""
    text = (TEMPLATE_ROOT / "CHANGELOG.md").read_text()
    found = re.findall(r"^## (v\d+\.\d+\.\d+)\s*$", text, re.MULTILINE)
    return sorted(found, key=lambda tag: tuple(int(part) for part in tag[1:].split(".")))


RELEASES = releases()
IAC_TOOLS = ("CDK", "Terraform")
SHAPES = ("one-api", "two-apis")
#: Scenarios whose fresh clone runs the project's whole `poe check` (the others run its
#: formatting and lint checks): the oldest release, two APIs, for each IaC tool.
FULL_CHECK = {(RELEASES[0], iac, "two-apis") for iac in IAC_TOOLS}
#: A route of the user's own, appended to the API's main.py.
ROUTE = (
    '\n\n@app.get("/our-health")\ndef our_health() -> dict[str, str]:\n'
    '    """Ours."""\n    return {"status": "ok"}\n'
)
#: A shared file of the repository the user edits, per IaC tool.
SHARED_EDIT = {"CDK": f"{D}/infra/src/infra/stack.py", "Terraform": f"{D}/infra/variables.tf"}


def scenario_id(scenario: tuple[str, str, str]) -> str:
    return "-".join(part.lower() for part in scenario)


#: Every release with two APIs (the repository's first API is updated in those too); a single
#: API from the oldest and the newest release.
SCENARIOS = [
    (r, i, s)
    for r in RELEASES
    for i in IAC_TOOLS
    for s in SHAPES
    if s == "two-apis" or r in (RELEASES[0], RELEASES[-1])
]


@pytest.mark.slow
@pytest.mark.parametrize("scenario", SCENARIOS, ids=scenario_id)
def test_an_update_from_every_release_is_committed_whole_and_keeps_every_edit(
    template_clone: Path, tmp_path: Path, scenario: tuple[str, str, str]
) -> None:
    release, iac, shape = scenario
    assert release in git(template_clone, "tag", "--list").split()
    project = tmp_path / "repo"
    generate(template_clone, project, {"name": "orders", "iac_provider": iac}, ref=release)
    answers_files = [".copier-answers.yml"]
    if shape == "two-apis":
        generate(template_clone, project,
                 {"name": "payments", "iac_provider": iac, "compute_type": HTTP, "auth": "Cognito"},
                 ref=release, answers_file=SECOND, overwrite=True)  # fmt: skip
        answers_files.append(SECOND)
    edits = Edits(project)
    main_py = f"{D}/orders/orders/main.py"
    (project / main_py).write_text((project / main_py).read_text() + ROUTE)
    edits.lines[main_py] = "def our_health() -> dict[str, str]:"
    edits.insert_under_title("README.md")
    shared = SHARED_EDIT[iac]
    line = f"# our own line in {shared}"
    text = (project / shared).read_text()
    if iac == "Terraform":
        # Above the variables: releases add theirs at the end, and lines both sides add at the
        # same place are a true conflict, which the user would resolve.
        (project / shared).write_text(f"{line}\n\n{text}")
    else:
        # After two blank lines, as the project's formatter wants a comment after a definition.
        (project / shared).write_text(f"{text.rstrip()}\n\n\n{line}\n")
    edits.lines[shared] = line
    commit(project, "Our own changes")

    for answers_file in answers_files:
        update(project, answers_file=answers_file)
        git(project, "commit", "--quiet", "--all", "--allow-empty", "-m", f"Update {answers_file}")
        outside = git(project, "status", "--porcelain", "--untracked-files=all")
        assert outside == "", f"left outside git after updating {answers_file}:\n{outside}"
    edits.assert_kept()
    assert not leftovers(project), "conflicts where only one side changed lines"
    # Every API now records the template's version: a newer release, or the same one when the
    # template is at that release (the update then changes nothing the user made).
    version = git(template_clone, "describe", "--tags", "--always").strip()
    for answers_file in answers_files:
        assert recorded(project, answers_file)["_commit"] == version

    clone = tmp_path / "clone"
    git(tmp_path, "clone", "--quiet", str(project), str(clone))
    assert files_of(clone, ".").keys() - {".git"} >= files_of(project, D).keys()
    if (release, iac, shape) not in FULL_CHECK:
        # The formatting and lint checks of the project (the same ruff series it pins).
        run(["ruff", "check", "--no-cache", "."], clone)
        run(["ruff", "format", "--check", "--no-cache", "."], clone)
        if iac == "Terraform":
            run(["terraform", "fmt", "-check", "-recursive", D], clone)
        return
    run(["uv", "sync"], clone, timeout=900)
    poe = ["uv", "run", "--no-sync", "poe"]
    run([*poe, "lint"], clone, timeout=1800)
    run_the_project_tests(clone, release)
    if iac == "CDK":
        run([*poe, "synth"], clone, timeout=900)
        return
    run([*poe, "build"], clone, timeout=900)
    run(["terraform", "fmt", "-check", "-recursive", D], clone)
    terraform_checks(clone, tmp_path)


def run_the_project_tests(clone: Path, release: str) -> None:
    """`poe test`: every test passes, the template's own with the old release's sample routes
    the user kept (the template's tests never call the user's routes)."""
    result = run(["uv", "run", "--no-sync", "poe", "test"], clone, timeout=900)
    assert " passed" in result.stdout, f"from {release}: {result.stdout[-3000:]}"


def terraform_checks(clone: Path, tmp_path: Path) -> None:
    """`poe validate` and `poe tftest` on a copy adapted to the mirrored provider."""
    mirror = Path(os.environ.get("TF_PROVIDER_MIRROR", ""))
    assert mirrored_aws_versions(mirror), "TF_PROVIDER_MIRROR names no hashicorp/aws mirror"
    tree = tmp_path / "copy"
    shutil.copytree(clone / D, tree / D, ignore=shutil.ignore_patterns(".venv", ".terraform"))
    notes = prepare_for_provider(tree, mirrored_aws_versions(mirror)[-1])
    if notes:
        warnings.warn(UnvalidatedTerraform(f"updated repository: {notes[0]}"), stacklevel=2)
    terraform_validate(tree / D / "infra", tmp_path)
    env = tf_env(tmp_path)
    configs = sorted((tree / D / "common" / "terraform" / "src").glob("*/*/*/"))
    for config in [*configs, tree / D / "infra"]:
        if (config / "tests").is_dir():
            run(["terraform", "init", "-backend=false", "-input=false", "-no-color"], config,
                env=env)  # fmt: skip
            run(["terraform", "test", "-no-color"], config, env=env, timeout=900)


def test_an_edited_module_file_of_the_release_before_the_generator_stays_in_effect_and_named(
    template_clone: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """v0.7.0 wrote each API's Terraform module by hand; the build now writes it. A change the
    user made to one is merged into the new file, stays in effect, and is named with where it
    belongs (the build leaves such a file, and the project's check fails, until it is moved)."""
    project = generate(
        template_clone,
        tmp_path / "repo",
        {"name": "orders", "iac_provider": "Terraform", "compute_type": HTTP},
        ref="v0.7.0",
    )
    variables = (
        project / D / "common" / "terraform" / "src" / "app" / "apis" / "orders" / "variables.tf"
    )
    edited = variables.read_text().replace("  default     = 1024\n", "  default     = 2048\n")
    assert edited != variables.read_text()
    variables.write_text(edited)
    commit(project, "More memory")
    capfd.readouterr()

    update(project)

    message = capfd.readouterr().err
    text = variables.read_text()
    assert "default     = 2048" in text
    assert "generated-digest: " in text
    assert not leftovers(project)
    sys.path.insert(0, str(template_clone / "extensions"))
    try:
        from generated import terraform_generator

        assert terraform_generator().edited(text)
    finally:
        sys.path.remove(str(template_clone / "extensions"))
    assert f"{D}/common/terraform/src/app/apis/orders/variables.tf" in message
    assert "override file" in message
    # Its other generated files are the build's, untouched by the user: not named.
    assert "orders.tf\n" not in message
    assert not (variables.parent / "tests").exists()
