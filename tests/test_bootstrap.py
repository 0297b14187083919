"""scripts/bootstrap.py renders a repository made with GitHub's "Use this template".

Each test builds what GitHub makes: a new git repository whose first commit holds the template's
files as they are. The script runs in it as the bootstrap workflow runs it, with the environment
GitHub Actions gives (GITHUB_REPOSITORY, the workflow's inputs as JSON) and the template's URL
pointed at a local clone of the template that has its release tags.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import copier
import pytest
import yaml
from conftest import TEMPLATE_ROOT, tool_env
from template_repo import clone_template, copy_working_tree, git, release

REPOSITORY = "acme/payments-api"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clone of the template with its release tags, as GitHub serves it."""
    clone = clone_template(tmp_path_factory.mktemp("bootstrap") / "template")
    release(clone)
    return clone


def latest_release(template: Path) -> str:
    """The newest release tag of ``template`` (what Copier renders when no release is asked)."""
    return release(template, "--list").split()[-2]


def created_from_template(path: Path) -> Path:
    """A repository as "Use this template" creates it: the template's files, one commit."""
    path.mkdir()
    git(path, "init", "--quiet", "--initial-branch=main")
    copy_working_tree(path)
    git(path, "add", "--all")
    git(path, "commit", "--quiet", "-m", "Initial commit")
    return path


def bootstrap(
    repo: Path,
    template_url: str,
    inputs: Mapping[str, str] | None = None,
    script: Path = Path("scripts/bootstrap.py"),
) -> subprocess.CompletedProcess[str]:
    """Run ``script`` (the repository's own) in ``repo`` as the workflow does."""
    env = {
        **tool_env(),
        "GITHUB_REPOSITORY": REPOSITORY,
        "TEMPLATE_URL": template_url,
        # What `toJSON(inputs)` gives: {} on a push, every input on a manual run.
        "INPUTS": json.dumps(dict(inputs or {})),
        "GIT_AUTHOR_NAME": "github-actions[bot]",
        "GIT_AUTHOR_EMAIL": "bot@example.com",
        "GIT_COMMITTER_NAME": "github-actions[bot]",
        "GIT_COMMITTER_EMAIL": "bot@example.com",
    }
    return subprocess.run(
        [sys.executable, str(script)],
        cwd=repo, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def answers(repo: Path) -> dict[str, Any]:
    """The answers file the bootstrap left."""
    data: dict[str, Any] = yaml.safe_load((repo / ".copier-answers.yml").read_text())
    return data


def commits(repo: Path) -> list[str]:
    """The subjects of ``repo``'s commits, newest first."""
    return git(repo, "log", "--format=%s").splitlines()


def test_first_push_renders_the_latest_release_with_the_defaults(
    template: Path, tmp_path: Path
) -> None:
    repo = created_from_template(tmp_path / "payments-api")

    result = bootstrap(repo, str(template))

    assert result.returncode == 0, result.stderr
    recorded = answers(repo)
    latest = latest_release(template)
    assert recorded["_src_path"] == str(template)
    assert recorded["_commit"] == latest
    # The name is the repository's; every other answer is the template's default.
    defaults = tmp_path / "defaults"
    copier.run_copy(
        str(template), defaults, data={"name": "payments-api"}, vcs_ref=latest,
        defaults=True, unsafe=True, quiet=True,
    )  # fmt: skip
    assert recorded == answers(defaults)
    # The template's files are gone; the project is what a plain `copier copy` makes.
    files = set(git(repo, "ls-files").splitlines())
    rendered = {p.relative_to(defaults) for p in defaults.rglob("*") if p.is_file()}
    assert files == {p.as_posix() for p in rendered if p.parts[0] != ".git"}
    assert commits(repo) == [f"Generate the project from {template} {latest}", "Initial commit"]
    assert git(repo, "status", "--porcelain") == ""


def test_manual_run_takes_the_inputs_and_the_project_updates_from_the_template(
    template: Path, tmp_path: Path
) -> None:
    repo = created_from_template(tmp_path / "payments-api")
    inputs = {
        "name": "",
        "template_ref": "v0.1.0",
        "compute_type": "ServerlessApiGatewayHttpApi",
        "integration_pattern": "shared",
        "auth": "None",
        "directory": "services",
        "iac_provider": "Terraform",
        "lambda_architecture": "x86_64",
        "python_version": "3.12",
    }

    result = bootstrap(repo, str(template), inputs)

    assert result.returncode == 0, result.stderr
    recorded = answers(repo)
    chosen = {k: v for k, v in inputs.items() if k not in ("name", "template_ref")}
    assert {k: recorded[k] for k in chosen} == chosen
    assert (recorded["name"], recorded["_commit"]) == ("payments-api", "v0.1.0")
    service = repo / "services" / "payments-api"
    assert (service / "tests" / "test_main.py").is_file()
    assert not (repo / "copier.yml").exists()
    assert not (repo / "template").exists()

    # The answers file points at the template: a later release comes with `copier update`,
    # its migration included (v0.2.0 renamed the sample tests).
    copier.run_update(
        repo, vcs_ref="v0.2.0", defaults=True, overwrite=True, unsafe=True, quiet=True
    )
    assert answers(repo)["_commit"] == "v0.2.0"
    assert (service / "tests" / "test_routes.py").is_file()
    assert not (service / "tests" / "test_main.py").exists()


def test_nothing_happens_where_github_knows_no_template(tmp_path: Path) -> None:
    # The template repository itself, a fork or a mirror: the workflow finds no template URL.
    repo = created_from_template(tmp_path / "template")

    result = bootstrap(repo, "")

    assert result.returncode == 0, result.stderr
    assert "nothing to do" in result.stdout
    assert commits(repo) == ["Initial commit"]
    assert (repo / "copier.yml").is_file()
    assert git(repo, "status", "--porcelain") == ""


def test_a_generated_repository_is_left_alone(template: Path, tmp_path: Path) -> None:
    # Generated repositories have no bootstrap script of their own: run the template's.
    repo = tmp_path / "payments-api"
    repo.mkdir()
    git(repo, "init", "--quiet", "--initial-branch=main")
    (repo / ".copier-answers.yml").write_text(f"_src_path: {template}\n", encoding="utf-8")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "Generate the project")

    result = bootstrap(repo, str(template), script=TEMPLATE_ROOT / "scripts" / "bootstrap.py")

    assert result.returncode == 0, result.stderr
    assert "already generated" in result.stdout
    assert commits(repo) == ["Generate the project"]


def test_a_refused_answer_leaves_the_template_files(template: Path, tmp_path: Path) -> None:
    repo = created_from_template(tmp_path / "fastapi")

    # A repository named after a dependency cannot name the API's package.
    result = bootstrap(repo, str(template), {"name": "fastapi"})

    assert result.returncode == 1
    assert "copier copy failed" in result.stderr
    assert commits(repo) == ["Initial commit"]
    assert git(repo, "status", "--porcelain") == ""
    assert (repo / "copier.yml").is_file()
