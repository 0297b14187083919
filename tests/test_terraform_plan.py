"""The generated ``terraform test`` suites, run for real with a mocked AWS provider.

For every pair of answers (eight Terraform combinations), the root configuration's suite runs
against the provider mirror (``TF_PROVIDER_MIRROR``), through the API's generated module, on a
copy of the project holding the API's real OpenAPI document (written by the project's
toolchain) and a stand-in bundle. The core README's recipes (those that apply to the
combination, with its names) are pasted into the root configuration, so each is planned as
written there. The shared core modules' suites run once. What the mirrored provider cannot
check is reported as a warning in the test summary, never as passed."""

from __future__ import annotations

import json
import re
import shutil
import warnings
from pathlib import Path

import pytest
from conftest import ProjectCache, combination_id, pairwise, run, tf_env
from test_terraform import (
    API,
    DIRECTORY,
    MODULE,
    README_STUBS,
    TERRAFORM,
    UnvalidatedTerraform,
    app_module,
    core_recipes,
    mirrored_aws_versions,
    prepare_for_provider,
    provider_mirror,
)

# pytest finds a fixture by the names the test module holds: keep the imported one exported.
__all__ = ["provider_mirror"]

#: Lines ``terraform test`` prints for each run and for the whole suite.
RUN_RESULT = re.compile(r'^\s*run "([^"]+)"\.\.\. (pass|fail|skip)', re.MULTILINE)
SUMMARY = re.compile(r"^(Success|Failure)! (\d+) passed, (\d+) failed", re.MULTILINE)


