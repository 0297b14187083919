"""The generated CDK infrastructure, synthesized for real: resources, cdk-nag, cfn-lint."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    AWS_ENVIRONMENT,
    ProjectCache,
    checkov_clean,
    combination_id,
    pairwise,
    render,
    run,
    tool_env,
)

INFRA = Path("packages") / "infra"
SERVICE = Path("packages") / "order-service"
CFN_LINT = Path(sys.executable).parent / "cfn-lint"
#: The handler of a Custom API's Lambda authorizer (the runtime's, in the API's bundle).
AUTHORIZER = "common_runtime.authorizer.handler"


def synth(project: Path, outdir: Path) -> dict[str, Any]:
    """Synthesize as users do, with the project's `poe synth` (the CDK CLI, its build step
    first) and a region and account set; copy what it wrote to ``outdir`` (assets aside);
    return the synthesized template."""
    run(["uv", "run", "--no-sync", "poe", "synth"], project, env={**tool_env(), **AWS_ENVIRONMENT})
    shutil.copytree(
        project / INFRA / "cdk.out",
        outdir,
        ignore=shutil.ignore_patterns("asset.*"),
        dirs_exist_ok=True,
    )
    template: dict[str, Any] = json.loads((outdir / "Apis.template.json").read_text())
    return template


def resources(template: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    """The properties of every resource of ``kind``."""
    return [r.get("Properties", {}) for r in template["Resources"].values() if r["Type"] == kind]


_SYNTHESIZED: dict[str, tuple[dict[str, str], Path, dict[str, Any]]] = {}


#: Each synthesis is a whole project through the CDK CLI: every pair of answers is enough.
@pytest.fixture(scope="module", params=pairwise("CDK"), ids=combination_id)
def synthesized(
    request: pytest.FixtureRequest,
    projects: ProjectCache,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[dict[str, str], Path, dict[str, Any]]:
    answers: dict[str, str] = request.param
    key = combination_id(answers)
    if key not in _SYNTHESIZED:  # once per worker, whatever order its tests come in
        project = projects.synced(**answers)
        outdir = tmp_path_factory.mktemp("cdk.out")
        _SYNTHESIZED[key] = (answers, outdir, synth(project, outdir))
    return _SYNTHESIZED[key]


@pytest.mark.slow
def test_functions_follow_the_integration_pattern(
    synthesized: tuple[dict[str, str], Path, dict[str, Any]],
) -> None:
    answers, _, template = synthesized
    # The API's functions (a Custom API's authorizer is checked on its own).
    functions = [
        f for f in resources(template, "AWS::Lambda::Function") if f["Handler"] != AUTHORIZER
    ]
    assert len(functions) == (4 if answers["integration_pattern"] == "isolated" else 1)
    rest = answers["compute_type"].endswith("RestApi")
    for function in functions:
        assert function["Handler"] == "run.sh"
        assert function["Runtime"] == "python3.13"
        assert function["Architectures"] == ["arm64"]
        assert function["TracingConfig"] == {"Mode": "Active"}
        assert function["SnapStart"] == {"ApplyOn": "PublishedVersions"}
        variables = function["Environment"]["Variables"]
        assert variables["AWS_LAMBDA_EXEC_WRAPPER"] == "/opt/bootstrap"
        assert variables["AWS_LWA_INVOKE_MODE"] == ("response_stream" if rest else "buffered")
        assert variables["AWS_LWA_READINESS_CHECK_PATH"] == "/_lambda/health"
        assert "PORT" not in variables  # the adapter's names only: AWS_LWA_PORT
        assert not [name for name in variables if name.startswith("OTEL_")]
        assert variables["POWERTOOLS_SERVICE_NAME"] == "order-service"
        assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "order-service"
        # Adapter 1.1.0 (layer 30), and no other layer: traces need no collector. The CDK CLI
        # synthesizes for a concrete Region: the layer's ARN is that Region's, exactly.
        assert function["Layers"] == [
            "arn:aws:lambda:eu-west-1:753240598075:layer:LambdaAdapterLayerArm64:30"
        ]
        assert "LoggingConfig" in function
    groups = resources(template, "AWS::Logs::LogGroup")
    authorizers = 1 if answers["auth"] == "Custom" else 0
    assert sum(1 for g in groups if g.get("RetentionInDays") == 30) == len(functions) + authorizers


@pytest.mark.slow
def test_each_function_may_write_to_its_own_log_group_only(
    synthesized: tuple[dict[str, str], Path, dict[str, Any]],
) -> None:
    _, _, template = synthesized
    functions = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    for function in functions:
        properties = function["Properties"]
        group = properties["LoggingConfig"]["LogGroup"]["Ref"]
        role = template["Resources"][properties["Role"]["Fn::GetAtt"][0]]["Properties"]
        # No AWSLambdaBasicExecutionRole: it may write to every log group of the account.
        assert "ManagedPolicyArns" not in role
        statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
        writes = [s for s in statements if any(a.startswith("logs:") for a in s["Action"])]
        assert writes == [
            {
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Effect": "Allow",
                "Resource": {"Fn::GetAtt": [group, "Arn"]},
            }
        ]
        assert properties["TracingConfig"] == {"Mode": "Active"}
        traces = [s for s in statements if s not in writes]
        assert traces == [
            {
                "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                "Effect": "Allow",
                "Resource": "*",
            }
        ]
    # No other policy gives a function's role anything.
    roles = {f["Properties"]["Role"]["Fn::GetAtt"][0] for f in functions}
    for policy in resources(template, "AWS::IAM::Policy"):
        assert not {r["Ref"] for r in policy["Roles"]} & roles, policy


def check_the_lambda_authorizer(template: dict[str, Any], *, custom: bool, rest: str) -> None:
    """A Custom API has its Lambda authorizer (REST: TOKEN; HTTP: simple responses, payload
    2.0), its function running the runtime's handler from the API's bundle, which API Gateway
    alone may invoke, for that authorizer; no other API has one."""
    functions = [
        f for f in resources(template, "AWS::Lambda::Function") if f["Handler"] == AUTHORIZER
    ]
    if rest.endswith("RestApi"):
        authorizers = resources(template, "AWS::ApiGateway::Authorizer")
    else:
        authorizers = resources(template, "AWS::ApiGatewayV2::Authorizer")
    if not custom:
        assert not functions
        assert all(a.get("Type", a.get("AuthorizerType")) != "REQUEST" for a in authorizers)
        assert all(a.get("Type") != "TOKEN" for a in authorizers)
        return
    (function,) = functions
    # Run by the Python runtime itself: no web adapter layer, no run.sh.
    assert "Layers" not in function
    assert function["TracingConfig"] == {"Mode": "Active"}
    assert function["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"].endswith("-authorizer")
    (authorizer,) = authorizers
    if rest.endswith("RestApi"):
        assert authorizer["Type"] == "TOKEN"
        assert authorizer["IdentitySource"] == "method.request.header.Authorization"
    else:
        assert authorizer["AuthorizerType"] == "REQUEST"
        assert authorizer["AuthorizerPayloadFormatVersion"] == "2.0"
        assert authorizer["EnableSimpleResponses"] is True
        assert authorizer["IdentitySource"] == ["$request.header.Authorization"]
    assert authorizer["AuthorizerResultTtlInSeconds"] == 300
    permissions = [
        p
        for p in resources(template, "AWS::Lambda::Permission")
        if "/authorizers/" in json.dumps(p.get("SourceArn"))
    ]
    (permission,) = permissions
    assert permission["Principal"] == "apigateway.amazonaws.com"


@pytest.mark.slow
def test_every_operation_is_routed_with_the_chosen_auth(
    synthesized: tuple[dict[str, str], Path, dict[str, Any]],
) -> None:
    answers, _, template = synthesized
    auth = answers["auth"]
    if answers["compute_type"].endswith("RestApi"):
        methods = resources(template, "AWS::ApiGateway::Method")
        operations = [m for m in methods if m["HttpMethod"] != "OPTIONS"]
        assert sorted(m["HttpMethod"] for m in operations) == ["GET", "GET", "POST", "POST"]
        expected = {
            "IAM": "AWS_IAM",
            "Cognito": "COGNITO_USER_POOLS",
            "Custom": "CUSTOM",
            "None": "NONE",
        }[auth]
        assert {m["AuthorizationType"] for m in operations} == {expected}
        for method in operations:
            assert method["Integration"]["ResponseTransferMode"] == "STREAM"
            assert "response-streaming-invocations" in json.dumps(method["Integration"]["Uri"])
        # CORS preflight is answered by API Gateway: no Lambda invocation.
        preflight = [m for m in methods if m["HttpMethod"] == "OPTIONS"]
        assert len(preflight) == 4  # /echo, /items, /items/{item_id}, /stream
        assert {m["AuthorizationType"] for m in preflight} == {"NONE"}
        assert {m["Integration"]["Type"] for m in preflight} == {"MOCK"}
        responses = resources(template, "AWS::ApiGateway::GatewayResponse")
        assert sorted(r["ResponseType"] for r in responses) == ["DEFAULT_4XX", "DEFAULT_5XX"]
        header = "gatewayresponse.header.Access-Control-Allow-Origin"
        assert {r["ResponseParameters"][header] for r in responses} == {"'*'"}
        stage = resources(template, "AWS::ApiGateway::Stage")[0]
        assert stage["TracingEnabled"] is True
        assert "AccessLogSetting" in stage
        assert stage["MethodSettings"][0]["ThrottlingRateLimit"] == 5000
        assert stage["MethodSettings"][0]["ThrottlingBurstLimit"] == 2500
        assert resources(template, "AWS::WAFv2::WebACLAssociation")
        (acl,) = resources(template, "AWS::WAFv2::WebACL")
        common = acl["Rules"][0]["Statement"]["ManagedRuleGroupStatement"]
        assert common["Name"] == "AWSManagedRulesCommonRuleSet"
        # Large bodies are counted, not blocked, unless a body size limit is chosen.
        assert common["RuleActionOverrides"] == [
            {"Name": "SizeRestrictions_BODY", "ActionToUse": {"Count": {}}}
        ]
        (waf_logging,) = resources(template, "AWS::WAFv2::LoggingConfiguration")
        (destination,) = waf_logging["LogDestinationConfigs"]
        # Credentials never reach the WAF's logs.
        assert waf_logging["RedactedFields"] == [
            {"SingleHeader": {"Name": "authorization"}},
            {"SingleHeader": {"Name": "cookie"}},
        ]
        waf_logs = template["Resources"][destination["Fn::Join"][1][-1]["Ref"]]["Properties"]
        assert waf_logs["LogGroupName"].startswith("aws-waf-logs-")
        assert waf_logs["RetentionInDays"] == 90
        # The account's logging role outlives the stack: other APIs of the region use it.
        for kind in ("AWS::ApiGateway::Account", "AWS::IAM::Role"):
            retained = [
                r for r in template["Resources"].values()
                if r["Type"] == kind and r.get("DeletionPolicy") == "Retain"
            ]  # fmt: skip
            assert len(retained) == 1, kind
        log_keys = [g for g in resources(template, "AWS::Logs::LogGroup") if "KmsKeyId" in g]
        assert log_keys, "the access log group is not encrypted with a KMS key"
    else:
        routes = resources(template, "AWS::ApiGatewayV2::Route")
        keys = sorted(r["RouteKey"] for r in routes)
        assert keys == ["GET /echo", "GET /items/{item_id}", "POST /items", "POST /stream"]
        expected = {"IAM": "AWS_IAM", "Cognito": "JWT", "Custom": "CUSTOM", "None": "NONE"}[auth]
        assert {r.get("AuthorizationType", "NONE") for r in routes} == {expected}
        api = resources(template, "AWS::ApiGatewayV2::Api")[0]
        assert api["CorsConfiguration"]["AllowOrigins"] == ["*"]
        stage = resources(template, "AWS::ApiGatewayV2::Stage")[0]
        assert "AccessLogSettings" in stage
        assert stage["DefaultRouteSettings"] == {
            "ThrottlingBurstLimit": 2500,
            "ThrottlingRateLimit": 5000,
        }
        integrations = resources(template, "AWS::ApiGatewayV2::Integration")
        assert {i["PayloadFormatVersion"] for i in integrations} == {"2.0"}
    check_the_lambda_authorizer(template, custom=auth == "Custom", rest=answers["compute_type"])
    pools = resources(template, "AWS::Cognito::UserPool")
    assert len(pools) == (1 if auth == "Cognito" else 0)
    for client in resources(template, "AWS::Cognito::UserPoolClient"):
        # A public client: SRP sign-in, no OAuth flow (no implicit flow, no placeholder
        # callback) until callback URLs are given, no user enumeration.
        assert client["GenerateSecret"] is False
        assert client["ExplicitAuthFlows"] == ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
        assert client["AllowedOAuthFlowsUserPoolClient"] is False
        assert "AllowedOAuthFlows" not in client
        assert "CallbackURLs" not in client
        assert client["PreventUserExistenceErrors"] == "ENABLED"
        assert client["EnableTokenRevocation"] is True
    assert any("Url" in key for key in template["Outputs"])


@pytest.mark.slow
def test_integrations_invoke_published_versions(
    synthesized: tuple[dict[str, str], Path, dict[str, Any]],
) -> None:
    answers, _, template = synthesized
    versions = template_ids(template, "AWS::Lambda::Version")
    assert len(versions) == (4 if answers["integration_pattern"] == "isolated" else 1)
    if answers["compute_type"].endswith("RestApi"):
        methods = resources(template, "AWS::ApiGateway::Method")
        uris = [m["Integration"]["Uri"] for m in methods if m["HttpMethod"] != "OPTIONS"]
    else:
        uris = [i["IntegrationUri"] for i in resources(template, "AWS::ApiGatewayV2::Integration")]
    for uri in uris:
        assert any(version in json.dumps(uri) for version in versions), uri
    # One invoke permission per function, whatever the number of operations it serves (and a
    # Custom API's authorizer's own, for its authorizer only).
    permissions = [
        p
        for p in resources(template, "AWS::Lambda::Permission")
        if "/authorizers/" not in json.dumps(p["SourceArn"])
    ]
    assert len(permissions) == len(versions)


def template_ids(template: dict[str, Any], kind: str) -> list[str]:
    """Logical ids of the resources of ``kind``."""
    return [key for key, r in template["Resources"].items() if r["Type"] == kind]


@pytest.mark.slow
def test_cdk_nag_passes_and_every_acknowledgement_has_a_reason(
    synthesized: tuple[dict[str, str], Path, dict[str, Any]],
) -> None:
    _, outdir, _ = synthesized
    report = json.loads((outdir / "validation-report.json").read_text())
    (nag,) = [r for r in report["pluginReports"] if r["pluginName"] == "AwsSolutions"]
    assert nag["conclusion"] == "success"
    assert nag["violations"] == []
    for acknowledged in nag["suppressedViolations"]:
        assert len(acknowledged["reason"]) > 20, acknowledged["ruleName"]
    # No wildcard action on a wildcard resource anywhere, no account-wide logs permission.
    for rule in nag["suppressedViolations"]:
        assert "Action::*" not in rule["ruleName"]
        assert "AWSLambdaBasicExecutionRole" not in rule["ruleName"]
        assert "AWSLambdaVPCAccessExecutionRole" not in rule["ruleName"]
    # Synthesized for the user's region and account, not for the pseudo parameters' tokens.
    manifest = json.loads((outdir / "manifest.json").read_text())
    assert manifest["artifacts"]["Apis"]["environment"] == "aws://123456789012/eu-west-1"


@pytest.mark.slow
def test_cfn_lint_finds_no_errors_and_only_explained_warnings(
    synthesized: tuple[dict[str, str], Path, dict[str, Any]],
) -> None:
    _, outdir, template = synthesized
    result = subprocess.run(
        [str(CFN_LINT), "--format", "json", str(outdir / "Apis.template.json")],
        capture_output=True,
        text=True,
        check=False,
    )
    findings = json.loads(result.stdout or "[]")
    errors = [f for f in findings if f["Level"] == "Error"]
    assert not errors, json.dumps(errors, indent=2)
    unexplained = []
    for finding in findings:
        path = finding["Location"]["Path"]
        resource = template["Resources"][path[1]]
        # W3005: aws-cdk-lib makes every Lambda function depend explicitly on its execution
        # role (and its policy), so the role exists before the function, whatever reads it.
        cdk_role_dependency = (
            finding["Rule"]["Id"] == "W3005"
            and resource["Type"] == "AWS::Lambda::Function"
            and path[2] == "DependsOn"
            and resource["DependsOn"][path[3]] == resource["Properties"]["Role"]["Fn::GetAtt"][0]
        )
        if finding["Level"] != "Error" and not cdk_role_dependency:
            unexplained.append(finding)
    assert not unexplained, json.dumps(unexplained, indent=2)


@pytest.mark.slow
def test_checkov_finds_no_failed_check_in_the_synthesized_template(
    synthesized: tuple[dict[str, str], Path, dict[str, Any]], projects: ProjectCache
) -> None:
    answers, outdir, _ = synthesized
    config = projects.synced(**answers) / ".checkov.yaml"
    # The project's own settings, pointed at this synth's output instead of infra/cdk.out.
    report = checkov_clean(config, outdir, "cloudformation")
    # The template was scanned (a shared HTTP API's has the fewest resources to check).
    assert report["summary"]["passed"] > 15
    # Only the open methods of a public REST API are skipped inline, each with its reason.
    skipped = {
        (c["check_id"], c["check_result"]["suppress_comment"])
        for c in report["results"]["skipped_checks"]
    }
    public_rest = answers["auth"] == "None" and answers["compute_type"].endswith("RestApi")
    reason = "The API is public by choice (auth None)."
    assert skipped == ({("CKV_AWS_59", reason)} if public_rest else set())


@pytest.fixture(scope="module")
def editable(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A default CDK project of its own (it gets edited), installed."""
    project = render(tmp_path_factory.mktemp("editable") / "project", {"name": "order-service"})
    run(["uv", "sync"], project, timeout=900)
    return project


