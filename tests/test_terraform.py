"""The generated Terraform: formatted, structurally right, scanned clean.

Every Terraform combination (REST/HTTP x IAM/Cognito/Custom/None x isolated/shared) is rendered
once per session. The generated ``terraform test`` suites run in ``test_terraform_plan.py``,
against the provider mirror named by ``TF_PROVIDER_MIRROR`` (``.ci/run`` finds and sets it); what
the mirrored provider cannot check is reported as a warning in the test summary, never as
passed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import warnings
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    COMBINATIONS,
    ProjectCache,
    checkov_clean,
    combination_id,
    render,
    run,
    tf_env,
)

DIRECTORY = "packages"
API = "order-service"
MODULE = "order_service"
#: First hashicorp/aws release with `response_transfer_mode` on aws_api_gateway_integration.
STREAMING_PROVIDER = (6, 25, 0)
REQUIRED_CONSTRAINT = ">= 6.25.0"

TERRAFORM = [answers for answers in COMBINATIONS if answers["iac_provider"] == "Terraform"]
#: Names whose length and form change the generated labels and their alignment.
ODD_NAMES = ("my-api", "billing", "Payments API v2")

APP_VARIABLES = {
    "env",
    "additional_iam_policy_statements",
    "tags",
    "cors_allow_origins",
    "cors_allow_methods",
    "cors_allow_headers",
    "memory_size",
    "timeout",
    "log_retention_in_days",
    "vpc_subnet_ids",
    "vpc_security_group_ids",
    "lambda_web_adapter_layer_version",
}
APP_OUTPUTS = {
    "stage_invoke_url",
    "api_execution_arn",
    "api_arn",
    "lambda_function_name",
    "lambda_function_arn",
    "lambda_execution_role_arn",
    "lambda_execution_role_name",
}
SHARED_INFRA_FILES = ("versions.tf", "providers.tf", "variables.tf", "main.tf", "README.md")


class UnvalidatedTerraform(UserWarning):
    """Part of the generated Terraform that the available provider could not validate."""


def is_rest(answers: dict[str, str]) -> bool:
    return answers["compute_type"] == "ServerlessApiGatewayRestApi"


def terraform_trees(project: Path) -> list[Path]:
    """Every file of the project that Terraform users own: modules, root config, checkov."""
    roots = [project / DIRECTORY / "common" / "terraform", project / DIRECTORY / "infra"]
    files = [p for root in roots for p in sorted(root.rglob("*")) if p.is_file()]
    return [*files, project / ".checkov.yaml"]


def app_module(project: Path, api: str = API) -> Path:
    return project / DIRECTORY / "common" / "terraform" / "src" / "app" / "apis" / api


def core_module(project: Path, answers: dict[str, str] | None = None, name: str = "") -> Path:
    """The gateway module of ``answers``, or the core module ``name``."""
    if not name:
        assert answers is not None
        name = "rest-api" if is_rest(answers) else "http-api"
    return project / DIRECTORY / "common" / "terraform" / "src" / "core" / "api" / name


#: Parses .tf files with python-hcl2 in an environment of its own: checkov, in the template's
#: development environment, ships a fork that installs the same `hcl2` module.
HCL2 = "python-hcl2==8.1.4"
_PARSER = """
import json, sys
from pathlib import Path

import hcl2

options = hcl2.SerializationOptions(
    with_comments=False, explicit_blocks=False, strip_string_quotes=True
)
root = Path(sys.argv[1])
parsed = {}
for path in sorted(root.rglob("*.tf")):
    if ".terraform" not in path.parts:
        with path.open(encoding="utf-8") as handle:
            parsed[path.relative_to(root).as_posix()] = hcl2.load(
                handle, serialization_options=options
            )
