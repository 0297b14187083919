"""Generated projects refuse committed conflict markers and rejected hunks (pre-commit and CI)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from conftest import ProjectCache, tool_env

PRE_COMMIT = Path(sys.executable).parent / "pre-commit"


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


@pytest.fixture
def repo(projects: ProjectCache, tmp_path: Path) -> Path:
    """A writable git repository holding the default project (the first copy made it one),
    with whatever other tests built in it committed too."""
    project = shutil.copytree(projects.rendered(), tmp_path / "project")
    _git(project, "add", "--all")
    _git(project, "commit", "--quiet", "--allow-empty", "-m", "built")
    return project


def _hook(repo: Path, hook: str, *files: str) -> subprocess.CompletedProcess[str]:
    env = tool_env()
    env["PRE_COMMIT_HOME"] = str(repo.parent / "pre-commit-home")
    return subprocess.run(
        [str(PRE_COMMIT), "run", hook, "--files", *files],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_pre_commit_refuses_conflict_markers(repo: Path) -> None:
    readme = repo / "README.md"
    readme.write_text("<<<<<<< before updating\nours\n=======\ntheirs\n>>>>>>> after updating\n")
    result = _hook(repo, "no-conflict-markers", "README.md")
    assert result.returncode != 0
    assert "README.md:1:<<<<<<< before updating" in result.stdout


def test_pre_commit_accepts_clean_files(repo: Path) -> None:
    assert _hook(repo, "no-conflict-markers", "README.md").returncode == 0
    assert _hook(repo, "no-rejected-hunks", "README.md").returncode == 0


def test_pre_commit_refuses_rejected_hunks(repo: Path) -> None:
    (repo / "pyproject.toml.rej").write_text("@@ -1 +1 @@\n-a\n+b\n")
    result = _hook(repo, "no-rejected-hunks", "pyproject.toml.rej")
    assert result.returncode != 0
    assert "pyproject.toml.rej" in result.stdout


def _guard_script(repo: Path) -> str:
    """The shell of the ``conflicts`` task, which ``poe check`` (all that CI runs) starts with."""
    tasks = tomllib.loads((repo / "pyproject.toml").read_text())["tool"]["poe"]["tasks"]
    assert tasks["check"]["sequence"][0] == "conflicts"
    return str(tasks["conflicts"]["shell"])


def _run_guard(repo: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-e", "-c", _guard_script(repo)],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )


def test_ci_guard_passes_a_clean_repository(repo: Path) -> None:
    result = _run_guard(repo)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("notes.rej", "@@ -1 +1 @@\n"),
        ("main.py.orig", "x = 1\n"),
        ("module.py", "a = 1\n<<<<<<< before updating\nb = 2\n>>>>>>> after updating\n"),
    ],
)
def test_ci_guard_fails_on_committed_leftovers(repo: Path, name: str, content: str) -> None:
    (repo / name).write_text(content)
    _git(repo, "add", "--force", name)
    _git(repo, "commit", "--quiet", "-m", "leftover")
    result = _run_guard(repo)
    assert result.returncode != 0
    assert name in result.stdout
    assert "::error::" in result.stdout


@pytest.mark.parametrize("iac", ["CDK", "Terraform"])
def test_ci_runs_exactly_poe_check_which_builds_first(projects: ProjectCache, iac: str) -> None:
    project = projects.rendered(iac_provider=iac)
    workflow = yaml.safe_load((project / ".github" / "workflows" / "ci.yml").read_text())
    assert list(workflow["jobs"]) == ["checks"]
    steps = [step["run"] for step in workflow["jobs"]["checks"]["steps"] if "run" in step]
    # CI is one task, the one the README tells developers to run before pushing.
    assert steps == ["uv sync --locked", "uv run poe check"]
    tasks = tomllib.loads((project / "pyproject.toml").read_text())["tool"]["poe"]["tasks"]
    sequence = tasks["check"]["sequence"]
    build = "openapi" if iac == "CDK" else "build"
    # The build (OpenAPI documents, clients) comes before the tests that compare them.
    assert sequence.index(build) < sequence.index("test")
    assert sequence[-1] == "scan"
    assert "checkov==3.3.30" in tasks["scan"]["cmd"]
    assert tasks["lint"]["sequence"][:2] == ["ruff check .", "ruff format --check ."]
    assert tasks["lint"]["sequence"][2] == {"ref": "typecheck"}
    assert 'mypy "$package"' in tasks["typecheck"]["shell"]
    assert tasks["test"]["cmd"] == "pytest"
    if iac == "Terraform":
        assert {"validate", "tftest"} <= set(sequence)
        assert 'terraform -chdir="$config" test' in tasks["tftest"]["shell"]
        own: tuple[str, ...] = ("build", "validate", "tftest", "plan")
    else:
        assert "synth" in sequence
        own = ("synth", "bootstrap")
    readme = (project / "README.md").read_text()
    for task in ("serve", "test", "lint", "openapi", "bundle", "deploy", "destroy", "check", *own):
        assert f"uv run poe {task}" in readme, task
        assert task in tasks, task
