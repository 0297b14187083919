"""The AWS facts table of a generated repository (`<directory>/common/aws-facts.json`), and what
CDK synthesizes, Terraform plans and the runtime answers, checked against it.

Each fact carries its value, the documentation it comes from and the date it was checked; the
infrastructure reads the table instead of repeating its values, so a fact changed there reaches
the layer ARNs, the adapter's environment and the runtime's paths, or these tests fail.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ProjectCache, run, tool_env
from test_terraform import DIRECTORY, core_module
from test_terraform_plan import built_copy, openapi_document, terraform_test
from test_terraform_plan import provider_mirror as provider_mirror

__all__ = ["openapi_document", "provider_mirror"]

FACTS = Path(DIRECTORY) / "common" / "aws-facts.json"
INFRA = Path(DIRECTORY) / "infra"


def facts(project: Path) -> dict[str, Any]:
    """The project's facts, by name (without the table's own description)."""
    table: dict[str, Any] = json.loads((project / FACTS).read_text())
    return {name: fact for name, fact in table.items() if not name.startswith("_")}


def test_every_fact_has_its_sources_and_the_date_it_was_checked(projects: ProjectCache) -> None:
    project = projects.rendered()
    table = facts(project)
    assert {"lambda_web_adapter", "lambda_web_adapter_settings", "adapter_environment"} <= set(
        table
    )
    for name, fact in table.items():
        assert "value" in fact, name
        assert fact["sources"], name
        assert all(source.startswith("https://") for source in fact["sources"]), name
        checked = datetime.date.fromisoformat(fact["checked"])
        assert checked <= datetime.date.today(), name
        assert fact.get("note"), name
    adapter = table["lambda_web_adapter"]["value"]
    assert (adapter["release"], adapter["layer_version"]) == ("1.1.0", 30)
    # The same file for both infrastructure choices, owned by the repository.
    terraform = projects.rendered(iac_provider="Terraform")
    assert (terraform / FACTS).read_bytes() == (project / FACTS).read_bytes()
    answers = (project / ".copier-answers.yml").read_text()
    assert "aws-facts" not in answers


def test_the_adapter_environment_uses_the_adapter_s_own_names(projects: ProjectCache) -> None:
    table = facts(projects.rendered())
    names = table["lambda_web_adapter_settings"]["value"]
    environment = table["adapter_environment"]["value"]
    known = {value for key, value in names.items() if key != "deprecated"}
    assert set(environment) <= known
    assert not set(environment) & set(names["deprecated"])
    assert "PORT" not in environment


@pytest.mark.slow
def test_the_runtime_answers_the_paths_and_sends_the_format_of_the_table(
    projects: ProjectCache,
) -> None:
    project = projects.synced()
    table = facts(project)
    code = (
        "import json\n"
        "from common_runtime import health, otel_sdk\n"
        "print(json.dumps({'health': health.DEFAULT_HEALTH_PATH,\n"
        "    'header': otel_sdk.PROTOCOL_HEADER.decode(),\n"
        "    'prefix': otel_sdk.SAMPLED_PREFIX.decode(),\n"
        "    'address': '%s:%d' % otel_sdk.DEFAULT_ADDRESS}))\n"
    )
    out = run(["uv", "run", "--no-sync", "python", "-c", code], project).stdout
    runtime = json.loads(out.splitlines()[-1])
    environment = table["adapter_environment"]["value"]
    assert runtime["health"] == environment["AWS_LWA_READINESS_CHECK_PATH"]
    udp = table["xray_otlp_udp"]["value"]
    assert (runtime["header"], runtime["prefix"]) == (udp["header"], udp["sampled_prefix"])
    assert runtime["address"] == udp["default_address"]


#: Synthesizes the default project's stack in each Region given (and environment-agnostic), and
#: asks the layer of each architecture: prints what the tests compare with the table.
SYNTH = """
import json, sys
from aws_cdk import App, Environment, Stack, Validations
from aws_cdk import aws_lambda as lambda_
from cdk_nag import AwsSolutionsChecks
from common_constructs.core.facts import lambda_web_adapter_layer_arn
from infra.stack import ApisStack

result = {"stacks": {}, "layers": {}}
for region in ["", "us-east-1"]:
    app = App(outdir=sys.argv[1] + "/" + (region or "agnostic"))
    stack = ApisStack(
        app, "Apis", env=Environment(region=region or None), transaction_search=bool(region)
    )
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    template = app.synth().get_stack_by_name("Apis").template
    result["stacks"][region or "agnostic"] = template
for region in ["us-east-1", "cn-north-1", "cn-northwest-1", "us-gov-west-1"]:
    for arch in [lambda_.Architecture.X86_64, lambda_.Architecture.ARM_64]:
        stack = Stack(App(), "Probe", env=Environment(region=region))
        try:
            arn = stack.resolve(lambda_web_adapter_layer_arn(stack, arch))
        except ValueError as error:
            arn = "refused: " + str(error)
        result["layers"][region + "/" + arch.name] = arn