@pytest.mark.slow
def test_a_registration_granting_invoke_access_passes_the_cdk_cli_and_the_project_checks(
    editable: Path, tmp_path: Path
) -> None:
    registration = editable / INFRA / "src" / "infra" / "apis" / "order_service.py"
    original = registration.read_text()
    # As the construct's docstring shows: a role of the account allowed to call the API.
    edited = original.replace(
        "from aws_cdk import Stack\n",
        "from aws_cdk import Stack\nfrom aws_cdk import aws_iam as iam\n",
    ).replace("    return OrderServiceApi(", "    api = OrderServiceApi(")
    edited += (
        '    caller = iam.Role(stack, "Caller", assumed_by=iam.AccountRootPrincipal())\n'
        "    api.grant_invoke_access(caller)\n"
        "    return api\n"
    )
    registration.write_text(edited)
    try:
        template = synth(editable, tmp_path / "out")
        (policy,) = [
            r["Properties"]["PolicyDocument"]
            for key, r in template["Resources"].items()
            if r["Type"] == "AWS::IAM::Policy" and key.startswith("Caller")
        ]
        (statement,) = policy["Statement"]
        assert statement["Action"] == "execute-api:Invoke"
        assert "execute-api:eu-west-1:123456789012:" in json.dumps(statement["Resource"])
        # The project's own checks: mypy --strict, and its tests, whose cdk-nag synth runs
        # without a region (the pseudo parameters' tokens) and with one.
        run(["uv", "run", "--no-sync", "mypy", str(registration)], editable)
        result = run(
            ["uv", "run", "--no-sync", "pytest", "-q", "-p", "no:cacheprovider", str(INFRA)],
            editable,
        )
        assert " passed" in result.stdout
    finally:
        registration.write_text(original)


