"""Tests of the CDK app: every API synthesizes with its functions, and cdk-nag passes."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from pathlib import Path

import pytest
from aws_cdk import App, Environment, Validations
from aws_cdk.assertions import Match, Template
from cdk_nag import AwsSolutionsChecks

from common_toolchain import cli
from infra.stack import ApisStack


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Template]:
    """The synthesized stack, after the build step (OpenAPI, operations, bundles)."""
    # One build at a time, when pytest-xdist runs several test processes.
    with (Path(cli.__file__).parent / ".build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        cli.main(["build"])
    app = App(outdir=str(tmp_path_factory.mktemp("cdk.out")))
    stack = ApisStack(app, "Test")
    yield Template.from_stack(stack)


#: The handler of the Lambda authorizer of APIs with auth Custom (the runtime's).
AUTHORIZER = "common_runtime.authorizer.handler"


def test_every_function_runs_the_api_behind_the_web_adapter(template: Template) -> None:
    functions = template.find_resources("AWS::Lambda::Function")
    apis = [f for f in functions.values() if f["Properties"]["Handler"] != AUTHORIZER]
    assert apis
    for function in apis:
        properties = function["Properties"]
        assert properties["Handler"] == "run.sh"
        assert properties["TracingConfig"] == {"Mode": "Active"}
        assert properties["Runtime"].startswith("python3.")
        variables = properties["Environment"]["Variables"]
        assert variables["AWS_LAMBDA_EXEC_WRAPPER"] == "/opt/bootstrap"
        assert variables["AWS_LWA_PORT"] == "8000"
        assert variables["AWS_LWA_READINESS_CHECK_PATH"] == "/_lambda/health"
        assert variables["AWS_LWA_INVOKE_MODE"] in {"response_stream", "buffered"}
        layers = str(properties["Layers"])
        assert "LambdaAdapterLayer" in layers


def test_lambda_authorizers_run_the_runtimes_handler_without_the_adapter(
    template: Template,
) -> None:
    functions = template.find_resources("AWS::Lambda::Function")
    authorizers = [f for f in functions.values() if f["Properties"]["Handler"] == AUTHORIZER]
    rest = template.find_resources("AWS::ApiGateway::Authorizer").values()
    http = template.find_resources("AWS::ApiGatewayV2::Authorizer").values()
    lambda_authorizers = [
        *(a for a in rest if a["Properties"]["Type"] != "COGNITO_USER_POOLS"),
        *(a for a in http if a["Properties"]["AuthorizerType"] == "REQUEST"),
    ]
    # One function per API authenticating with its Lambda authorizer (auth Custom).
    assert len(authorizers) == len(lambda_authorizers)
    for function in authorizers:
        properties = function["Properties"]
        assert "Layers" not in properties
        assert properties["TracingConfig"] == {"Mode": "Active"}
        assert properties["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]


def test_functions_keep_their_logs_a_month(template: Template) -> None:
    template.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 30})


def test_api_url_is_an_output(template: Template) -> None:
    outputs = template.find_outputs("*")
    assert any(key.endswith("Url") or "Url" in key for key in outputs)


def test_stage_or_api_exists(template: Template) -> None:
    rest = template.find_resources("AWS::ApiGateway::RestApi")
    http = template.find_resources("AWS::ApiGatewayV2::Api")
    assert rest or http
    if rest:
        template.has_resource_properties(
            "AWS::ApiGateway::Method",
            {"Integration": Match.object_like({"ResponseTransferMode": "STREAM"})},
        )
        template.has_resource_properties("AWS::ApiGateway::Stage", {"TracingEnabled": True})


#: Without a region and account (the pseudo parameters' tokens), and with them, as the CDK CLI
#: gives them: acknowledgements name what cdk-nag finds either way.
ENVIRONMENTS = [None, Environment(account="123456789012", region="eu-west-1")]


@pytest.mark.parametrize("env", ENVIRONMENTS, ids=["tokens", "eu-west-1"])
def test_cdk_nag_finds_nothing_unacknowledged(tmp_path: Path, env: Environment | None) -> None:
    app = App(outdir=str(tmp_path))
    ApisStack(app, "Nag", env=env)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    app.synth()  # raises when a rule fails
