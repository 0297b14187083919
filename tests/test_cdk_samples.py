"""Every code sample of an API construct's documentation synthesizes with cdk-nag and type checks.

The samples are read from the rendered project (the README beside the APIs' constructs, written
for an API named ``items``), the names of the project's API put in their place, so the
documentation cannot drift from what works. Per combination, one CDK app holds every sample (a
stack each, in the region and account a user's CDK CLI gives it) and is synthesized once with
cdk-nag's AWS Solutions rules; one `mypy --strict` run checks them all with the project's own
settings, as they are and placed in the API's registration module (its `add(stack)`, with the
return annotation the template renders).
"""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest
from conftest import ProjectCache, combination_id, run, tool_env

CONSTRUCTS = Path("packages/common/constructs/src/common_constructs")
INFRA = Path("packages") / "infra"

#: REST and HTTP, isolated and shared, with IAM (the default); the authorizer sample also
#: on APIs whose default authorization is None.
SAMPLE_COMBINATIONS = [
    {"compute_type": c, "integration_pattern": p, "auth": a, "iac_provider": "CDK"}
    for c, p, a in [
        ("ServerlessApiGatewayRestApi", "isolated", "IAM"),
        ("ServerlessApiGatewayRestApi", "shared", "IAM"),
        ("ServerlessApiGatewayHttpApi", "isolated", "IAM"),
        ("ServerlessApiGatewayHttpApi", "shared", "IAM"),
        ("ServerlessApiGatewayRestApi", "isolated", "None"),
        ("ServerlessApiGatewayHttpApi", "shared", "None"),
    ]
]
FENCE = re.compile(r"```python( [a-z ]+)?\n(.*?)```", re.DOTALL)


def documented_samples(project: Path, answers: dict[str, str]) -> list[str]:
    """The Python code blocks of the constructs' README for this API's gateway, pattern and
    auth (a block marked ``shared`` or ``iam`` only for those), with the project's names."""
    readme = (project / CONSTRUCTS / "app" / "apis" / "README.md").read_text()
    rest, _, http = readme.partition("\n## HTTP APIs\n")
    section = rest if answers["compute_type"] == "ServerlessApiGatewayRestApi" else http
    applies = {
        "shared": answers["integration_pattern"] == "shared",
        "iam": answers["auth"] == "IAM",
    }
    return [
        code.replace("items_operations", "order_service_operations").replace(
            "ItemsApi", "OrderServiceApi"
        )
        for tags, code in FENCE.findall(section)
        if all(applies[tag] for tag in tags.split())
    ]


def samples_app(samples: list[str]) -> str:
    """A CDK app with one stack per sample (``stack`` in the samples), cdk-nag on."""
    functions = "".join(
        f"\n\ndef sample_{index}(stack: Stack) -> None:\n{textwrap.indent(code, '    ')}"
        for index, code in enumerate(samples)
    )
    calls = "".join(
        f'    sample_{index}(Stack(app, "Sample{index}", env=USER))\n'
        for index in range(len(samples))
    )
    return (
        "import sys\n\n"
        "from aws_cdk import App, Environment, Stack, Validations\n"
        "from cdk_nag import AwsSolutionsChecks\n"
        '\nUSER = Environment(account="123456789012", region="eu-west-1")\n'
        f"{functions}\n\n"
        "def main() -> None:\n"
        "    app = App(outdir=sys.argv[1])\n"
        f"{calls}"
        "    Validations.of(app).add_plugins(AwsSolutionsChecks(app))\n"
        "    app.synth()\n\n\n"
        'if __name__ == "__main__":\n'
        "    main()\n"
    )


def in_registration(project: Path, samples: list[str]) -> str:
    """The API's registration module with one ``add`` per sample, returning the sample's API.

    The module's imports and ``add`` signature are the rendered ones; each sample is the body
    of an ``add``, its API assigned to ``api`` and returned.
    """
    module = (project / INFRA / "src" / "infra" / "apis" / "order_service.py").read_text()
    header, _, rest = module.partition("\ndef add(")
    signature = "def add(" + rest.split("\n", 1)[0]
    assert signature.startswith("def add(stack: Stack) -> OrderServiceApi"), signature
    functions = []
    for index, code in enumerate(samples):
        body = re.sub(r"^OrderServiceApi\(", "api = OrderServiceApi(", code, flags=re.MULTILINE)
        assert "api = OrderServiceApi(" in body, code
        name = signature.replace("def add(", f"def add_{index}(", 1)
        functions.append(f"\n\n{name}\n{textwrap.indent(body, '    ')}    return api\n")
    return header + "".join(functions)


@pytest.mark.slow
@pytest.mark.parametrize("answers", SAMPLE_COMBINATIONS, ids=combination_id)
def test_documented_samples_synthesize_with_cdk_nag_and_pass_mypy_strict(
    answers: dict[str, str],
    projects: ProjectCache,
    tmp_path: Path,
    mypy_cache: Path,
) -> None:
    project = projects.synced(**answers)
    samples = documented_samples(project, answers)
    shared = answers["integration_pattern"] == "shared"
    expected = {"IAM": 7, "None": 6}[answers["auth"]] + (1 if shared else 0)
    assert len(samples) == expected, samples
    app = tmp_path / "samples_app.py"
    app.write_text(samples_app(samples))
    run(["uv", "run", "--no-sync", "toolchain", "build"], project / INFRA)
    outdir = tmp_path / "cdk.out"
    run(["uv", "run", "--no-sync", "python", str(app), str(outdir)], project)
    report = json.loads((outdir / "validation-report.json").read_text())
    (nag,) = [r for r in report["pluginReports"] if r["pluginName"] == "AwsSolutions"]
    assert nag["conclusion"] == "success"
    assert nag["violations"] == []
    stacks = sorted(p.name for p in outdir.glob("Sample*.template.json"))
    assert len(stacks) == len(samples)
    registration = tmp_path / "registration.py"
    registration.write_text(in_registration(project, samples))
    env = {**tool_env(), "MYPY_CACHE_DIR": str(mypy_cache)}
    # A first run analyses the whole AWS CDK: far longer than a command's usual time.
    run(
        ["uv", "run", "--no-sync", "mypy", "--strict", str(app), str(registration)],
        project,
        env=env,
        timeout=1800,
    )


@pytest.fixture(scope="session")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One mypy cache for every project of this worker: the AWS CDK is analysed once."""
    return tmp_path_factory.mktemp("mypy-cache")
