"""Generated CDK files are lint and format clean whatever the API and its operations are called.

ruff's import sorting and line wrapping depend on names, so each name renders a project whose
CDK files (the API's construct and its registration in the app, and the operations module the
build step writes, for several sets of operations) are checked with the project's own ruff
settings.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml
from conftest import TEMPLATE_ROOT, ProjectCache, run

RUFF = Path(sys.executable).parent / "ruff"
CONSTRUCTS_SRC = Path("packages/common/constructs/src")
NAMES = ["order-service", "my-api", "billing", "ledger-api", "Payments API v2", "abc-v2api"]
OPERATION_SETS: dict[str, dict[str, dict[str, str]]] = {
    "one": {"echo": {"path": "/echo", "method": "GET"}},
    "camel case": {
        "getItem": {"path": "/items/{item_id}", "method": "GET"},
        "list_items": {"path": "/items", "method": "GET"},
    },
    "long names": {
        "a" * 70: {"path": "/" + "very-long-segment/" * 8 + "{item_id}", "method": "DELETE"},
        "get_the_quarterly_ledger_balances_of_every_account_of_the_organisation_by_region": {
            "path": "/ledger/{region}/balances",
            "method": "GET",
        },
        "b": {"path": "/b", "method": "PATCH"},
    },
}
#: The operations of the sample routes every project starts with.
SAMPLE_OPERATIONS = {
    "create_item": {"path": "/items", "method": "POST"},
    "echo": {"path": "/echo", "method": "GET"},
    "get_item": {"path": "/items/{item_id}", "method": "GET"},
    "stream": {"path": "/stream", "method": "POST"},
}
GENERATE = """
import json, sys
from common_constructs.core.api.operations import Operation
from common_constructs.core.api.operations_module import ConstructSettings, operations_module
operations = {name: Operation(**o) for name, o in json.loads(sys.argv[3]).items()}
settings = ConstructSettings(**json.loads(sys.argv[4]))
sys.stdout.write(operations_module(sys.argv[1], sys.argv[2], operations, settings))
"""


def ruff_clean(project: Path, files: list[Path]) -> None:
    """ruff check and ruff format --check pass on ``files`` with the project's settings."""
    paths = [str(f) for f in files]
    run([str(RUFF), "check", "--no-cache", *paths], project)
    run([str(RUFF), "format", "--check", "--no-cache", *paths], project)


def api_files(project: Path) -> list[Path]:
    """The CDK files rendered for the API (its construct, operations and app module)."""
    constructs = project / CONSTRUCTS_SRC / "common_constructs" / "app" / "apis"
    infra = project / "packages" / "infra" / "src" / "infra" / "apis"
    return sorted(
        path
        for path in [*constructs.glob("*.py"), *infra.glob("*.py")]
        if path.name != "__init__.py"
    )


def operations_source(project: Path, operations: dict[str, dict[str, str]]) -> str:
    """What the project's build step writes for ``operations`` of its API, with its answers."""
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    settings = {
        "gateway": "REST" if answers["compute_type"] == "ServerlessApiGatewayRestApi" else "HTTP",
        "auth": answers["auth"],
        "integration_pattern": answers["integration_pattern"],
    }
    result = run(
        [sys.executable, "-c", GENERATE, answers["api_name"], answers["module_name"],
         json.dumps(operations), json.dumps(settings)],
        TEMPLATE_ROOT,
        env={"PYTHONPATH": str(project / CONSTRUCTS_SRC)},
    )  # fmt: skip
    return result.stdout


#: The default answers, and their opposites for what the rendered files depend on.
ANSWER_SETS = [
    {"compute_type": "ServerlessApiGatewayRestApi", "auth": "IAM", "iac_provider": "CDK"},
    {"compute_type": "ServerlessApiGatewayHttpApi", "auth": "Cognito", "iac_provider": "CDK"},
    {
        "compute_type": "ServerlessApiGatewayRestApi",
        "auth": "Custom",
        "integration_pattern": "shared",
        "iac_provider": "CDK",
    },
]
ANSWER_IDS = ["rest-iam", "http-cognito", "rest-custom-shared"]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("answers", ANSWER_SETS, ids=ANSWER_IDS)
def test_rendered_cdk_files_are_lint_and_format_clean(
    name: str, answers: dict[str, str], projects: ProjectCache
) -> None:
    project = projects.rendered(name=name, **answers)
    files = api_files(project)
    assert len(files) == 2, files
    ruff_clean(project, files)


@pytest.mark.parametrize("name", NAMES)
def test_written_operations_modules_are_lint_and_format_clean(
    name: str, projects: ProjectCache
) -> None:
    project = projects.rendered(name=name, **ANSWER_SETS[0])
    # Inside the project, so that its ruff settings apply.
    folder = project / CONSTRUCTS_SRC / "probe_operations"
    folder.mkdir(exist_ok=True)
    written = []
    for label, operations in OPERATION_SETS.items():
        target = folder / f"{label.replace(' ', '_')}.py"
        target.write_text(operations_source(project, operations))
        written.append(target)
    try:
        ruff_clean(project, written)
    finally:
        for target in written:
            target.unlink()
        folder.rmdir()


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("answers", ANSWER_SETS, ids=ANSWER_IDS)
def test_the_rendered_operations_module_is_what_the_build_step_writes(
    name: str, answers: dict[str, str], projects: ProjectCache
) -> None:
    # The construct's settings as the build reads them, and no rewrite on the first build.
    project = projects.rendered(name=name, **answers)
    (rendered,) = (project / CONSTRUCTS_SRC).glob("common_constructs/app/apis/*_operations.py")
    assert rendered.read_text() == operations_source(project, SAMPLE_OPERATIONS)