json.dump(parsed, sys.stdout)
"""
_parsed: dict[Path, dict[str, Any]] = {}


def parsed_tree(root: Path) -> dict[str, Any]:
    """Every .tf file below ``root`` parsed by python-hcl2, by relative path (once per root)."""
    if root not in _parsed:
        args = ["uv", "run", "--no-project", "--with", HCL2, "python", "-c", _PARSER, str(root)]
        _parsed[root] = json.loads(run(args, root).stdout)
    return _parsed[root]


def parse(folder: Path) -> dict[str, Any]:
    """Every block of the .tf files of ``folder``, merged: {kind: {name(s): body}}."""
    root = next((p for p in folder.parents if (p / ".copier-answers.yml").is_file()), folder)
    prefix = folder.relative_to(root).as_posix()
    docs = [
        doc
        for rel, doc in sorted(parsed_tree(root).items())
        if rel.rpartition("/")[0] == ("" if prefix == "." else prefix)
    ]
    merged: dict[str, Any] = {
        "variable": {},
        "output": {},
        "resource": {},
        "data": {},
        "module": {},
        "locals": {},
    }
    for doc in docs:
        for kind in ("variable", "output", "module"):
            for block in doc.get(kind, []):
                merged[kind].update(block)
        for kind in ("resource", "data"):
            for block in doc.get(kind, []):
                for type_, named in block.items():
                    for name, body in named.items():
                        merged[kind][(type_, name)] = body
        for block in doc.get("locals", []):
            merged["locals"].update(block)
    return merged


def resources(doc: dict[str, Any], type_: str) -> dict[str, Any]:
    return {name: body for (kind, name), body in doc["resource"].items() if kind == type_}


def only(items: dict[str, Any]) -> Any:
    assert len(items) == 1, sorted(items)
    return next(iter(items.values()))


@pytest.fixture
def project(projects: ProjectCache, request: pytest.FixtureRequest) -> Path:
    return projects.rendered(**request.param)


def with_terraform(answers: list[dict[str, str]]) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("project", answers, ids=combination_id, indirect=True)


# --- rendering -----------------------------------------------------------------------------


def api_files(project: Path, api: str = API) -> set[Path]:
    """The files of ``project`` that belong to one API in the Terraform trees."""
    return {
        p
        for p in terraform_trees(project)
        if app_module(project, api) in p.parents
        or (p.parent == project / DIRECTORY / "infra" and p.name == f"{api}.tf")
        or (p.parent == project / DIRECTORY / "infra" / "tests" and p.name == f"{api}.tftest.hcl")
    }


@pytest.mark.parametrize(
    "answers", [a for a in TERRAFORM if a["integration_pattern"] == "isolated"], ids=combination_id
)
def test_integration_pattern_changes_only_the_api_module(
    projects: ProjectCache, answers: dict[str, str]
) -> None:
    isolated = projects.rendered(**answers)
    shared = projects.rendered(**{**answers, "integration_pattern": "shared"})
    for path in terraform_trees(isolated):
        rel = path.relative_to(isolated)
        if path not in api_files(isolated):
            assert (shared / rel).read_text() == path.read_text(), rel

    def shared_files(project: Path) -> set[Path]:
        return {p.relative_to(project) for p in terraform_trees(project)} - {
            p.relative_to(project) for p in api_files(project)
        }

    assert shared_files(shared) == shared_files(isolated)
    # Both keep the addresses of earlier versions; the router's first versions had more.
    assert "proxy" in (app_module(shared) / "moved.tf").read_text()
    assert "proxy" not in (app_module(isolated) / "moved.tf").read_text()
    # The pattern is an answer passed to the core module, which holds both.
    isolated_doc = parse(app_module(isolated))["module"]["service"]
    shared_doc = parse(app_module(shared))["module"]["service"]
    assert isolated_doc["integration_pattern"] == "isolated"
    assert isolated_doc["operation_options"] == "${var.operation_options}"
    assert shared_doc["integration_pattern"] == "shared"
    assert "operation_options" not in shared_doc


@pytest.mark.parametrize("answers", TERRAFORM, ids=combination_id)
def test_shared_terraform_files_do_not_depend_on_the_api_name(
    projects: ProjectCache, answers: dict[str, str]
) -> None:
    first = projects.rendered(**answers)
    other = projects.rendered(**{**answers, "name": "Billing API"})
    for path in terraform_trees(first):
        if path not in api_files(first):
            rel = path.relative_to(first)
            assert (other / rel).read_text() == path.read_text(), rel
    renamed = {
        Path(p.relative_to(first).as_posix().replace(API, "billing-api")) for p in api_files(first)
    }
    assert {p.relative_to(other) for p in api_files(other, "billing-api")} == renamed
    assert not (other / DIRECTORY / "infra" / f"{API}.tf").exists()


@with_terraform(TERRAFORM)
def test_terraform_is_formatted(project: Path, tmp_path: Path) -> None:
    run(
        ["terraform", "fmt", "-check", "-recursive", "-diff", DIRECTORY],
        project,
        env=tf_env(tmp_path),
    )


@pytest.mark.parametrize("name", ODD_NAMES)
@pytest.mark.parametrize("answers", [TERRAFORM[0], TERRAFORM[-1]], ids=combination_id)
def test_terraform_is_formatted_for_any_name(
    projects: ProjectCache, answers: dict[str, str], name: str, tmp_path: Path
) -> None:
    project = projects.rendered(**{**answers, "name": name})
    run(
        ["terraform", "fmt", "-check", "-recursive", "-diff", DIRECTORY],
        project,
        env=tf_env(tmp_path),
    )


# --- structure -----------------------------------------------------------------------------


@pytest.mark.parametrize("answers", TERRAFORM, ids=combination_id)
def test_app_module_has_the_spec_variables_and_outputs(
    projects: ProjectCache, answers: dict[str, str]
) -> None:
    doc = parse(app_module(projects.rendered(**answers)))
    assert set(doc["variable"]) >= APP_VARIABLES, APP_VARIABLES - set(doc["variable"])
    assert set(doc["output"]) >= APP_OUTPUTS, APP_OUTPUTS - set(doc["output"])
    # The spec's module usage passes only these: everything else must have a default.
    for name, body in doc["variable"].items():
        assert "default" in body, f"variable {name} has no default"
        assert body.get("description"), f"variable {name} is undocumented"
    assert doc["variable"]["vpc_subnet_ids"]["default"] == []
    assert doc["variable"]["additional_iam_policy_statements"]["default"] == []
    assert doc["variable"]["asset_bucket_name"]["default"] is None
    assert doc["variable"]["snap_start"]["default"] is True
    assert ("operation_options" in doc["variable"]) == (
        answers["integration_pattern"] == "isolated"
    )
    assert ("web_acl_enabled" in doc["variable"]) == is_rest(answers)
    for name, body in doc["output"].items():
        assert body.get("description"), f"output {name} is undocumented"
    role_name = doc["output"]["lambda_execution_role_name"]["value"]
    function_name = doc["output"]["lambda_function_name"]["value"]
    if answers["integration_pattern"] == "isolated":
        # Maps keyed by operation name (the module README says so).
        assert role_name.startswith("${{for name, function in module.service.functions")
        assert "function.role_name" in role_name
        assert "function.name" in function_name
    else:
        assert role_name == '${module.service.functions["router"].role_name}'
        assert function_name == '${module.service.functions["router"].name}'
    # Every variable reaches a core module: none is declared and then dropped.
    calls = json.dumps(doc["module"])
    for name in doc["variable"]:
        assert f"var.{name}" in calls, f"variable {name} is passed to no module"


def test_functions_run_run_sh_behind_the_web_adapter(projects: ProjectCache) -> None:
    doc = parse(core_module(projects.rendered(**TERRAFORM[0]), name="fastapi"))
    function = only(resources(doc, "aws_lambda_function"))
    assert function["for_each"] == "${local.functions}"
    assert function["handler"] == "run.sh"
    assert function["runtime"] == "${var.runtime}"
    assert function["architectures"] == ["${var.architecture}"]
    assert function["tracing_config"][0]["mode"] == "Active"
    assert function["layers"] == "${local.layers}"
    # The adapter's layer only: traces go to Lambda's X-Ray endpoint, no collector layer.
    assert doc["locals"]["layers"] == ["${local.lambda_web_adapter_layer_arn}"]
    assert "otel_collector_layer_arn" not in doc["locals"]
    assert function["publish"] is True
    snap_start = function["dynamic"][0]["snap_start"]
    assert snap_start["for_each"] == "${var.snap_start ? [1] : []}"
    assert snap_start["content"][0]["apply_on"] == "PublishedVersions"
    alias = resources(doc, "aws_lambda_alias")["live"]
    assert alias["name"] == "live"
    assert alias["function_version"] == "${aws_lambda_function.api_lambda[each.key].version}"
    # Names, accounts and version come from aws-facts.json (test_aws_facts plans them).
    layer = doc["locals"]["lambda_web_adapter_layer_arn"]
    assert "local.adapter.layer_names[var.architecture]" in layer
    assert "local.adapter.layer_accounts" in layer
    assert "data.aws_region.current" in layer
    assert "data.aws_partition.current.partition" in layer
    assert "var.lambda_web_adapter_layer_version, local.adapter.layer_version" in layer
    environment = doc["locals"]["environment"]
    # The adapter's settings come last in the merge: `env` cannot break them.
    tail = environment[environment.index("function.env") :]
    assert "local.facts.adapter_environment.value" in tail
    assert "local.facts.adapter_environment.invoke_mode[lower(var.gateway)]" in tail
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" not in environment
    assert function["environment"][0]["variables"] == "${local.environment[each.key]}"
    assert function["logging_config"][0]["log_group"] == (
        "${aws_cloudwatch_log_group.lambda[each.key].name}"
    )
    # Inline upload unless an asset bucket is named.
    assert function["filename"] == "${var.asset_bucket_name == null ? var.bundle_path : null}"
    assert function["s3_bucket"] == "${var.asset_bucket_name}"
    bundle = resources(doc, "aws_s3_object")["bundle"]
    assert bundle["count"] == "${var.asset_bucket_name == null ? 0 : 1}"
    log_group = resources(doc, "aws_cloudwatch_log_group")["lambda"]
    assert log_group["retention_in_days"] == "${var.log_retention_in_days}"
    assert "vpc_config" not in function  # only as a dynamic block, when subnets are given
    dynamic = function["dynamic"][1]["vpc_config"]
    assert "var.vpc_subnet_ids" in dynamic["for_each"]
    assert dynamic["content"][0]["security_group_ids"] == "${var.vpc_security_group_ids}"


@pytest.mark.parametrize("answers", TERRAFORM, ids=combination_id)
def test_the_api_module_passes_its_answers_to_the_core_modules(
    projects: ProjectCache, answers: dict[str, str]
) -> None:
    doc = parse(app_module(projects.rendered(**answers)))
    service = doc["module"]["service"]
    assert service["source"] == "../../../core/api/fastapi"
    assert service["service_name"] == API
    assert service["gateway"] == ("REST" if is_rest(answers) else "HTTP")
    assert service["auth"] == answers["auth"]
    assert service["integration_pattern"] == answers["integration_pattern"]
    assert service["architecture"] == "arm64"
    assert service["runtime"] == "python3.13"
    assert f"/{API}/dist/lambda.zip" in service["bundle_path"]
    gateway = doc["module"]["rest_api" if is_rest(answers) else "http_api"]
    kind = "rest-api" if is_rest(answers) else "http-api"
    assert gateway["source"] == f"../../../core/api/{kind}"
    assert gateway["routes"] == "${module.service.routes}"
    assert gateway["authorization"] == "${module.service.authorization}"
    # The API module declares no resource of its own: the core modules hold them all.
    assert not doc["resource"]


def test_function_architecture_and_runtime_follow_the_answers(projects: ProjectCache) -> None:
    answers = {
        **TERRAFORM[0],
        "lambda_architecture": "x86_64",
        "python_version": "3.12",
    }
    service = parse(app_module(projects.rendered(**answers)))["module"]["service"]
    assert service["architecture"] == "x86_64"
    assert service["runtime"] == "python3.12"


def test_execution_roles_are_least_privilege(projects: ProjectCache) -> None:
    project = projects.rendered(**TERRAFORM[0])
    doc = parse(core_module(project, name="fastapi"))
    policy = doc["data"][("aws_iam_policy_document", "lambda_execution")]
    statements = {s["sid"]: s for s in policy["statement"]}
    assert set(statements) == {"WriteOwnLogs", "WriteTraces"}
    assert statements["WriteOwnLogs"]["resources"] == [
        "${aws_cloudwatch_log_group.lambda[each.key].arn}:*"
    ]
    assert all("*" not in action for s in statements.values() for action in s["actions"])
    # X-Ray's write actions have no resource-level permissions: "*" is the only possible value.
    assert set(statements["WriteTraces"]["actions"]) == {
        "xray:PutTelemetryRecords",
        "xray:PutTraceSegments",
    }
    assert resources(doc, "aws_iam_role_policy")["additional"]["for_each"] == (
        "${local.additional_policies}"
    )
    # Isolated functions may only be invoked for their own method and path, the router for all.
    source = (core_module(project, name="fastapi") / "fastapi.tf").read_text()
    assert 'invoke_source = "*/${operation.method}${replace(operation.path,' in source
    assert 'invoke_source = "*"\n' in source
    assert not resources(doc, "aws_lambda_permission")
    for gateway in ("rest-api", "http-api"):
        permission = resources(parse(core_module(project, name=gateway)), "aws_lambda_permission")
        api = permission["api_gateway"]
        assert api["principal"] == "apigateway.amazonaws.com"
        assert api["qualifier"] == "${each.value.qualifier}"
        assert api["source_arn"].endswith(".execution_arn}/${each.value.invoke_source}")


def test_rest_integrations_stream_from_the_live_alias(projects: ProjectCache) -> None:
    """What the mirrored provider may not know: checked here on the source, as written."""
    project = projects.rendered(**next(a for a in TERRAFORM if is_rest(a)))
    core = parse(core_module(project, name="rest-api"))
    integration = resources(core, "aws_api_gateway_integration")["lambda"]
    assert "target.function != null" in integration["for_each"]
    assert integration["type"] == "AWS_PROXY"
    assert integration["integration_http_method"] == "POST"
    assert integration["response_transfer_mode"] == "STREAM"
    uri = integration["uri"]
    assert uri.startswith("arn:${data.aws_partition.current.partition}:apigateway:")
    assert ":lambda:path/2021-11-15/functions/${var.lambda_functions[each.value].alias_arn}/" in uri
    assert uri.endswith("/response-streaming-invocations")
    streaming = core_module(project, name="rest-api") / "tests" / "streaming.tftest.hcl"
    assert 'response_transfer_mode == "STREAM"' in streaming.read_text()
    method = resources(core, "aws_api_gateway_method")["api"]
    assert method["authorization"] == "${var.authorization}"
    trigger = resources(core, "aws_api_gateway_deployment")["this"]["triggers"]["redeployment"]
    assert "aws_api_gateway_method.api" in trigger
    assert "aws_api_gateway_integration.lambda" in trigger
    api = only(resources(core, "aws_api_gateway_rest_api"))
    # No resource policy: IAM callers need an identity policy (no account-wide opening).
    assert "policy" not in api
    assert not resources(core, "aws_api_gateway_rest_api_policy")


@pytest.mark.parametrize("answers", [a for a in TERRAFORM if is_rest(a)], ids=combination_id)
def test_rest_api_modules_authorise_with_their_answer(
    projects: ProjectCache, answers: dict[str, str]
) -> None:
    doc = parse(app_module(projects.rendered(**answers)))
    assert doc["module"]["service"]["auth"] == answers["auth"]
    assert doc["module"]["rest_api"]["authorization"] == "${module.service.authorization}"
    assert doc["module"]["rest_api"]["web_acl_enabled"] == "${var.web_acl_enabled}"
    assert doc["module"]["rest_api"]["resource_paths"] == []
    assert not resources(doc, "aws_api_gateway_rest_api_policy")


@pytest.mark.parametrize("answers", TERRAFORM, ids=combination_id)
def test_each_module_requires_the_provider_it_needs(
    projects: ProjectCache, answers: dict[str, str]
) -> None:
    project = projects.rendered(**answers)
    module = (app_module(project) / f"{API}.tf").read_text()
    core = project / DIRECTORY / "common" / "terraform" / "src" / "core" / "api"
    if is_rest(answers):
        assert f'version = "{REQUIRED_CONSTRAINT}"' in module
    else:
        # Nothing in an HTTP API needs the streaming release.
        assert 'version = ">= 5.32.0"' in module
    assert f'version = "{REQUIRED_CONSTRAINT}"' in (core / "rest-api" / "versions.tf").read_text()
    assert 'version = ">= 5.0.0"' in (core / "http-api" / "versions.tf").read_text()
    root = (project / DIRECTORY / "infra" / "versions.tf").read_text()
    assert 'version = ">= 5.32.0, < 7.0.0"' in root


@pytest.mark.parametrize("answers", TERRAFORM, ids=combination_id)
def test_cognito_pool_and_client_are_created_or_passed_in(
    projects: ProjectCache, answers: dict[str, str]
) -> None:
    project = projects.rendered(**answers)
    doc = parse(app_module(project))
    cognito = answers["auth"] == "Cognito"
    if not cognito:
        assert "cognito_user_pool_arn" not in doc["variable"]
        assert "cognito_user_pool_arn" not in doc["module"]["service"]
        return
    assert doc["variable"]["cognito_user_pool_arn"]["default"] is None
    assert doc["variable"]["cognito_user_pool_client_id"]["default"] is None
    assert {"cognito_user_pool_id", "cognito_user_pool_client_id"} <= set(doc["output"])
    service = parse(core_module(project, name="fastapi"))
    pool = resources(service, "aws_cognito_user_pool")["users"]
    assert pool["count"] == '${var.auth == "Cognito" && var.cognito_user_pool_arn == null ? 1 : 0}'
    client = resources(service, "aws_cognito_user_pool_client")["web"]
    assert client["count"] == (
        '${var.auth == "Cognito" && var.cognito_user_pool_client_id == null ? 1 : 0}'
    )
    assert client["generate_secret"] is False
    core = parse(core_module(project, answers))
    if is_rest(answers):
        authorizer = resources(core, "aws_api_gateway_authorizer")["cognito"]
        assert authorizer["type"] == "COGNITO_USER_POOLS"
        assert doc["module"]["rest_api"]["cognito_user_pool_arns"] == [
            "${module.service.cognito_user_pool_arn}"
        ]
    else:
        authorizer = resources(core, "aws_apigatewayv2_authorizer")["jwt"]
        assert authorizer["authorizer_type"] == "JWT"
        http = doc["module"]["http_api"]
        assert http["jwt_issuer"] == "${module.service.cognito_issuer}"
        assert http["jwt_audience"] == ["${module.service.cognito_user_pool_client_id}"]


@pytest.mark.parametrize("answers", TERRAFORM, ids=combination_id)
def test_root_configuration_wires_the_api_from_its_own_file(
    projects: ProjectCache, answers: dict[str, str]
) -> None:
    project = projects.rendered(**answers)
    infra = project / DIRECTORY / "infra"
    doc = parse(infra)
    module = doc["module"][MODULE]
    assert (infra / module["source"]).resolve() == app_module(project).resolve()
    assert "var.environment" in module["name"]
    assert module["tags"] == "${local.common_tags}"
    assert doc["output"][f"{MODULE}_api_url"]["value"] == f"${{module.{MODULE}.stage_invoke_url}}"
    # The account-wide API Gateway setting is opt-in, never created by default.
    assert doc["variable"]["manage_api_gateway_cloudwatch_role"]["default"] is False
    account = resources(doc, "aws_api_gateway_account")["this"]
    assert account["count"] == "${var.manage_api_gateway_cloudwatch_role ? 1 : 0}"
    for name in SHARED_INFRA_FILES:
        assert (infra / name).is_file(), name
    assert (infra / "tests" / "account.tftest.hcl").is_file()
    assert (infra / "tests" / f"{API}.tftest.hcl").is_file()
    assert not (infra / "pyproject.toml").exists()
    readme = (infra / "README.md").read_text()
    for command in ("init", "plan -out=plan.tfplan", "apply plan.tfplan", "test"):
        assert f"terraform -chdir={DIRECTORY}/infra {command}" in readme
    assert "uv run poe build <api-name>" in readme
    assert "manage_api_gateway_cloudwatch_role=true" in readme


#: The tags of the core README's examples, by the answers they apply to.
def recipe_tags(answers: dict[str, str]) -> set[str]:
    tags = {answers["auth"].lower()}
    if answers["integration_pattern"] == "isolated":
        tags.add("isolated")
    if is_rest(answers):
        tags.add("rest")
    return tags


def core_recipes(project: Path, answers: dict[str, str]) -> list[str]:
    """The core README's examples that apply to ``answers``, with the project's API names."""
    readme = (core_module(project, name="fastapi") / "README.md").read_text()
    blocks = re.findall(r"```hcl([ \w]*)\n(.*?)```", readme, flags=re.DOTALL)
    return [
        body.replace('module "items"', f'module "{MODULE}"')
        .replace("apis/items", f"apis/{API}")
        .replace("module.items.", f"module.{MODULE}.")
        for tags, body in blocks
        if set(tags.split()) <= recipe_tags(answers)
    ]


@pytest.mark.parametrize("answers", TERRAFORM, ids=combination_id)
def test_module_readme_says_what_is_generated_and_where_the_usage_is(
    projects: ProjectCache, answers: dict[str, str]
) -> None:
    project = projects.rendered(**answers)
    readme = (app_module(project) / "README.md").read_text()
    assert len(readme.splitlines()) < 30
    assert f"`{DIRECTORY}/infra/{API}.tf`" in readme
    assert f"`uv run poe build {API}`" in readme
    assert f"`{DIRECTORY}/{API}/pyproject.toml`" in readme
    for name in (f"{API}.tf", "variables.tf", "outputs.tf", "moved.tf"):
        assert f"`{name}`" in readme, name
        assert "generated-digest: " in (app_module(project) / name).read_text(), name
    assert "../../../core/api/fastapi/" in readme
    # The usage is the root configuration's file: the spec's module block and outputs.
    usage = (project / DIRECTORY / "infra" / f"{API}.tf").read_text()
    assert f'module "{MODULE}"' in usage
    assert f'source = "../common/terraform/src/app/apis/{API}"' in usage
    assert f"module.{MODULE}.stage_invoke_url" in usage
    assert "additional_iam_policy_statements = []" in usage


def test_core_readme_shows_the_spec_recipes(projects: ProjectCache, tmp_path: Path) -> None:
    project = projects.rendered(**TERRAFORM[0])
    readme = (core_module(project, name="fastapi") / "README.md").read_text()
    tags = [t for t in re.findall(r"```hcl([ \w]*)\n", readme)]
    assert {t.strip() for t in tags} == {"", "isolated", "iam", "custom"}
    blocks = [b for _, b in re.findall(r"```hcl([ \w]*)\n(.*?)```", readme, flags=re.DOTALL)]
    examples = tmp_path / "examples"
    examples.mkdir()
    for index, block in enumerate(blocks):
        (examples / f"example_{index}.tf").write_text(block)
    assert len(parsed_tree(examples)) == len(blocks)  # every example parses
    text = "\n".join(blocks)
    assert 'source = "../common/terraform/src/app/apis/items"' in text
    # The spec's recipes: extra IAM policy, VPC, one operation's integration overridden, CORS,
    # outputs, the invoke policy of an IAM API.
    for needle in (
        "additional_iam_policy_statements",
        "vpc_subnet_ids",
        "integration_overrides",
        "cors_allow_origins",
        "operation_options",
        "module.items.stage_invoke_url",
        'lambda_execution_role_name["get_item"]',
        'Resource = "${module.items.api_execution_arn}/*/*"',
        "jwt_issuer",
    ):
        assert needle in text, needle
    # Each combination's applicable recipes (tests/test_terraform_plan.py plans them).
    shared_iam = {**TERRAFORM[0], "integration_pattern": "shared", "auth": "IAM"}
    assert not any("operation_options" in r for r in core_recipes(project, shared_iam))
    assert any("execute-api:Invoke" in r for r in core_recipes(project, shared_iam))


def test_checkov_config_gives_a_reason_for_every_skipped_check(projects: ProjectCache) -> None:
    text = (projects.rendered(**TERRAFORM[0]) / ".checkov.yaml").read_text()
    lines = text.splitlines()
    start = lines.index("skip-check:")
    skipped = 0
    for index, line in enumerate(lines[start + 1 :], start=start + 1):
        if line.strip().startswith("- "):
            skipped += 1
            assert lines[index - 1].strip().startswith("#"), f"no reason above {line.strip()}"
    assert skipped > 0


# --- checkov -------------------------------------------------------------------------------


@pytest.mark.slow
def test_checkov_finds_no_failed_check_in_any_combination(
    projects: ProjectCache, tmp_path: Path
) -> None:
    scan = tmp_path / "scan"
    ids = []
    for answers in TERRAFORM:
        project = projects.rendered(**answers)
        ids.append(combination_id(answers))
        shutil.copytree(project / DIRECTORY, scan / ids[-1] / DIRECTORY)
    config = projects.rendered(**TERRAFORM[0]) / ".checkov.yaml"
    # One scan over every combination (about as fast as one): each is a folder of its own.
    report = checkov_clean(config, scan, "terraform")
    passed_in = {c["file_path"].split("/")[1] for c in report["results"]["passed_checks"]}
    assert passed_in == set(ids), "some combinations were not scanned"
    # Nothing is skipped inline. A method's or route's authorization is the core module's
    # variable, set from the API's auth answer (planned by each API's tests), which checkov
    # does not resolve: an API generated with auth None is public by that answer.
    assert report["results"]["skipped_checks"] == []


# --- terraform validate --------------------------------------------------------------------


def mirrored_aws_versions(mirror: Path) -> list[tuple[int, ...]]:
    folder = mirror / "registry.terraform.io" / "hashicorp" / "aws"
    versions = []
    for path in folder.glob("*"):
        name = path.name
        match = re.match(r"^(?:terraform-provider-aws_)?(\d+)\.(\d+)\.(\d+)", name)
        if match:
            versions.append(tuple(int(g) for g in match.groups()))
    return sorted(set(versions))


@pytest.fixture(scope="module")
def provider_mirror() -> Path:
    value = os.environ.get("TF_PROVIDER_MIRROR")
    if not value:
        pytest.fail(
            "TF_PROVIDER_MIRROR is not set: terraform needs a filesystem mirror of "
            "hashicorp/aws (this network has no Terraform registry). Find one with "
            "`find / -name 'terraform-provider-aws*' -path '*registry.terraform.io*'` and set "
            "TF_PROVIDER_MIRROR to the folder holding registry.terraform.io (.ci/run does this)."
        )
    mirror = Path(value)
    if not mirrored_aws_versions(mirror):
        pytest.fail(f"TF_PROVIDER_MIRROR={mirror} holds no registry.terraform.io/hashicorp/aws")
    return mirror


def prepare_for_provider(tree: Path, newest: tuple[int, ...]) -> list[str]:
    """Adapt a copy of the Terraform to an older mirrored provider; say what goes unchecked."""
    if newest >= STREAMING_PROVIDER:
        return []
    version = ".".join(map(str, newest))
    removed = relaxed = 0
    for path in tree.rglob("*.tf"):
        lines = path.read_text(encoding="utf-8").splitlines()
        kept = [line for line in lines if "response_transfer_mode" not in line.split("#")[0]]
        removed += len(lines) - len(kept)
        text = "\n".join(kept) + "\n"
        relaxed += f'"{REQUIRED_CONSTRAINT}"' in text  # a constraint, not a comment
        path.write_text(text.replace(REQUIRED_CONSTRAINT, f">= {version}"), encoding="utf-8")
    suites = sorted(tree.rglob("streaming.tftest.hcl"))
    for suite in suites:
        suite.unlink()
    if not relaxed:
        return []  # nothing here needs more than the mirrored provider
    notes = [
        f"planned against hashicorp/aws {version} (the mirrored provider), not the required "
        f"{REQUIRED_CONSTRAINT}: the copy's provider constraint was relaxed to >= {version} "
        f"in {relaxed} file(s)."
    ]
    if removed or suites:
        notes.append(
            f"`response_transfer_mode` of aws_api_gateway_integration ({removed} line(s)) is "
            f"unknown to {version} and was removed from the copy, with the streaming suite "
            f"({len(suites)} tests/streaming.tftest.hcl): REST response streaming "
            '(response_transfer_mode = "STREAM") was NOT checked by terraform; only its '
            "presence in the source is checked by the structural tests."
        )
    return notes


#: What the README examples refer to without defining it (the user's own resources).
README_STUBS = """
resource "aws_iam_role" "authenticated_user_role" {
  name               = "authenticated-users"
  assume_role_policy = "{}"
}

