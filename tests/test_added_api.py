"""An API added to a repository comes from the repository's template version and shares its
repository-wide answers (``directory``, ``python_version``), or is refused before anything is
written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import copier
import pytest
from template_repo import clone_template, git, release

ADDED = ".copier-answers.payments.yml"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clone of the template with its release tags, the working tree committed on top."""
    clone = clone_template(tmp_path_factory.mktemp("added") / "template")
    release(clone)
    return clone


def copy(template: Path, dst: Path, answers: dict[str, str], **kwargs: Any) -> Path:
    """``copier copy`` as the README's commands do, non-interactively."""
    copier.run_copy(
        str(template), dst, data=answers, defaults=True, unsafe=True, quiet=True, **kwargs
    )
    return dst


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file of ``folder`` but git's, with its content."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(folder).parts
    }


@pytest.fixture(scope="module")
def repository(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository made from the template's current commit, in services/, on Python 3.12."""
    answers = {"name": "orders", "directory": "services", "python_version": "3.12"}
    return copy(template, tmp_path_factory.mktemp("repo") / "orders", answers, vcs_ref="HEAD")


def test_an_api_from_another_template_version_is_refused_before_writing(
    template: Path, tmp_path: Path
) -> None:
    project = copy(template, tmp_path / "repo", {"name": "orders"}, vcs_ref="v0.3.0")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "--allow-empty", "-m", "Generate")
    before = snapshot(project)
    with pytest.raises(ValueError, match=r"version v0\.3\.0.*--vcs-ref v0\.3\.0") as refused:
        copy(template, project, {"name": "payments"}, vcs_ref="HEAD", answers_file=ADDED)
    assert "update the repository first" in str(refused.value)
    assert snapshot(project) == before


def test_an_api_from_the_repository_version_joins_it(repository: Path, tmp_path: Path) -> None:
    recorded = (repository / ".copier-answers.yml").read_text(encoding="utf-8")
    ref = next(line.split(": ", 1)[1] for line in recorded.splitlines() if "_commit" in line)
    template = Path(
        next(line.split(": ", 1)[1] for line in recorded.splitlines() if "_src_path" in line)
    )
    copy(template, repository, {"name": "payments"}, vcs_ref=ref, answers_file=ADDED)
    added = (repository / ADDED).read_text(encoding="utf-8")
    # Inherited, not asked again: the repository's folder and Python.
    assert "directory: services" in added
    assert "python_version: '3.12'" in added
    assert (repository / "services" / "payments" / "payments" / "main.py").is_file()


@pytest.mark.parametrize(
    ("question", "answer", "kept"),
    [("directory", "packages", "services"), ("python_version", "3.13", "3.12")],
)
def test_an_added_api_cannot_leave_the_repositorys_folder_or_python(
    repository: Path, template: Path, question: str, answer: str, kept: str
) -> None:
    before = snapshot(repository)
    with pytest.raises(ValueError, match=rf"repository's {question} is '{kept}'"):
        copy(
            template,
            repository,
            {"name": "billing", question: answer},
            vcs_ref="HEAD",
            answers_file=".copier-answers.billing.yml",
        )
    assert snapshot(repository) == before
