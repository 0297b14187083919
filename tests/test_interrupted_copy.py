"""A failed or interrupted copy leaves the folder as it was.

The copies run the real `copier` CLI in a process of its own (session of its own, so a signal
reaches it as the terminal's Ctrl-C does: the whole process group), rendering a copy of the
template's working tree; one runs `copier.run_copy` in this process, as a library user does,
and the last two drive the journal directly, to show what it may delete. Each compares a full
snapshot of the user's folder (paths, kinds, contents, modes, symlink targets) before and
after. The copy's temporary folder (TMPDIR) is the test's own, so "no journal left anywhere" is
checked where the journal would be.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import copier
import pytest
from conftest import tool_env
from template_repo import copy_working_tree

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "extensions"))

from copy_journal import Journal

COPIER = Path(sys.executable).parent / "copier"

SECRET = "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"

#: Copier's CLI with its worker's clean-up hooks never run: the journal then learns the end of
#: the copy at interpreter exit, from the template's last task (a Copier without the hooks).
WITHOUT_WORKER_HOOKS = (
    "import sys, copier._main, copier._cli; "
    "copier._main.Worker.__exit__ = lambda self, *exc: None; "
    "sys.argv[0] = 'copier'; copier._cli.CopierApp.run()"
)

Snapshot = dict[str, tuple[str, int, bytes]]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template's working tree, outside git: Copier renders it without a clone."""
    root = tmp_path_factory.mktemp("template")
    copy_working_tree(root)
    return root


def snapshot(folder: Path) -> Snapshot:
    """Every path under ``folder``: its kind, mode and content (a symlink's target)."""
    result: Snapshot = {}
    for path in sorted(folder.rglob("*")):
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            result[path.relative_to(folder).as_posix()] = ("link", 0, os.readlink(path).encode())
        elif stat.S_ISDIR(info.st_mode):
            result[path.relative_to(folder).as_posix()] = ("dir", stat.S_IMODE(info.st_mode), b"")
        else:
            result[path.relative_to(folder).as_posix()] = (
                "file", stat.S_IMODE(info.st_mode), path.read_bytes()
            )  # fmt: skip
    return result


def users_folder(folder: Path, *, readme: bool = True) -> Snapshot:
    """A folder of the user's: a README, secrets, a folder of notes, a symlink, an empty folder."""
    folder.mkdir(parents=True)
    if readme:
        (folder / "README.md").write_text("# Our notes, not a template's\n")
    (folder / ".env").write_text(SECRET)
    (folder / ".env").chmod(0o600)
    (folder / "notes").mkdir()
    (folder / "notes" / "plan.md").write_text("ours\n")
    (folder / "notes" / "run.sh").write_text("#!/bin/sh\necho ours\n")
    (folder / "notes" / "run.sh").chmod(0o755)
    (folder / "latest").symlink_to("notes/plan.md")
    (folder / "data").mkdir()
    return snapshot(folder)


def copy_command(
    template: Path, dst: Path, *options: str, hooks: bool = True, name: str = "my-api"
) -> list[str]:
    """``copier copy`` as a script runs it: no terminal, answers on the command line."""
    head = [str(COPIER)] if hooks else [sys.executable, "-c", WITHOUT_WORKER_HOOKS]
    return [*head, "copy", "--trust", "--defaults", "--data", f"name={name}", *options,
            str(template), str(dst)]  # fmt: skip


def copy_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The copy's environment, with a temporary folder of the test's own."""
    temp = tmp_path / "tmp"
    temp.mkdir(exist_ok=True)
    return {**tool_env(), "TMPDIR": str(temp), **extra}


def journals(tmp_path: Path) -> list[str]:
    """What the copy left in its temporary folder."""
    return sorted(path.name for path in (tmp_path / "tmp").iterdir())


@pytest.fixture
def started() -> Iterator[list[subprocess.Popen[str]]]:
    """Copies started in the background; killed if a test ends before they do."""
    processes: list[subprocess.Popen[str]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _as_from_a_terminal() -> None:
    """Ctrl-C reaches a program started from a terminal, even where this suite runs with SIGINT
    ignored (a shell's background job without job control passes SIG_IGN on to its children)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(
    started: list[subprocess.Popen[str]], command: list[str], env: dict[str, str]
) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, start_new_session=True,
        preexec_fn=_as_from_a_terminal,
    )  # fmt: skip
    started.append(process)
    return process


def wait_for(condition: Path, process: subprocess.Popen[str], seconds: float = 60) -> None:
    """Return once ``condition`` exists; fail if the copy ends or ``seconds`` pass first."""
    deadline = time.monotonic() + seconds
    while not (condition.exists() or condition.is_symlink()):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"{condition} never appeared"
        time.sleep(0.002)


