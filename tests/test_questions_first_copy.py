"""What a first copy leaves: answers typed at the prompts, a git repository, the next commands.

The interactive test drives `copier copy` in a pseudo-terminal, as a user types.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pexpect
import pytest
import yaml
from conftest import TEMPLATE_ROOT, render, tool_env

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "extensions"))

import git_init
from naming import planned_files

COPIER = Path(sys.executable).parent / "copier"


#: prompt_toolkit asks the terminal where its cursor is, and waits for the answer.
CURSOR_POSITION_REQUEST = "\x1b[6n"


def _expect(child: pexpect.spawn[str], text: str, *, answer: bool = True) -> None:
    """Wait for ``text`` on the terminal, answering cursor position requests meanwhile.

    Unanswered, prompt_toolkit waits about a second, then redraws whole lines: slower, but the
    validators' messages then arrive in one piece (answered, it redraws changed characters only).
    """
    while child.expect_exact([CURSOR_POSITION_REQUEST, text]) == 0:
        if answer:
            child.send("\x1b[1;1R")


def test_typing_answers_refuses_each_bad_one_at_its_own_prompt(tmp_path: Path) -> None:
    """Interactively, a name whose derived module name is invalid is refused where it is typed,
    the run goes on, and the closing message gives the next commands."""
    dst = tmp_path / "project"
    child = pexpect.spawn(
        str(COPIER), ["copy", "--trust", str(TEMPLATE_ROOT), str(dst)],
        env=tool_env(), encoding="utf-8", timeout=30, dimensions=(40, 250),
    )  # fmt: skip
    clear_line = "\x15"  # Ctrl-U: the prompts start with the default typed in
    try:
        _expect(child, "Name of the API", answer=False)
        child.sendline("class")
        _expect(
            child,
            "The module name 'class', derived from the name 'class', is a Python",
            answer=False,
        )
        child.send(clear_line)
        child.sendline("Orders")
        _expect(child, "Folder, package and AWS resource name", answer=False)
        child.send(clear_line)
        child.sendline("class")
        _expect(
            child, "derived from the API name 'class', is a Python keyword; use for", answer=False
        )
        child.send(clear_line)
        child.sendline("orders-api")
        # Every other question, in the order asked, with its default.
        for prompt in (
            "Python module name",
            "Infrastructure as code tool",
            "API Gateway flavour",
            "How API Gateway reaches your code",
            "How callers authenticate",
            "Folder of the repository",
            "Processor architecture",
            "Python version",
            "How traces reach AWS X-Ray",
        ):
            _expect(child, prompt)
            child.sendline("")
        _expect(child, "Your API 'orders-api' is ready")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    closing = child.before or ""
    assert child.exitstatus == 0, closing
    readme = (dst / "README.md").read_text()
    for command in ("uv sync", "uv run poe test", "uv run poe serve"):
        assert command in closing
        assert command in readme, "the closing message and the README disagree"
    assert f"cd {dst}" in closing
    assert "uv run poe serve orders-api" in closing
    assert "uvicorn" not in closing
    assert (dst / "packages" / "orders-api" / "orders_api" / "main.py").is_file()
    assert _git(dst, "status", "--porcelain") == ""


def _git(cwd: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", *args], cwd=cwd, env=tool_env(), capture_output=True, text=True, check=True
    )
    return result.stdout


def test_a_new_repository_starts_with_everything_generated_committed(tmp_path: Path) -> None:
    # A project of its own: the shared renders get build output from other tests.
    project = render(tmp_path / "project", {"name": "order-service"})
    assert _git(project, "rev-parse", "--show-toplevel").strip() == str(project)
    assert _git(project, "log", "--format=%s").splitlines() == [git_init.COMMIT_MESSAGE]
    assert _git(project, "status", "--porcelain", "--ignored") == ""
    tracked = set(_git(project, "ls-files").splitlines())
    assert {".copier-answers.yml", ".gitignore", "README.md", "pyproject.toml"} <= tracked


def test_an_added_api_is_left_for_the_user_to_commit(tmp_path: Path) -> None:
    dst = render(tmp_path / "project", {"name": "order-service"})
    render(dst, {"name": "billing"}, answers_file=".copier-answers.billing.yml")
    assert len(_git(dst, "log", "--format=%H").splitlines()) == 1
    assert "?? .copier-answers.billing.yml" in _git(dst, "status", "--porcelain").splitlines()


def test_a_destination_inside_a_git_repository_is_left_alone(tmp_path: Path) -> None:
    outer = tmp_path / "monorepo"
    outer.mkdir()
    _git(outer, "init", "--quiet")
    render(outer / "services", {"name": "order-service"})
    assert not (outer / "services" / ".git").exists()
    assert _git(outer, "rev-list", "--all") == ""
    assert "?? services/" in _git(outer, "status", "--porcelain").splitlines()


def _isolated_git_env(home: Path, **extra: str) -> dict[str, str]:
    """An environment whose git reads no configuration but ``home``'s."""
    env = {k: v for k, v in tool_env().items() if not k.startswith(("GIT_", "EMAIL"))}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), GIT_CONFIG_NOSYSTEM="1")
    env.update(extra)
    return env