@pytest.mark.slow
def test_a_new_route_needs_the_build_and_then_gets_its_function(
    editable: Path, tmp_path: Path
) -> None:
    synth(editable, tmp_path / "before")
    main_py = editable / SERVICE / "order_service" / "main.py"
    main_py.write_text(
        main_py.read_text()
        + '\n\n@app.delete("/items/{item_id}")\ndef delete_item(item_id: int) -> None:\n'
        '    """Delete an item."""\n'
    )
    env = {**tool_env(), "CDK_OUTDIR": str(tmp_path / "stale")}
    stale = subprocess.run(
        ["uv", "run", "--no-sync", "python", "-m", "infra.app"],
        cwd=editable / INFRA,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert stale.returncode != 0
    assert "operations of order-service changed" in stale.stderr
    template = synth(editable, tmp_path / "after")
    assert len(resources(template, "AWS::Lambda::Function")) == 5
    operations = (
        editable / "packages/common/constructs/src/common_constructs/app/apis"
        / "order_service_operations.py"
    )  # fmt: skip
    added = '"delete_item": Operation(\n        path="/items/{item_id}",\n        method="DELETE"'
    assert added in operations.read_text()
    run(["uv", "run", "--no-sync", "mypy", "packages/common/constructs"], editable)
    run(["uv", "run", "--no-sync", "ruff", "format", "--check", "packages"], editable)


@pytest.mark.slow
def test_the_build_step_rebuilds_only_when_sources_or_lock_file_change(editable: Path) -> None:
    build = ["uv", "run", "--no-sync", "toolchain", "build"]
    bundle = editable / SERVICE / "dist" / "lambda.zip"
    run(build, editable / INFRA)
    built = bundle.stat().st_mtime_ns
    unchanged = run(build, editable / INFRA)
    assert "sources unchanged since the last build" in unchanged.stdout
    assert bundle.stat().st_mtime_ns == built
    extra = editable / SERVICE / "order_service" / "extra.py"
    extra.write_text('"""A module added to the API."""\n')
    lock = editable / "uv.lock"
    locked = lock.read_text()
    try:
        added = run(build, editable / INFRA)
        assert "sources unchanged" not in added.stdout
        assert (editable / SERVICE / "dist" / "lambda" / "order_service" / "extra.py").is_file()
        lock.write_text(locked + "\n")
        relocked = run(build, editable / INFRA)
        assert "sources unchanged" not in relocked.stdout
    finally:
        extra.unlink()
        lock.write_text(locked)
        run(build, editable / INFRA)


TYPE_ERRORS = """
from aws_cdk import App, Stack
from aws_cdk import aws_apigateway as apigw

from common_constructs.app.apis.order_service_operations import (
    OrderServiceApi,
    OrderServiceApiIntegrations,
)
from common_constructs.core.api.rest_api import RestOverride

stack = Stack(App(), "S")
docs = RestOverride(integration=apigw.HttpIntegration("https://example.com"))
default = OrderServiceApi.default_integrations(stack)
overridden = default.with_overrides(echo=docs).build()
api = OrderServiceApi(stack, "Api", integrations=overridden)
print(api.integrations.get_item.handler.function_arn)  # fine: a default integration
default.with_overrides(get_itme=docs)  # error: misspelt operation
api.integrations.not_an_operation  # error: no such operation
api.integrations.echo.handler  # error: overridden, so no function
api.integrations.router.handler  # error: isolated, so no router
default.with_default_options(memory=512)  # error: misspelt function option
OrderServiceApi(stack, "Api2", integrations=overridden, throttle_rate=5)  # error: misspelt option
apigw.MethodOptions(authoriser=None)  # error: misspelt method option
OrderServiceApiIntegrations(create_item=docs, echo=docs, get_item=docs)  # error: stream missing
default.with_overrides({"echo": docs})  # error: a mapping, not keyword arguments
"""


@pytest.mark.slow
def test_a_type_checker_catches_misspelt_and_missing_operations_and_options(
    editable: Path,
) -> None:
    probe = editable / INFRA / "src" / "infra" / "probe_types.py"
    probe.write_text(TYPE_ERRORS)
    try:
        result = subprocess.run(
            ["uv", "run", "--no-sync", "mypy", str(probe)],
            cwd=editable,
            env=tool_env(),
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        probe.unlink()
    lines = TYPE_ERRORS.splitlines()
    expected = {number for number, line in enumerate(lines, start=1) if "# error" in line}
    reported = {
        int(line.split(":")[1]) for line in result.stdout.splitlines() if ": error:" in line
    }
    assert reported == expected, result.stdout


WRONG_SHAPES = """
from aws_cdk import App, Stack
from aws_cdk import aws_apigateway as apigw

from common_constructs.app.apis.order_service_operations import OrderServiceApi
from common_constructs.core.api.rest_api import RestOverride

url = apigw.HttpIntegration("https://example.com")


def api_with(**overrides):
    stack = Stack(App(), "S")
    builder = OrderServiceApi.default_integrations(stack).with_overrides(**overrides)
    return OrderServiceApi(stack, "Api", integrations=builder.build())


attempts = {
    "mapping": lambda: OrderServiceApi.default_integrations(Stack(App(), "S")).with_overrides(
        {"echo": RestOverride(integration=url)}
    ),
    "dict override": lambda: api_with(echo={"integration": url}),
    "dict options": lambda: api_with(
        echo=RestOverride(integration=url, options={"authorizer": None})
    ),
    "dict integrations": lambda: OrderServiceApi(
        Stack(App(), "S"), "Api", integrations={"echo": url}
    ),
}
for label, attempt in attempts.items():
    try:
        attempt()
    except TypeError as error:
        print(f"{label}: {error}")
"""


def run_probe(project: Path, name: str, source: str) -> subprocess.CompletedProcess[str]:
    """Build the project's APIs, then run ``source`` as a module of its CDK app."""
    run(["uv", "run", "--no-sync", "toolchain", "build"], project / INFRA)
    script = project / INFRA / "src" / "infra" / name
    script.write_text(source)
    try:
        return run(["uv", "run", "--no-sync", "python", str(script)], project)
    finally:
        script.unlink()


@pytest.mark.slow
def test_wrong_shapes_fail_with_a_message_naming_the_right_one(editable: Path) -> None:
    result = run_probe(editable, "probe_shapes.py", WRONG_SHAPES)
    messages = dict(line.split(": ", 1) for line in result.stdout.strip().splitlines())
    assert "keyword arguments" in messages["mapping"]
    assert "RestOverride(integration=" in messages["dict override"]
    assert "aws_apigateway.MethodOptions(" in messages["dict options"]
    assert "Integrations(...)" in messages["dict integrations"]


@pytest.mark.slow
def test_overrides_and_options_work_as_documented(editable: Path) -> None:
    result = run_probe(editable, "probe_overrides.py", OVERRIDES)
    # Every operation but the overridden one has its function (the module may hold more
    # operations than the sample's four: another test adds one).
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "functions": "all but echo",
        "vpc_functions": "all",
        "authorization": {"echo": "COGNITO_USER_POOLS", "others": ["AWS_IAM"]},
        "preflight_origins": ["https://app.example.com", "https://admin.example.com"],
        "gateway_response_origin": "'https://app.example.com'",
        "env": "https://app.example.com,https://admin.example.com",
        "body_size_rule": 65536,
        "account_role": False,
    }


OVERRIDES = """
import json

from aws_cdk import App, Size, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_ec2 as ec2
from aws_cdk.assertions import Template

from common_constructs.app.apis.order_service_operations import OPERATIONS, OrderServiceApi
from common_constructs.core.api.rest_api import RestOverride

stack = Stack(App(), "S")
pool = cognito.UserPool(stack, "Pool")
authorizer = apigw.CognitoUserPoolsAuthorizer(stack, "Authorizer", cognito_user_pools=[pool])
api = OrderServiceApi(
    stack,
    "Api",
    integrations=OrderServiceApi.default_integrations(stack)
    .with_default_options(vpc=ec2.Vpc(stack, "Vpc"))
    .with_overrides(
        echo=RestOverride(
            integration=apigw.HttpIntegration("https://example.com/echo"),
            options=apigw.MethodOptions(authorizer=authorizer),
        )
    )
    .build(),
    max_request_body_size=Size.kibibytes(64),
    cloud_watch_role=False,
)
api.restrict_cors_to("https://app.example.com", "https://admin.example.com")
resources = Template.from_stack(stack).to_json()["Resources"].values()
def of(kind):
    return [r["Properties"] for r in resources if r["Type"] == kind]
functions = of("AWS::Lambda::Function")
methods = [m for m in of("AWS::ApiGateway::Method") if m["HttpMethod"] != "OPTIONS"]
echo = [m for m in methods if m["Integration"]["Type"] == "HTTP_PROXY"]
preflight = [m for m in of("AWS::ApiGateway::Method") if m["HttpMethod"] == "OPTIONS"]
template = preflight[0]["Integration"]["IntegrationResponses"][0]["ResponseTemplates"]
(acl,) = of("AWS::WAFv2::WebACL")
(response, *_) = of("AWS::ApiGateway::GatewayResponse")
print(json.dumps({
    "functions": "all but echo" if len(functions) == len(OPERATIONS) - 1 else len(functions),
    "vpc_functions": "all" if all("VpcConfig" in f for f in functions) else 0,
    "authorization": {
        "echo": echo[0]["AuthorizationType"],
        "others": sorted({m["AuthorizationType"] for m in methods if m not in echo}),
    },
    "preflight_origins": [
        origin for origin in ("https://app.example.com", "https://admin.example.com")
        if origin in template["application/json"]
    ],
    "gateway_response_origin": response["ResponseParameters"][
        "gatewayresponse.header.Access-Control-Allow-Origin"
    ],
    "env": functions[0]["Environment"]["Variables"]["ALLOWED_ORIGINS"],
    "body_size_rule": acl["Rules"][-1]["Statement"]["SizeConstraintStatement"]["Size"],
    "account_role": bool(of("AWS::ApiGateway::Account")),
}))
"""