resource "aws_subnet" "private_a" {
  vpc_id     = "vpc-0123456789abcdef0"
  cidr_block = "10.0.1.0/24"
}

resource "aws_subnet" "private_b" {
  vpc_id     = "vpc-0123456789abcdef0"
  cidr_block = "10.0.2.0/24"
}

resource "aws_security_group" "lambda_sg" {
  name = "lambda"
}
"""


def terraform_validate(root: Path, tmp_path: Path) -> dict[str, Any]:
    env = tf_env(tmp_path)
    run(["terraform", "init", "-backend=false", "-input=false", "-no-color"], root, env=env)
    result = subprocess.run(
        ["terraform", "validate", "-json", "-no-color"],
        cwd=root, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    report: dict[str, Any] = json.loads(result.stdout)
    problems = [
        f"{d['severity']}: {d['summary']} {d.get('detail', '')} "
        f"({d.get('range', {}).get('filename')}:{d.get('range', {}).get('start', {}).get('line')})"
        for d in report["diagnostics"]
    ]
    assert report["valid"], "\n".join(problems)
    assert result.returncode == 0, "\n".join(problems)
    assert not problems, "\n".join(problems)
    return report


@pytest.mark.slow
def test_a_second_api_slots_into_the_same_root_configuration(
    tmp_path: Path, provider_mirror: Path
) -> None:
    dst = render(
        tmp_path / "repo",
        {"name": API, "iac_provider": "Terraform", "auth": "IAM"},
    )
    infra = dst / DIRECTORY / "infra"

    def files() -> dict[str, str]:
        return {p.relative_to(infra).as_posix(): p.read_text() for p in infra.rglob("*.tf*")}

    before = files()
    render(
        dst,
        {
            "name": "billing",
            "compute_type": "ServerlessApiGatewayHttpApi",
            "auth": "Cognito",
        },
        answers_file=".copier-answers.billing.yml",
    )
    after = files()
    # The API's own files only: its module block and its root test suite.
    assert set(after) - set(before) == {"billing.tf", "tests/billing.tftest.hcl"}
    assert all(after[name] == text for name, text in before.items())
    core = dst / DIRECTORY / "common" / "terraform" / "src" / "core" / "api"
    # The repository's core modules: every kind of API and the Lambda authorizer.
    modules = {p.name for p in core.iterdir()}
    assert modules == {"fastapi", "rest-api", "http-api", "lambda-authorizer"}
    env = tf_env(tmp_path)
    run(["terraform", "fmt", "-check", "-recursive", DIRECTORY], dst, env=env)
    tree = tmp_path / "copy"
    shutil.copytree(dst / DIRECTORY, tree / DIRECTORY)
    notes = prepare_for_provider(tree, mirrored_aws_versions(provider_mirror)[-1])
    if notes:
        warnings.warn(UnvalidatedTerraform(f"two APIs: {' '.join(notes)}"), stacklevel=1)
    terraform_validate(tree / DIRECTORY / "infra", tmp_path)