@pytest.mark.parametrize("configured", [False, True], ids=["no-identity", "identity"])
def test_the_initial_commit_uses_the_users_identity_or_a_fallback(
    tmp_path: Path, configured: bool
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    if configured:
        (home / ".gitconfig").write_text("[user]\n\tname = Ada\n\temail = ada@example.com\n")
    project = tmp_path / "project"
    project.mkdir()
    (project / "README.md").write_text("# project\n")
    (project / ".copier-answers.yml").write_text("name: order-service\n")
    env = _isolated_git_env(home)
    result = subprocess.run(
        [sys.executable, str(TEMPLATE_ROOT / "extensions" / "git_init.py"), str(TEMPLATE_ROOT),
         ".copier-answers.yml"],
        cwd=project, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    author = subprocess.run(
        ["git", "log", "--format=%an <%ae>"],
        cwd=project, env=env, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    if configured:
        assert author == "Ada <ada@example.com>"
        assert result.stdout == ""
    else:
        assert author == f"{git_init.FALLBACK_NAME} <{git_init.FALLBACK_EMAIL}>"
        assert "git has no identity of yours" in result.stdout
    # The user's configuration is left as it was.
    assert (home / ".gitconfig").exists() is configured


def test_a_refused_data_answer_ends_copiers_output_with_the_line_the_readme_shows(
    tmp_path: Path,
) -> None:
    readme = (TEMPLATE_ROOT / "README.md").read_text()
    shown = [line for line in readme.splitlines() if line.startswith("ValueError: ")]
    assert len(shown) == 1
    result = subprocess.run(
        [str(COPIER), "copy", "--trust", "--defaults", "--data", "name=class",
         str(TEMPLATE_ROOT), str(tmp_path / "project")],
        env=tool_env(), capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == shown[0]
    assert not (tmp_path / "project").exists() or not any((tmp_path / "project").iterdir())


# --- a destination that already holds files ---------------------------------------------------

SECRET = "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"


def _users_folder(folder: Path) -> dict[str, bytes]:
    """A folder holding a user's README, secrets and notes; returns its files' contents."""
    folder.mkdir()
    (folder / "README.md").write_text("# Our notes, not a template's\n")
    (folder / ".env").write_text(SECRET)
    (folder / "notes.txt").write_text("ours\n")
    return _contents(folder)


def _contents(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(folder).parts
    }


def _copy(dst: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """``copier copy`` as a script runs it: no terminal, answers on the command line."""
    return subprocess.run(
        [str(COPIER), "copy", "--trust", "--vcs-ref", "HEAD", "--defaults", "--data",
         "name=my-api", *options, str(TEMPLATE_ROOT), str(dst)],
        env=tool_env(), capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def test_a_copy_into_a_folder_holding_a_file_it_would_write_refuses_before_writing(
    tmp_path: Path,
) -> None:
    dst = tmp_path / "project"
    before = _users_folder(dst)
    result = _copy(dst)
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()
    assert "already holds files this template writes; nothing was written" in result.stderr
    assert last[-1].strip() == "README.md", last[-3:]
    assert _contents(dst) == before
    assert not (dst / ".git").exists()


def test_overwrite_names_what_it_replaced_and_commits_only_what_it_wrote(tmp_path: Path) -> None:
    dst = tmp_path / "project"
    before = _users_folder(dst)
    result = _copy(dst, "--overwrite")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "the copy replaces these files of yours:\n  README.md\n" in result.stderr
    after = _contents(dst)
    assert after[".env"] == before[".env"]
    assert after["notes.txt"] == before["notes.txt"]
    assert after["README.md"] != before["README.md"]
    committed = set(_git(dst, "ls-files").splitlines())
    assert ".env" not in committed
    assert "notes.txt" not in committed
    assert "README.md" in committed
    assert committed == set(after) - {".env", "notes.txt"}
    assert _git(dst, "status", "--porcelain").splitlines() == ["?? notes.txt"]
    assert "Not committed, because the copy did not write them" in result.stdout
    assert "  notes.txt" in result.stdout.splitlines()
    assert SECRET.strip() not in _git(dst, "log", "-p", "--all")


def test_a_folder_of_the_users_files_that_the_template_does_not_write_is_copied_into(
    tmp_path: Path,
) -> None:
    dst = tmp_path / "project"
    dst.mkdir()
    (dst / ".env").write_text(SECRET)
    (dst / ".env.local").write_text(SECRET)
    (dst / ".env.example").write_text("AWS_REGION=eu-west-1\n")
    result = _copy(dst)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (dst / ".env").read_text() == SECRET
    committed = set(_git(dst, "ls-files").splitlines())
    assert not {".env", ".env.local", ".env.example"} & committed
    # Secrets are ignored; an example file is not, so it can be committed on purpose.
    assert _git(dst, "status", "--porcelain").splitlines() == ["?? .env.example"]


@pytest.mark.parametrize(
    "answers",
    [
        {"iac_provider": "CDK"},
        {"iac_provider": "Terraform"},
        {"iac_provider": "Terraform", "compute_type": "ServerlessApiGatewayHttpApi",
         "integration_pattern": "shared", "auth": "Cognito", "directory": "services/apis"},
    ],
    ids=["cdk-defaults", "terraform-defaults", "terraform-http-shared-cognito-directory"],
)  # fmt: skip
def test_the_files_a_copy_plans_are_the_files_it_writes(
    tmp_path: Path, answers: dict[str, str]
) -> None:
    dst = render(tmp_path / "project", {"name": "Payments API v2", **answers}, skip_tasks=True)
    recorded = yaml.safe_load((dst / ".copier-answers.yml").read_text())
    assert planned_files(TEMPLATE_ROOT, recorded) == set(_contents(dst))
