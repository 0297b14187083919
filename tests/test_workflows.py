"""GitHub workflows: the template repository's own and those of generated projects.

Every workflow is validated against GitHub's workflow schema (check-jsonschema's vendored copy,
offline). The template repository's workflows decide where they run from the repository GitHub
describes in the event (a template, a fork, or neither); those conditions are evaluated here
for each kind of repository, so a change that would let the bootstrap run in the template (and
replace it with a generated project) fails a test.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import TEMPLATE_ROOT, ProjectCache, tool_env

WORKFLOWS = TEMPLATE_ROOT / ".github" / "workflows"
TOKEN = re.compile(
    r"\s*(?:(?P<string>'[^']*')|(?P<operator>==|!=|&&|\|\||!|\(|\))|(?P<name>[A-Za-z_][\w.-]*))"
)
PYTHON_OPERATORS = {"&&": " and ", "||": " or ", "!": " not "}
LITERALS: dict[str, Any] = {"true": True, "false": False, "null": None}


def check_workflows(paths: list[Path]) -> subprocess.CompletedProcess[str]:
    """Validate ``paths`` against GitHub's workflow schema, offline."""
    return subprocess.run(
        ["check-jsonschema", "--builtin-schema", "vendor.github-workflows", *map(str, paths)],
        env=tool_env(), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def load(name: str) -> dict[Any, Any]:
    """A workflow of the template repository, parsed (YAML 1.1: the key ``on`` is ``True``)."""
    data: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    return data


def evaluate(expression: str, context: Mapping[str, Any]) -> bool:
    """Evaluate a GitHub Actions ``if:`` made of names, strings, ``!``, ``&&``, ``||``, ``==``,
    ``!=`` and parentheses; a name missing from ``context`` is null, as on GitHub."""
    text = expression.strip()
    if text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2]
    python, position = [], 0
    while text[position:].strip():
        match = TOKEN.match(text, position)
        if match is None:
            raise ValueError(f"cannot evaluate {expression!r} at {text[position:]!r}")
        position = match.end()
        if match["string"]:
            python.append(repr(match["string"][1:-1]))
        elif match["operator"]:
            python.append(PYTHON_OPERATORS.get(match["operator"], match["operator"]))
        else:
            name = match["name"]
            python.append(repr(LITERALS[name] if name in LITERALS else context.get(name)))
    return bool(eval("".join(python), {"__builtins__": {}}))


def running_jobs(workflow: Mapping[str, Any], context: Mapping[str, Any]) -> set[str]:
    """The jobs of ``workflow`` that run: their ``if`` holds and every job they need ran."""
    ran: set[str] = set()
    for name, job in workflow["jobs"].items():
        needs = job.get("needs", [])
        needed = [needs] if isinstance(needs, str) else needs
        if all(n in ran for n in needed) and evaluate(str(job.get("if", "true")), context):
            ran.add(name)
    return ran


@pytest.fixture(scope="module")
def generated_workflows(projects: ProjectCache) -> list[Path]:
    """The workflows of a generated CDK project and a generated Terraform project."""
    found = [
        path
        for iac in ("CDK", "Terraform")
        for path in sorted(
            (projects.rendered(iac_provider=iac) / ".github" / "workflows").iterdir()
        )
    ]
    assert len(found) == 2, found
    return found


def test_every_workflow_matches_githubs_schema(generated_workflows: list[Path]) -> None:
    own = sorted(WORKFLOWS.glob("*.yml"))
    assert {p.name for p in own} == {"bootstrap.yml", "ci.yml", "release.yml"}

    result = check_workflows([*own, *generated_workflows])

    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_check_refuses_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "ci.yml"
    text = (WORKFLOWS / "ci.yml").read_text(encoding="utf-8")
    broken.write_text(text.replace("runs-on:", "run-on:", 1), encoding="utf-8")

    result = check_workflows([broken])

    assert result.returncode == 1
    assert "runs-on" in result.stdout + result.stderr


def test_template_repository_files_are_not_rendered(projects: ProjectCache) -> None:
    project = projects.rendered()
    workflows = project / ".github" / "workflows"
    assert {p.name for p in workflows.iterdir()} == {"ci.yml"}
    assert (workflows / "ci.yml").read_bytes() != (WORKFLOWS / "ci.yml").read_bytes()
    assert not (project / "scripts").exists()
    assert not (project / "copier.yml").exists()