def interrupt(process: subprocess.Popen[str], signum: int) -> tuple[int, str]:
    """Send ``signum`` to the copy's process group, as a terminal does; its status and stderr."""
    os.killpg(process.pid, signum)
    _, stderr = process.communicate(timeout=60)
    return process.returncode, stderr


EXIT = {signal.SIGINT: (1, "interrupted"), signal.SIGTERM: (143, "stopped by SIGTERM")}


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_copy_interrupted_while_writing_leaves_the_users_folder_as_it_was(
    template: Path, tmp_path: Path, started: list[subprocess.Popen[str]], signum: int
) -> None:
    dst = tmp_path / "project"
    before = users_folder(dst)
    process = start(started, copy_command(template, dst, "--overwrite"), copy_env(tmp_path))
    wait_for(dst / "packages", process)
    status, stderr = interrupt(process, signum)
    code, why = EXIT[signal.Signals(signum)]
    assert status == code, stderr[-3000:]
    assert f"The copy did not finish ({why}): {dst} holds again what it held before" in stderr
    assert snapshot(dst) == before
    assert journals(tmp_path) == []


def test_a_copy_that_fails_while_writing_leaves_the_users_folder_as_it_was(
    template: Path, tmp_path: Path
) -> None:
    """A monorepo's `packages` links to a folder elsewhere: Copier refuses to write through it,
    after it wrote the files before it."""
    dst = tmp_path / "project"
    shared = tmp_path / "shared-packages"
    shared.mkdir()
    (shared / "lib.py").write_text("shared = True\n")
    users_folder(dst, readme=False)
    (dst / "packages").symlink_to(shared)
    before, outside = snapshot(dst), snapshot(shared)
    result = subprocess.run(
        copy_command(template, dst), env=copy_env(tmp_path), stdin=subprocess.DEVNULL,
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert result.returncode != 0
    assert "create" in result.stderr, "the copy failed before writing anything"
    assert "ForbiddenPathError" in result.stderr
    assert f"{dst} holds again what it held before the copy." in result.stderr
    assert snapshot(dst) == before
    assert snapshot(shared) == outside
    assert journals(tmp_path) == []


def test_overwritten_files_are_put_back_when_the_first_commit_is_interrupted(
    template: Path, tmp_path: Path, started: list[subprocess.Popen[str]]
) -> None:
    """The user's git signs commits and waits for a passphrase; the user gives up (Ctrl-C)."""
    dst = tmp_path / "project"
    before = users_folder(dst)
    home, signing = tmp_path / "home", tmp_path / "signing"
    home.mkdir()
    gpg = tmp_path / "gpg"
    gpg.write_text(f"#!/bin/sh\ntouch {signing}\nexec sleep 60\n")
    gpg.chmod(0o755)
    (home / ".gitconfig").write_text(
        f"[user]\n\tname = Ada\n\temail = ada@example.com\n"
        f"[commit]\n\tgpgsign = true\n[gpg]\n\tprogram = {gpg}\n"
    )
    env = copy_env(tmp_path, HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"),
                   GIT_CONFIG_NOSYSTEM="1")  # fmt: skip
    process = start(started, copy_command(template, dst, "--overwrite"), env)
    wait_for(signing, process)
    assert (dst / "README.md").read_bytes() != before["README.md"][2], "README.md not replaced"
    assert (dst / ".git").is_dir()
    status, stderr = interrupt(process, signal.SIGINT)
    assert status == 1
    assert "Put back as they were: README.md" in stderr
    assert stderr.strip().splitlines()[-1] == "Execution stopped by user"
    assert snapshot(dst) == before
    assert journals(tmp_path) == []


@pytest.mark.parametrize("hooks", [True, False], ids=["worker-hooks", "at-exit"])
def test_a_successful_copy_leaves_no_journal_and_keeps_the_users_files(
    template: Path, tmp_path: Path, hooks: bool
) -> None:
    dst = tmp_path / "project"
    before = users_folder(dst, readme=False)
    result = subprocess.run(
        copy_command(template, dst, hooks=hooks), env=copy_env(tmp_path),
        stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "did not finish" not in result.stderr
    after = snapshot(dst)
    assert {rel: after[rel] for rel in before} == before
    assert (dst / "packages" / "my-api" / "my_api" / "main.py").is_file()
    assert (dst / ".git").is_dir()
    assert journals(tmp_path) == []


def test_without_copiers_hooks_an_interrupted_copy_is_put_back_at_exit(
    template: Path, tmp_path: Path, started: list[subprocess.Popen[str]]
) -> None:
    dst = tmp_path / "project"
    before = users_folder(dst)
    command = copy_command(template, dst, "--overwrite", hooks=False)
    process = start(started, command, copy_env(tmp_path))
    wait_for(dst / "packages", process)
    status, stderr = interrupt(process, signal.SIGINT)
    assert status == 1, stderr[-3000:]
    assert "The copy did not finish (it stopped before its last task)" in stderr
    assert snapshot(dst) == before
    assert journals(tmp_path) == []


def test_a_copy_into_a_new_folder_that_is_interrupted_removes_it(
    template: Path, tmp_path: Path, started: list[subprocess.Popen[str]]
) -> None:
    """Copier removes a folder it created when the copy fails, not when it is interrupted."""
    dst = tmp_path / "project"
    process = start(started, copy_command(template, dst), copy_env(tmp_path))
    wait_for(dst / "packages", process)
    status, stderr = interrupt(process, signal.SIGINT)
    assert status == 1
    assert f"{dst} is removed, as it did not exist before." in stderr
    assert not dst.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tmp"]


def test_an_api_added_and_interrupted_leaves_the_repository_as_it_was(
    template: Path, tmp_path: Path, started: list[subprocess.Popen[str]]
) -> None:
    repo = tmp_path / "repo"
    copier.run_copy(str(template), repo, data={"name": "my-api"}, defaults=True, unsafe=True,
                    quiet=True)  # fmt: skip
    (repo / ".env").write_text(SECRET)
    before = snapshot(repo)
    command = copy_command(
        template, repo, "--answers-file", ".copier-answers.billing.yml", name="billing"
    )
    process = start(started, command, copy_env(tmp_path))
    wait_for(repo / "packages" / "billing", process)
    status, stderr = interrupt(process, signal.SIGINT)
    assert status == 1, stderr[-3000:]
    assert f"{repo} holds again what it held before the copy." in stderr
    assert snapshot(repo) == before
    assert journals(tmp_path) == []


def test_run_copy_puts_the_folder_back_before_it_raises(
    template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As a library, in a long-lived process: the folder is back when `run_copy` raises."""
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    dst = tmp_path / "project"
    users_folder(dst)
    (tmp_path / "shared-packages").mkdir()
    (dst / "packages").symlink_to(tmp_path / "shared-packages")
    before = snapshot(dst)
    with pytest.raises(Exception, match="forbidden"):
        copier.run_copy(str(template), dst, data={"name": "my-api"}, defaults=True,
                        overwrite=True, unsafe=True, quiet=True)  # fmt: skip
    assert snapshot(dst) == before
    assert journals(tmp_path) == []


# --- what the journal may delete, whatever goes wrong --------------------------------------


def test_putting_back_never_deletes_what_the_user_had_or_wrote_meanwhile(tmp_path: Path) -> None:
    """Even put back at the wrong time (after a copy that succeeded, with the user at work in
    the folder since), only the copy's own new files and emptied new folders go."""
    dst = tmp_path / "project"
    before = users_folder(dst)
    planned = ["README.md", "notes/plan.md", "packages/api/main.py", "packages/api/README.md",
               ".copier-answers.yml"]  # fmt: skip
    journal = Journal(dst, planned, tasks_run=True)
    # The copy writes its files (replacing two of the user's), then git init ...
    for rel in planned:
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        (dst / rel).write_text("template\n")
    (dst / ".git" / "objects").mkdir(parents=True)
    # ... and the user writes into the folder meanwhile, new folders of the copy's included.
    (dst / "packages" / "api" / "mine.py").write_text("mine\n")
    (dst / "notes" / "later.md").write_text("mine\n")
    (dst / "todo.txt").write_text("mine\n")
    put_back, problems = journal.restore()
    assert sorted(put_back) == ["README.md", "notes/plan.md"]
    assert problems == [
        "packages/api/ holds files the copy did not write; left there",
        "packages/ holds files the copy did not write; left there",
    ]
    after = snapshot(dst)
    assert {rel: after[rel] for rel in before} == before
    assert set(after) - set(before) == {
        "packages", "packages/api", "packages/api/mine.py", "notes/later.md", "todo.txt"
    }  # fmt: skip
    assert not journal.folder.exists()
    assert not (dst / ".git").exists()


def test_when_the_end_of_a_copy_cannot_be_told_nothing_is_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No worker hook, tasks skipped: at exit, a copy that may have succeeded stays, and the
    files it replaced are kept where the message says."""
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    dst = tmp_path / "project"
    users_folder(dst)
    journal = Journal(dst, ["README.md", "pyproject.toml"], tasks_run=False)
    (dst / "README.md").write_text("template\n")
    (dst / "pyproject.toml").write_text("template\n")
    journal.at_exit()
    assert (dst / "pyproject.toml").read_text() == "template\n"
    kept = journal.folder / "files" / "README.md"
    assert kept.read_text() == "# Our notes, not a template's\n"
    assert f"so nothing was removed; the files it replaced are kept in {journal.folder}" in (
        capsys.readouterr().err
    )
