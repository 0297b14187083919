"""The template's Copier configuration: settings, questions, validation, rendered trees."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import copier
import pytest
import yaml
from conftest import COMBINATIONS, TEMPLATE_ROOT, ProjectCache, combination_id, render
from copier._template import Template
from pytest_copie.plugin import Copie

#: Every setting Copier 9 reads from copier.yml (https://copier.readthedocs.io, "Settings").
#: Copier silently ignores any other ``_`` key, so a misspelt setting would do nothing.
KNOWN_SETTINGS = {
    "_answers_file",
    "_envops",
    "_exclude",
    "_external_data",
    "_jinja_extensions",
    "_message_after_copy",
    "_message_after_update",
    "_message_before_copy",
    "_message_before_update",
    "_migrations",
    "_min_copier_version",
    "_preserve_symlinks",
    "_secret_questions",
    "_skip_if_exists",
    "_subdirectory",
    "_tasks",
    "_templates_suffix",
}

#: An answer or Copier variable left unrendered (f-strings may hold other double braces).
UNRENDERED = re.compile(
    r"\{\{-?\s+(_copier|"
    + "|".join(
        sorted(
            {
                "name",
                "api_name",
                "module_name",
                "compute_type",
                "integration_pattern",
                "auth",
                "directory",
                "iac_provider",
                "lambda_architecture",
                "python_version",
            }
        )
    )
    + r")\b"
)

QUESTIONS = {
    "name",
    "api_name",
    "module_name",
    "compute_type",
    "integration_pattern",
    "auth",
    "directory",
    "iac_provider",
    "lambda_architecture",
    "python_version",
    "tracing",
}


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    data = yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text())
    assert isinstance(data, dict)
    return data


def test_every_setting_is_one_copier_knows(config: dict[str, Any]) -> None:
    unknown = {key for key in config if key.startswith("_")} - KNOWN_SETTINGS
    assert not unknown, f"Copier ignores these keys silently: {sorted(unknown)}"


def test_copier_reads_the_settings_as_written(config: dict[str, Any]) -> None:
    template = Template(url=str(TEMPLATE_ROOT))
    assert template.subdirectory == "template"
    assert template.templates_suffix == ".jinja"
    assert list(template.exclude) == config["_exclude"]
    assert list(template.jinja_extensions) == config["_jinja_extensions"]
    assert str(template.min_copier_version) == config["_min_copier_version"]
    assert template.envops == config["_envops"]


def test_exclusions_cover_what_copier_drops_with_a_subdirectory(config: dict[str, Any]) -> None:
    required = {
        "__pycache__",
        ".venv",
        "cdk.out",
        ".terraform",
        "node_modules",
        ".DS_Store",
        ".git",
    }
    assert required <= set(config["_exclude"])
    assert {"*.tfstate", "*.tfstate.*", "*.py[co]"} <= set(config["_exclude"])


def test_tasks_run_on_first_copy_only(config: dict[str, Any]) -> None:
    for task in config.get("_tasks", []):
        assert isinstance(task, dict)
        assert "_copier_operation == 'copy'" in str(task.get("when"))


def test_every_question_is_typed_and_explained(config: dict[str, Any]) -> None:
    questions = {key: value for key, value in config.items() if not key.startswith("_")}
    assert set(questions) == QUESTIONS
    for key, question in questions.items():
        assert question.get("type") == "str", key
        assert len(question.get("help", "")) > 20, key
        if key != "name":
            assert "default" in question, key
        if "choices" in question and "{{" not in str(question["default"]):
            assert question["default"] in _choice_values(question["choices"]), key


def test_questions_are_asked_in_the_order_users_decide(config: dict[str, Any]) -> None:
    # The name first, then the tool, then what the API looks like, then where and how it runs.
    asked = [key for key in config if not key.startswith("_")]
    assert asked == [
        "name",
        "api_name",
        "module_name",
        "iac_provider",
        "compute_type",
        "integration_pattern",
        "auth",
        "directory",
        "lambda_architecture",
        "python_version",
        "tracing",
    ]


def test_a_given_api_name_frees_the_name_from_its_derived_forms(tmp_path: Path) -> None:
    dst = render(tmp_path / "project", {"name": "class", "api_name": "class-api"})
    assert (dst / "packages" / "class-api" / "class_api" / "main.py").is_file()


def _choice_values(choices: Any) -> list[Any]:
    return list(choices.values()) if isinstance(choices, dict) else list(choices)


def test_choices_and_defaults_follow_the_spec(config: dict[str, Any]) -> None:
    assert config["compute_type"]["default"] == "ServerlessApiGatewayRestApi"
    assert _choice_values(config["compute_type"]["choices"]) == [
        "ServerlessApiGatewayRestApi",
        "ServerlessApiGatewayHttpApi",
    ]
    assert _choice_values(config["integration_pattern"]["choices"]) == ["isolated", "shared"]
    assert config["integration_pattern"]["default"] == "isolated"
    assert _choice_values(config["auth"]["choices"]) == ["IAM", "Cognito", "Custom", "None"]
    assert config["auth"]["default"] == "IAM"
    # A new repository's folder; an added API inherits its repository's.
    assert config["directory"]["default"].endswith("or 'packages' }}")
    assert _choice_values(config["iac_provider"]["choices"]) == ["CDK", "Terraform"]


@pytest.mark.parametrize(
    ("answers", "says"),
    [
        ({"name": "json"}, "shadows the standard library module 'json'"),
        ({"name": "fastapi"}, "shadows 'fastapi'"),
        ({"name": "class"}, "Python keyword"),
        ({"name": "9lives"}, "starts with a digit"),
        ({"name": "***"}, "no letters or digits"),
        ({"name": ""}, "needs a name"),
        ({"name": "orders", "module_name": "Orders-Mod"}, "not a Python identifier"),
        ({"name": "orders", "api_name": "Orders_API"}, "not kebab case"),
        ({"name": "orders", "api_name": "class"}, "derived from the API name 'class'"),
        ({"name": "Café"}, "characters outside ASCII"),
        ({"name": "orders", "directory": "../elsewhere"}, "'..'"),
        ({"name": "orders", "compute_type": "Lambda"}, "Invalid choice for 'compute_type'"),
    ],
)
def test_bad_answers_are_refused_and_nothing_is_written(
    copie: Copie, answers: dict[str, str], says: str
) -> None:
    result = copie.copy(extra_answers=answers, template_dir=TEMPLATE_ROOT)
    assert isinstance(result.exception, ValueError)
    assert says in str(result.exception)
    assert result.project_dir is None
    leftovers = [p for p in copie.test_dir.rglob("*") if p.is_file()]
    assert not leftovers, f"a refused answer left files behind: {leftovers}"


def test_a_second_api_needs_its_own_answers_file(tmp_path: Path) -> None:
    dst = render(tmp_path / "project", {"name": "order-service"})
    before = (dst / ".copier-answers.yml").read_text()
    with pytest.raises(ValueError, match=re.escape("--answers-file .copier-answers.payments.yml")):
        render(dst, {"name": "payments"})
    assert (dst / ".copier-answers.yml").read_text() == before
    assert not (dst / "packages" / "payments").exists()


@pytest.mark.parametrize("provider", ["CDK", "Terraform"])
def test_a_second_api_inherits_the_repository_iac_provider(tmp_path: Path, provider: str) -> None:
    first = {"name": "order-service", "iac_provider": provider, "python_version": "3.12"}
    dst = render(tmp_path / "project", first)
    render(dst, {"name": "payments"}, answers_file=".copier-answers.payments.yml")
    recorded = yaml.safe_load((dst / ".copier-answers.payments.yml").read_text())
    assert recorded["iac_provider"] == provider
    assert recorded["python_version"] == "3.12"
    other = "CDK" if provider == "Terraform" else "Terraform"
    with pytest.raises(ValueError, match=f"deploys with {provider}"):
        render(
            dst,
            {"name": "billing", "iac_provider": other},
            answers_file=".copier-answers.billing.yml",
        )
    assert not (dst / ".copier-answers.billing.yml").exists()


def test_the_answers_file_records_every_answer(projects: ProjectCache) -> None:
    project = projects.rendered()
    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert set(recorded) >= QUESTIONS
    assert recorded["api_name"] == "order-service"
    assert recorded["module_name"] == "order_service"
    assert "_commit" in recorded
    assert "_src_path" in recorded


#: What installing, building or testing a project writes (ignored by its .gitignore).
BUILD_OUTPUT = {".git", ".venv", "dist", "cdk.out", ".terraform", "__pycache__", ".pytest_cache",
                ".hypothesis", ".mypy_cache", ".ruff_cache", "node_modules", ".build.lock",
                "uv.lock"}  # fmt: skip


def _generated(root: Path) -> list[Path]:
    """The files and folders Copier wrote below ``root``."""
    return [p for p in root.rglob("*") if not BUILD_OUTPUT & set(p.relative_to(root).parts)]


def _files(root: Path) -> set[str]:
    return {path.relative_to(root).as_posix() for path in _generated(root) if path.is_file()}


def _expected(answers: dict[str, str]) -> tuple[set[str], set[str]]:
    """Paths that must exist, and patterns (substrings of paths) that must not."""
    d, api, module = "packages", "order-service", "order_service"
    present = {
        ".copier-answers.yml",
        ".gitignore",
        ".python-version",
        ".pre-commit-config.yaml",
        ".github/workflows/ci.yml",
        "pyproject.toml",
        "README.md",
        f"{d}/{api}/pyproject.toml",
        f"{d}/{api}/README.md",
        f"{d}/{api}/run.sh",
        f"{d}/{api}/{module}/__init__.py",
        f"{d}/{api}/{module}/init.py",
        f"{d}/{api}/{module}/main.py",
        f"{d}/common/toolchain/src/common_toolchain/bundle.py",
        f"{d}/common/client-runtime/src/common_client/transport.py",
    }
    absent: set[str] = set()
    if answers["iac_provider"] == "CDK":
        constructs = f"{d}/common/constructs/src/common_constructs"
        present |= {
            f"{d}/common/constructs/pyproject.toml",
            f"{constructs}/core/api/integrations.py",
            # The core serves every API of the repository, whatever this one's answers.
            f"{constructs}/core/api/rest_api.py",
            f"{constructs}/core/api/http_api.py",
            f"{constructs}/core/api/authorizer.py",
            f"{constructs}/app/apis/{module}_operations.py",
            f"{constructs}/app/apis/README.md",
            f"{d}/infra/cdk.json",
            f"{d}/infra/pyproject.toml",
            ".checkov.yaml",
        }
        absent |= {"common/terraform", ".tf", "rest-api", "http-api"}
    else:
        modules = f"{d}/common/terraform/src"
        present |= {
            f"{modules}/app/apis/{api}/{api}.tf",
            f"{modules}/app/apis/{api}/variables.tf",
            f"{modules}/app/apis/{api}/outputs.tf",
            f"{modules}/core/api/rest-api/rest-api.tf",
            f"{modules}/core/api/http-api/http-api.tf",
            f"{modules}/core/api/lambda-authorizer/lambda-authorizer.tf",
            f"{modules}/core/api/fastapi/fastapi.tf",
            ".checkov.yaml",
        }
        absent |= {
            "common/constructs",
            "cdk.json",
            f"{d}/infra/pyproject.toml",
            "common_constructs",
        }
        # The API's module holds its answers only: its resources are the core modules'.
        absent |= {f"apis/{api}/{name}" for name in ("api.tf", "cognito.tf", "authorizer.tf")}
    return present, absent


@pytest.mark.parametrize("answers", COMBINATIONS, ids=combination_id)
def test_each_combination_renders_only_its_own_files(
    projects: ProjectCache, answers: dict[str, str]
) -> None:
    project = projects.rendered(**answers)
    files = _files(project)
    present, absent = _expected(answers)
    assert present <= files, f"missing: {sorted(present - files)}"
    unexpected = sorted(f for f in files for pattern in absent if pattern in f)
    assert not unexpected, f"files of another combination: {unexpected}"


@pytest.mark.parametrize("answers", COMBINATIONS, ids=combination_id)
def test_rendered_trees_have_no_leftovers(projects: ProjectCache, answers: dict[str, str]) -> None:
    project = projects.rendered(**answers)
    empty_dirs = [
        p.relative_to(project).as_posix()
        for p in _generated(project)
        if p.is_dir() and not any(p.iterdir())
    ]
    assert not empty_dirs, f"empty folders: {empty_dirs}"
    for path in _generated(project):
        rel = path.relative_to(project).as_posix()
        assert "{" not in rel, rel
        assert not rel.endswith(".jinja"), rel
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        assert "{%" not in text, f"Jinja left in {rel}"
        assert "{#" not in text, f"Jinja left in {rel}"
        assert not UNRENDERED.search(text), f"Jinja left in {rel}"
        assert text.strip() or path.name in {"__init__.py", "py.typed"}, f"empty file {rel}"
        assert "\n\n\n\n" not in text, f"blank-line runs from dead Jinja branches in {rel}"


def test_run_sh_is_executable(projects: ProjectCache) -> None:
    run_sh = projects.rendered() / "packages" / "order-service" / "run.sh"
    assert os.access(run_sh, os.X_OK)


def test_another_directory_and_names_are_honoured(tmp_path: Path) -> None:
    dst = render(
        tmp_path / "project",
        {"name": "Billing API", "directory": "services/apis", "module_name": "billing"},
    )
    assert (dst / "services" / "apis" / "billing-api" / "billing" / "main.py").is_file()
    assert '"services/apis/*"' in (dst / "pyproject.toml").read_text()


def test_copier_version_floor_is_met() -> None:
    from packaging.version import Version

    config = yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text())
    assert Version(copier.__version__) >= Version(config["_min_copier_version"])


def test_a_clashing_api_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    dst = render(tmp_path / "repo", {"name": "orders"})
    before = sorted(p.relative_to(dst).as_posix() for p in dst.rglob("*") if ".git" not in p.parts)
    with pytest.raises(ValueError, match="already uses the api name 'orders'"):
        render(dst, {"name": "orders"}, answers_file=".copier-answers.orders2.yml")
    with pytest.raises(ValueError, match="already uses the module name 'orders'"):
        render(
            dst,
            {"name": "orders-v2", "module_name": "orders"},
            answers_file=".copier-answers.orders-v2.yml",
        )
    after = sorted(p.relative_to(dst).as_posix() for p in dst.rglob("*") if ".git" not in p.parts)
    assert after == before, "a refused API left files behind"