print(json.dumps(result))
"""


@pytest.fixture(scope="module")
def synthesized(
    projects: ProjectCache, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The default CDK project's facts and what its constructs synthesize."""
    project = projects.synced()
    infra = project / INFRA
    run(["uv", "run", "--no-sync", "toolchain", "build"], infra)
    outdir = tmp_path_factory.mktemp("facts-cdk")
    result = run(["uv", "run", "--no-sync", "python", "-c", SYNTH, str(outdir)], infra)
    return facts(project), json.loads(result.stdout.splitlines()[-1])


def _functions(template: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function"
    ]


@pytest.mark.slow
def test_cdk_functions_carry_the_table_s_layer_and_environment(
    synthesized: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    table, result = synthesized
    adapter = table["lambda_web_adapter"]["value"]
    name, version = adapter["layer_names"]["arm64"], adapter["layer_version"]
    functions = _functions(result["stacks"]["us-east-1"])
    assert functions
    runtime = table["lambda_python_runtimes"]["value"]["3.13"]
    for function in functions:
        # A concrete Region: the layer's ARN in full, and nothing else (no collector).
        assert function["Layers"] == [
            f"arn:aws:lambda:us-east-1:{adapter['layer_accounts']['aws']}:layer:{name}:{version}"
        ]
        variables = function["Environment"]["Variables"]
        for key, value in table["adapter_environment"]["value"].items():
            assert variables[key] == value
        mode = table["lambda_web_adapter_settings"]["value"]["invoke_mode"]
        assert variables[mode] == table["adapter_environment"]["invoke_mode"]["rest"]
        # The runtime is the CDK's own constant (aws_lambda.Runtime), as the table names it.
        assert function["Runtime"] == runtime
        assert function["SnapStart"] == {"ApplyOn": "PublishedVersions"}


@pytest.mark.slow
def test_cdk_layers_follow_the_partition_and_region(
    synthesized: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    table, result = synthesized
    adapter = table["lambda_web_adapter"]["value"]
    layers = result["layers"]
    version = adapter["layer_version"]
    for arch, name in [("x86_64", "LambdaAdapterLayerX86"), ("arm64", "LambdaAdapterLayerArm64")]:
        assert adapter["layer_names"][arch] == name
        assert layers[f"us-east-1/{arch}"] == (
            f"arn:aws:lambda:us-east-1:753240598075:layer:{name}:{version}"
        )
    for region in ("cn-north-1", "cn-northwest-1"):
        account = adapter["layer_accounts"][region]
        assert layers[f"{region}/x86_64"] == (
            f"arn:aws-cn:lambda:{region}:{account}:layer:LambdaAdapterLayerX86:{version}"
        )
        # No arm64 layer is published there: refused at synth, naming the way out.
        assert layers[f"{region}/arm64"].startswith(
            "refused: Lambda Web Adapter publishes no arm64"
        )
    # No layer is documented for GovCloud: refused rather than guessed.
    assert layers["us-gov-west-1/x86_64"].startswith("refused:")


@pytest.mark.slow
def test_transaction_search_is_opt_in_in_cdk(
    synthesized: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    table, result = synthesized
    search = table["transaction_search"]["value"]

    def kinds(template: dict[str, Any]) -> list[str]:
        return [r["Type"] for r in template["Resources"].values()]

    assert search["cloudformation_type"] not in kinds(result["stacks"]["agnostic"])
    assert "AWS::Logs::ResourcePolicy" not in kinds(result["stacks"]["agnostic"])
    on = result["stacks"]["us-east-1"]  # with cdk-nag's checks passed
    assert kinds(on).count(search["cloudformation_type"]) == 1
    (policy,) = [
        r["Properties"]
        for r in on["Resources"].values()
        if r["Type"] == "AWS::Logs::ResourcePolicy"
    ]
    document = json.dumps(policy["PolicyDocument"])
    assert search["spans_log_group"] in document
    assert search["log_writer"] in document


@pytest.mark.slow
def test_the_cdk_context_turns_transaction_search_on(
    projects: ProjectCache, tmp_path: Path
) -> None:
    infra = projects.synced() / INFRA
    assert json.loads((infra / "cdk.json").read_text())["context"]["transactionSearch"] is False
    run(["uv", "run", "--no-sync", "toolchain", "build"], infra)
    env = {
        **tool_env(),
        "CDK_OUTDIR": str(tmp_path),
        "CDK_CONTEXT_JSON": json.dumps({"transactionSearch": "true"}),
    }
    run(["uv", "run", "--no-sync", "python", "-m", "infra.app"], infra, env=env)
    template = json.loads((tmp_path / "Apis.template.json").read_text())
    kinds = [r["Type"] for r in template["Resources"].values()]
    assert "AWS::XRay::TransactionSearchConfig" in kinds


def _terraform_suite(table: dict[str, Any], architecture: str) -> str:
    """A `terraform test` suite asserting the planned functions against the table."""
    adapter = table["lambda_web_adapter"]["value"]
    name, version = adapter["layer_names"][architecture], adapter["layer_version"]
    commercial = f"arn:aws:lambda:eu-west-1:{adapter['layer_accounts']['aws']}:layer:{name}"
    environment = table["adapter_environment"]["value"]
    checks = " &&\n      ".join(
        f"function.environment[0].variables[{json.dumps(key)}] == {json.dumps(value)}"
        for key, value in environment.items()
    )
    china = "cn-north-1"
    runs = [
        f"""
run "commercial_partition" {{
  command = plan

  assert {{
    condition = alltrue([
      for function in aws_lambda_function.api_lambda :
      function.layers == tolist(["{commercial}:{version}"]) &&
      {checks}
    ])
    error_message = "The planned functions differ from aws-facts.json."
  }}
}}
"""
    ]
    override = f"""
  override_data {{
    target = data.aws_partition.current
    values = {{ partition = "aws-cn", dns_suffix = "amazonaws.com.cn" }}
  }}

  override_data {{
    target = data.aws_region.current
    values = {{ id = "{china}", name = "{china}" }}
  }}
"""
    if architecture in adapter["partitions"]["aws-cn"]:
        arn = f"arn:aws-cn:lambda:{china}:{adapter['layer_accounts'][china]}:layer:{name}:{version}"
        runs.append(
            f"""
run "china_partition" {{
  command = plan
{override}
  assert {{
    condition = alltrue([
      for function in aws_lambda_function.api_lambda : function.layers == tolist(["{arn}"])
    ])
    error_message = "The China Region's own publisher (aws-facts.json)."
  }}
}}
"""
        )
    else:
        runs.append(
            f"""
run "china_partition_refuses_the_architecture" {{
  command = plan
{override}
  expect_failures = [aws_lambda_function.api_lambda]
}}
"""
        )
    return f"""
mock_provider "aws" {{
  source          = "../../../../tests/mocks"
  override_during = plan
}}

variables {{
  service_name        = "items"
  name                = "items"
  gateway             = "REST"
  auth                = "IAM"
  integration_pattern = "isolated"
  architecture        = "{architecture}"
  runtime             = "python3.13"
  bundle_path         = "tests/lambda.zip"
  openapi_path        = "tests/openapi.json"
}}
{"".join(runs)}"""


@pytest.mark.slow
@pytest.mark.parametrize("architecture", ["arm64", "x86_64"])
def test_terraform_plans_the_table_s_layer_and_environment(
    projects: ProjectCache,
    architecture: str,
    provider_mirror: Path,
    openapi_document: Path,
    tmp_path: Path,
) -> None:
    project = projects.rendered(iac_provider="Terraform", lambda_architecture=architecture)
    table = facts(project)
    tree = built_copy(project, tmp_path, provider_mirror, f"facts-{architecture}", openapi_document)
    # The FastAPI core module builds every API's functions (the API's module passes it the
    # architecture answer: test_terraform checks that wiring).
    module = core_module(tree, name="fastapi")
    (module / "tests" / "facts.tftest.hcl").write_text(_terraform_suite(table, architecture))
    runs = terraform_test(module, tmp_path, "facts")
    assert runs[0] == "commercial_partition"
    assert len(runs) == 2


@pytest.mark.slow
def test_transaction_search_is_opt_in_in_terraform(
    projects: ProjectCache, provider_mirror: Path, openapi_document: Path, tmp_path: Path
) -> None:
    project = projects.rendered(iac_provider="Terraform")
    tree = built_copy(project, tmp_path, provider_mirror, "facts-account", openapi_document)
    runs = terraform_test(tree / INFRA, tmp_path, "account")
    assert {"transaction_search_is_left_alone_by_default", "transaction_search_on_request"} <= set(
        runs
    )


def test_no_python_version_is_offered_without_an_interpreter_to_compile_it() -> None:
    # Bytecode is compiled by an interpreter of the function's version: each version offered
    # must have one on the machines that build bundles (here, as in CI).
    copier_yml = yaml.safe_load((Path(__file__).resolve().parents[1] / "copier.yml").read_text())
    choices = copier_yml["python_version"]["choices"]
    assert choices
    env = tool_env()
    for version in choices:
        found = subprocess.run(
            ["uv", "python", "find", "--no-project", version],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            cwd=os.path.expanduser("~"),
        )
        assert found.returncode == 0, f"python_version {version}: {found.stderr}"