# On a push to the default branch: the repository GitHub describes in the event, and what the
# bootstrap's first job learns from GitHub's API (the template a repository was created from).
TEMPLATE = {"github.event.repository.is_template": True, "github.event.repository.fork": False}
FORK = {"github.event.repository.is_template": False, "github.event.repository.fork": True}
CREATED = {
    "github.event.repository.is_template": False,
    "github.event.repository.fork": False,
    "needs.origin.outputs.template-url": "https://github.com/acme/copier-fastapi-lambda.git",
}
MIRROR = {**CREATED, "needs.origin.outputs.template-url": ""}
PUSH = {
    "github.event_name": "push",
    "github.ref_name": "main",
    "github.event.repository.default_branch": "main",
}


@pytest.mark.parametrize(
    ("repository", "expected"),
    [
        pytest.param(
            TEMPLATE, {"ci": {"workflows", "tests"}, "release": {"release"}}, id="template"
        ),
        pytest.param(FORK, {"ci": {"workflows", "tests"}}, id="fork"),
        pytest.param(CREATED, {"bootstrap": {"origin", "render"}}, id="created-from-template"),
        pytest.param({**CREATED, "github.ref_name": "feature"}, {}, id="created-other-branch"),
        pytest.param(MIRROR, {"bootstrap": {"origin"}}, id="mirror"),
    ],
)
def test_workflows_run_only_in_their_kind_of_repository(
    repository: dict[str, Any], expected: dict[str, set[str]]
) -> None:
    context = {**PUSH, **repository}
    for name in ("bootstrap", "ci", "release"):
        assert running_jobs(load(f"{name}.yml"), context) == expected.get(name, set()), name


def test_bootstrap_inputs_are_the_templates_questions_with_its_defaults(
    projects: ProjectCache,
) -> None:
    questions = yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text(encoding="utf-8"))
    inputs: dict[str, Any] = load("bootstrap.yml")[True]["workflow_dispatch"]["inputs"]
    recorded = yaml.safe_load((projects.rendered() / ".copier-answers.yml").read_text())
    answers = {k: v for k, v in inputs.items() if k not in ("name", "template_ref")}

    # Every question a user chooses, except the names derived from `name`.
    asked = {k for k in questions if not k.startswith("_")} - {"name", "api_name", "module_name"}
    assert set(answers) == asked
    for key, spec in answers.items():
        assert spec["default"] == recorded[key], key
        choices = questions[key].get("choices")
        if choices is not None:
            values = list(choices.values()) if isinstance(choices, dict) else choices
            assert spec["options"] == values, key
    assert (inputs["name"]["default"], inputs["template_ref"]["default"]) == ("", "")


def test_workflow_tool_versions_are_the_locked_ones() -> None:
    pyproject = (TEMPLATE_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    pins = dict(re.findall(r'"([\w-]+)==([^"]+)"', pyproject))
    uv_versions = []
    for path in WORKFLOWS.glob("*.yml"):
        text = path.read_text(encoding="utf-8")
        for package, version in re.findall(r"\b([\w-]+)==([\w.]+)", text):
            assert pins.get(package) == version, f"{path.name}: {package}=={version}"
        uv_versions += re.findall(r'setup-uv@\S+\s+with:\s+version: "([^"]+)"', text)
    assert uv_versions
    assert set(uv_versions) == {pins["uv"]}


def test_bootstrap_workflow_gives_the_script_what_it_reads() -> None:
    steps = load("bootstrap.yml")["jobs"]["render"]["steps"]
    (render,) = [s for s in steps if "scripts/bootstrap.py" in s.get("run", "")]
    assert render["env"]["TEMPLATE_URL"] == "${{ needs.origin.outputs.template-url }}"
    assert render["env"]["INPUTS"] == "${{ toJSON(inputs) }}"
    script = (TEMPLATE_ROOT / "scripts" / "bootstrap.py").read_text(encoding="utf-8")
    for name in ("TEMPLATE_URL", "INPUTS", "GITHUB_REPOSITORY"):
        assert f'env.get("{name}"' in script, name