@pytest.fixture(scope="session")
def openapi_document(projects: ProjectCache, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample API's OpenAPI document, written by the generated script (once per session).

    The service is the same in every combination: one installed project writes it for all.
    """
    project = projects.synced()
    output = tmp_path_factory.mktemp("openapi") / "openapi.json"
    written = project / DIRECTORY / API / "dist" / "openapi.json"
    run(["uv", "run", "poe", "openapi", API], project)
    shutil.copy(written, output)
    return output


def terraform_test(config: Path, tmp_path: Path, *suites: str) -> list[str]:
    """``terraform init`` and ``terraform test`` in ``config`` (only ``suites``, when given);
    the names of the runs, all passed."""
    env = tf_env(tmp_path)
    run(["terraform", "init", "-backend=false", "-input=false", "-no-color"], config, env=env)
    filters = [f"-filter=tests/{suite}.tftest.hcl" for suite in suites]
    result = run(["terraform", "test", "-no-color", *filters], config, env=env, timeout=900)
    summary = SUMMARY.search(result.stdout)
    assert summary, result.stdout[-4000:]
    runs = RUN_RESULT.findall(result.stdout)
    assert runs, "terraform test ran nothing"
    assert all(status == "pass" for _, status in runs), result.stdout[-4000:]
    assert int(summary.group(2)) == len(runs)
    return [name for name, _ in runs]


def adapted_copy(
    project: Path, folders: list[str], tmp_path: Path, mirror: Path, label: str, *unused: str
) -> Path:
    """A copy of ``folders`` of the project (without the ``unused`` folders), adapted to the
    mirrored provider (and warned of)."""
    tree = tmp_path / "project"
    for folder in folders:
        shutil.copytree(project / folder, tree / folder, ignore=shutil.ignore_patterns(*unused))
    notes = prepare_for_provider(tree, mirrored_aws_versions(mirror)[-1])
    if notes:
        warnings.warn(UnvalidatedTerraform(f"{label}: {' '.join(notes)}"), stacklevel=3)
    return tree


def built_copy(project: Path, tmp_path: Path, mirror: Path, label: str, openapi: Path) -> Path:
    """The project's Terraform, adapted to the mirror, with the API built: its own OpenAPI
    document and a stand-in bundle (nothing is ever uploaded or applied here)."""
    folders = [f"{DIRECTORY}/common", f"{DIRECTORY}/infra"]
    # An HTTP API's configuration never loads the REST core: what it needs is what is checked.
    rest = "core/api/rest-api" in (app_module(project) / f"{API}.tf").read_text()
    tree = adapted_copy(project, folders, tmp_path, mirror, label, *([] if rest else ["rest-api"]))
    dist = tree / DIRECTORY / API / "dist"
    dist.mkdir(parents=True)
    shutil.copy(openapi, dist / "openapi.json")
    (dist / "lambda.zip").write_bytes(b"stand-in bundle: never uploaded, nothing is applied")
    return tree


@pytest.mark.slow
@pytest.mark.parametrize("answers", pairwise("Terraform"), ids=combination_id)
def test_generated_terraform_test_suites_pass(
    projects: ProjectCache,
    answers: dict[str, str],
    provider_mirror: Path,
    openapi_document: Path,
    tmp_path: Path,
) -> None:
    project = projects.rendered(**answers)
    tree = built_copy(project, tmp_path, provider_mirror, combination_id(answers), openapi_document)
    # The API's module is generated (tested in the toolchain's own tests): it has no suite.
    assert not (app_module(tree) / "tests").exists()
    infra = tree / DIRECTORY / "infra"
    account_runs = terraform_test(infra, tmp_path, "account")
    assert "the_api_gateway_account_setting_is_left_alone_by_default" in account_runs
    # The core README's recipes, pasted into the root configuration as written (their module
    # blocks under other names: the root configuration already uses the module), are planned
    # with the API's own suite (only there: each recipe is a whole API more to plan).
    recipes = [
        block.replace(f'module "{MODULE}"', f'module "{MODULE}_recipe_{index}"')
        for index, block in enumerate(core_recipes(tree, answers))
    ]
    assert len(recipes) >= 5  # variables, CORS, VPC, overrides, outputs; and the tagged ones
    (infra / "readme_recipes.tf").write_text("\n".join([README_STUBS, *recipes]))
    root_runs = terraform_test(infra, tmp_path, API)
    assert root_runs == [f"{MODULE}_is_deployed_per_environment"]


@pytest.mark.slow
@pytest.mark.parametrize("module", ["fastapi", "rest-api", "http-api", "lambda-authorizer"])
def test_core_module_suites_pass(
    projects: ProjectCache, module: str, provider_mirror: Path, tmp_path: Path
) -> None:
    # The core modules are the same in every combination: one copy serves.
    project = projects.rendered(**TERRAFORM[0])
    terraform = f"{DIRECTORY}/common/terraform"
    config = f"{terraform}/src/core/api/{module}"
    folders = [config, f"{terraform}/tests"]
    if module == "fastapi":
        folders.append(f"{terraform}/src/core/api/lambda-authorizer")  # auth Custom's
    tree = adapted_copy(project, folders, tmp_path, provider_mirror, config)
    # The AWS values pinned for CDK and Terraform alike, which the FastAPI module reads.
    facts = f"{DIRECTORY}/common/aws-facts.json"
    shutil.copy(project / facts, tree / facts)
    runs = terraform_test(tree / config, tmp_path)
    expected = {
        "fastapi": "options_reach_the_right_functions",
        "rest-api": "routes_reach_their_functions_and_endpoints",
        "http-api": "several_origins",
        "lambda-authorizer": "the_issuer_audiences_and_key_set_reach_the_function",
    }
    assert expected[module] in runs


# --- the real provider, offline ------------------------------------------------------------

#: Lets the real provider plan without AWS: nothing is read from AWS with -refresh=false, and
#: the data sources of the configuration (partition, region, policy documents) are local.
OFFLINE_PROVIDER = """
provider "aws" {
  region                      = var.aws_region
  access_key                  = "offline"
  secret_key                  = "offline"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
}
"""

#: What the router version of the module deployed (before the isolated pattern existed), by
#: kind of API: an upgrade must move each to its new address, never destroy it.
ROUTER_ADDRESSES = {
    "common": [
        "aws_cloudwatch_log_group.lambda",
        "aws_iam_role.lambda_execution_role",
        "aws_iam_role_policy.lambda_execution",
        "aws_lambda_function.api_lambda",
        "aws_lambda_permission.api_gateway",
    ],
    "rest": [
        'aws_api_gateway_method.proxy["root"]',
        'aws_api_gateway_method.proxy["proxy"]',
        'aws_api_gateway_integration.lambda_integration["root"]',
        'aws_api_gateway_integration.lambda_integration["proxy"]',
        "module.rest_api.aws_api_gateway_resource.proxy",
        *(
            f'module.rest_api.{kind}.preflight["{key}"]'
            for kind in (
                "aws_api_gateway_method",
                "aws_api_gateway_integration",
                "aws_api_gateway_method_response",
                "aws_api_gateway_integration_response",
            )
            for key in ("root", "proxy")
        ),
    ],
    "http": [
        "aws_apigatewayv2_integration.lambda_integration",
        'aws_apigatewayv2_route.proxy_routes["GET /"]',
        'aws_apigatewayv2_route.proxy_routes["GET /{proxy+}"]',
    ],
}


def isolated_addresses(kind: str, auth: str, openapi: Path) -> list[str]:
    """What v0.6.0's module deployed for one function per operation of ``openapi``: every
    resource declared in the API's module itself, before the core modules took them."""
    operations = [
        (details["operationId"], method.upper(), path)
        for path, item in json.loads(openapi.read_text())["paths"].items()
        for method, details in item.items()
        if method != "parameters"
    ]
    addresses = [
        f'{resource}["{name}"]'
        for name, _, _ in operations
        for resource in (
            "aws_cloudwatch_log_group.lambda",
            "aws_iam_role.lambda_execution_role",
            "aws_iam_role_policy.lambda_execution",
            "aws_lambda_function.api_lambda",
            "aws_lambda_alias.live",
            "aws_lambda_permission.api_gateway",
        )
    ]
    for name, method, path in operations:
        if kind == "rest":
            addresses += [
                f'aws_api_gateway_method.api["{method} {path}"]',
                f'aws_api_gateway_integration.lambda["{method} {path}"]',
            ]
        else:
            addresses += [
                f'aws_apigatewayv2_integration.lambda["{name}"]',
                f'aws_apigatewayv2_route.api["{method} {path}"]',
            ]
    if auth == "Cognito":
        addresses += ["aws_cognito_user_pool.users[0]", "aws_cognito_user_pool_client.web[0]"]
    if auth == "Custom":
        addresses += [
            f"module.authorizer.{resource}"
            for resource in (
                "aws_cloudwatch_log_group.this",
                "aws_iam_role.this",
                "aws_iam_role_policy.execution",
                "aws_lambda_function.this",
            )
        ]
    return addresses


#: A resource instance's address below the API's module: child modules, type, name, key.
ADDRESS = re.compile(r'((?:module\.\w+\.)*)(\w+)\.(\w+)(?:\["(.+)"\]|\[(\d+)\])?')


def state_of(addresses: list[str]) -> dict[str, object]:
    """A state holding ``addresses`` in the API's module (bare ids: enough to be moved)."""
    resources: dict[tuple[str, str, str], list[dict[str, object]]] = {}
    for address in addresses:
        match = re.fullmatch(ADDRESS, address)
        assert match, address
        nested, type_, name, key, index = match.groups()
        module = f"module.{MODULE}" + (f".{nested.rstrip('.')}" if nested else "")
        instance: dict[str, object] = {"schema_version": 0, "attributes": {"id": address}}
        if key is not None:
            instance["index_key"] = key
        if index is not None:
            instance["index_key"] = int(index)
        resources.setdefault((module, type_, name), []).append(instance)
    return {
        "version": 4,
        "terraform_version": "1.11.0",
        "serial": 1,
        "lineage": "00000000-0000-0000-0000-000000000000",
        "outputs": {},
        "resources": [
            {
                "module": module,
                "mode": "managed",
                "type": type_,
                "name": name,
                "provider": 'provider["registry.terraform.io/hashicorp/aws"]',
                "instances": instances,
            }
            for (module, type_, name), instances in resources.items()
        ],
    }


#: Two combinations per pattern, auth varied: the provider's plan does not depend on more.
REAL_PLAN = [
    a
    for a in TERRAFORM
    if combination_id(a)
    in {
        "rest-isolated-cognito-terraform",
        "http-isolated-custom-terraform",
        "rest-shared-iam-terraform",
        "http-shared-cognito-terraform",
    }
]


@pytest.mark.slow
@pytest.mark.parametrize("answers", REAL_PLAN, ids=combination_id)
def test_root_configuration_plans_with_the_real_provider_offline(
    projects: ProjectCache,
    answers: dict[str, str],
    provider_mirror: Path,
    openapi_document: Path,
    tmp_path: Path,
) -> None:
    """The mirrored provider's own plan (its value checks included), without AWS.

    Isolated: one function per operation of the API's real document. Shared: the resources of
    the router version move to their new addresses instead of being destroyed.
    """
    project = projects.rendered(**answers)
    label = f"{combination_id(answers)}, real provider"
    tree = built_copy(project, tmp_path, provider_mirror, label, openapi_document)
    infra = tree / DIRECTORY / "infra"
    (infra / "providers_override.tf").write_text(OFFLINE_PROVIDER)
    env = tf_env(tmp_path)
    run(["terraform", "init", "-backend=false", "-input=false", "-no-color"], infra, env=env)
    plan = ["terraform", "plan", "-refresh=false", "-input=false", "-no-color"]
    kind = "rest" if answers["compute_type"].endswith("RestApi") else "http"
    if answers["integration_pattern"] == "shared":
        # The first versions' router moves through v0.6.0's addresses to the core modules'.
        addresses = ROUTER_ADDRESSES["common"] + ROUTER_ADDRESSES[kind]
    else:
        # v0.6.0's functions, methods or routes (and user pool) move to the core modules'.
        addresses = isolated_addresses(kind, answers["auth"], openapi_document)
    state = tmp_path / "before.tfstate"
    state.write_text(json.dumps(state_of(addresses)))
    moved = run([*plan, f"-state={state}"], infra, env=env).stdout
    for address in addresses:
        assert f"# (moved from module.{MODULE}.{address})" in moved, address
    # Each moves rather than being destroyed (a state of bare ids cannot show that no attribute
    # changes: the real state's attributes are the same resources').
    assert "will be destroyed" not in moved
    if answers["integration_pattern"] == "shared":
        return
    output = run(plan, infra, env=env).stdout
    operations = json.loads(openapi_document.read_text())["paths"]
    expected = sum(1 for item in operations.values() for method in item if method != "parameters")
    functions = re.findall(
        rf'# module\.{MODULE}\.module\.service\.aws_lambda_function\.api_lambda\["(\w+)"\] '
        "will be created",
        output,
    )
    assert len(functions) == expected >= 2, output[-3000:]
    assert re.search(r"Plan: \d+ to add, 0 to change, 0 to destroy", output)
