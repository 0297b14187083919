"""Large APIs fit CloudFormation's quotas, or stop at synth saying how to make them fit.

The constructs are built directly from synthetic operations (the integrations class is the one
the build step writes for them) and synthesized with cdk-nag, in the region and account a
user's CDK CLI gives the app:

- a shared REST router serving 100 operations keeps its Lambda resource policy small (Lambda
  caps it at 20 KB; an invoke permission per method would pass it at around a dozen operations);
- an isolated REST or HTTP API of 100 operations (a path each, the costliest shape) synthesizes
  into stacks CloudFormation accepts: at most 500 resources and 1 MB each, the functions in
  nested stacks;
- an API past what one stack holds stops the synth with a message naming the limit and the
  way out.

Resources per operation (REST, a path of two segments each), measured with this app:
before nested stacks, 10 in the API's stack (function, version, role, policy, log group,
invoke permission; method, CORS preflight method, two path resources): synth failed from 49
operations. Now 4 in the API's stack and 5 in a nested stack (no policy resource): 100
operations make 417 resources in the API's stack and 4 nested stacks of about 125.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import ProjectCache, tool_env

#: Lambda's limit on the size of a function's resource policy.
POLICY_LIMIT = 20 * 1024
#: Same answers as other CDK tests, so the installed project is shared.
ANSWERS = {
    "compute_type": "ServerlessApiGatewayRestApi",
    "integration_pattern": "isolated",
    "auth": "IAM",
    "iac_provider": "CDK",
}

SCALE_APP = """
import collections
import json
import sys
from pathlib import Path

from aws_cdk import App, Environment, Stack, Validations
from aws_cdk import aws_lambda as lambda_
from cdk_nag import AwsSolutionsChecks

from common_constructs.core.api import http_api, rest_api
from common_constructs.core.api.bundle import ServiceBundle
from common_constructs.core.api.integrations import DefaultIntegration
from common_constructs.core.api.operations import Operation
from common_constructs.core.api.operations_module import ConstructSettings, operations_module

work, kind, pattern, count, paths = Path(sys.argv[1]), *sys.argv[2:4], int(sys.argv[4]), sys.argv[5]
methods = ("GET", "POST", "PUT", "DELETE")
if paths == "shared":  # four operations per path
    path_of = lambda i: f"/resource-{i // 4}/{{item_id}}"
else:  # a path of its own per operation: the most resources per operation
    path_of = lambda i: f"/resource-{i}/{{item_id}}"
operations = {
    f"operation_{i:03}": Operation(path=path_of(i), method=methods[i % 4]) for i in range(count)
}
settings = ConstructSettings(
    gateway="REST" if kind == "rest" else "HTTP", auth="IAM", integration_pattern="isolated"
)
(work / "scale_operations.py").write_text(
    operations_module("scale-test", "scale_test", operations, settings)
)
(work / "code").mkdir()
(work / "code" / "run.sh").write_text("#!/bin/sh\\n")
sys.path.insert(0, str(work))
import scale_operations  # noqa: E402

app = App(outdir=str(work / "cdk.out"))
stack = Stack(app, "Scale", env=Environment(account="123456789012", region="eu-west-1"))
module = rest_api if kind == "rest" else http_api
bundle = ServiceBundle(
    code_path=work / "code",
    runtime=lambda_.Runtime.PYTHON_3_13,
    architecture=lambda_.Architecture.ARM_64,
    service_name="scale-test",
    invoke_mode="response_stream" if kind == "rest" else "buffered",
)
router = DefaultIntegration if pattern == "shared" else None
builder = scale_operations.ScaleTestApiIntegrationBuilder[router](
    stack,
    "Integrations",
    operations=scale_operations.OPERATIONS,
    pattern=pattern,
    bundle=bundle,
    integrate=module.lambda_integration,
    assemble=scale_operations.ScaleTestApiIntegrations,
)
(module.RestApi if kind == "rest" else module.HttpApi)(
    stack,
    "Api",
    api_name="scale-test",
    operations=scale_operations.OPERATIONS,
    integrations=builder.build(),
    auth="IAM",
)
Validations.of(app).add_plugins(AwsSolutionsChecks(app))
app.synth()
stacks = {}
for path in sorted((work / "cdk.out").glob("*.template.json")):
    template = json.loads(path.read_text())
    stacks[path.name] = {
        "bytes": path.stat().st_size,
        "types": collections.Counter(r["Type"] for r in template["Resources"].values()),
    }
print(json.dumps(stacks))
"""
#: CloudFormation's quotas on a stack: resources, and the size of a template read from S3.
MAX_RESOURCES = 500
MAX_TEMPLATE_BYTES = 1_000_000


def synth_scale_app(
    project: Path, work: Path, kind: str, pattern: str, count: int, paths: str
) -> subprocess.CompletedProcess[str]:
    """Synthesize an API of ``count`` synthetic operations; the command's result."""
    app = work / "scale_app.py"
    app.write_text(SCALE_APP)
    return subprocess.run(
        ["uv", "run", "--no-sync", "python", str(app), str(work), kind, pattern, str(count),
         paths],
        cwd=project, env=tool_env(), capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip


def stacks_of(result: subprocess.CompletedProcess[str]) -> dict[str, dict[str, Any]]:
    """Each synthesized template's size and resource counts by type, from the app's output."""
    assert result.returncode == 0, result.stderr[-6000:]
    stacks: dict[str, dict[str, Any]] = json.loads(result.stdout.strip().splitlines()[-1])
    return stacks


def deployed_statement(permission: dict[str, object]) -> str:
    """The resource policy statement a permission becomes, with realistic identifiers."""
    # Long names on purpose: the region, account, API id and function ARN of a real deploy.
    function = "arn:aws:lambda:ap-southeast-2:123456789012:function:" + "f" * 64 + ":12"
    source = "arn:aws:execute-api:ap-southeast-2:123456789012:a1b2c3d4e5/*/*/*"
    return json.dumps(
        {
            "Sid": "S" * 100,
            "Effect": "Allow",
            "Principal": {"Service": permission["Principal"]},
            "Action": permission["Action"],
            "Resource": function,
            "Condition": {"ArnLike": {"AWS:SourceArn": source}},
        }
    )


@pytest.mark.slow
def test_a_shared_rest_router_with_100_operations_stays_far_under_the_policy_limit(
    projects: ProjectCache, tmp_path: Path
) -> None:
    project = projects.synced(**ANSWERS)
    result = synth_scale_app(project, tmp_path, "rest", "shared", 100, "shared")
    (stack,) = stacks_of(result).values()
    types = stack["types"]
    assert types["AWS::ApiGateway::Method"] - 25 == 100  # and a CORS preflight per path
    assert types["AWS::Lambda::Function"] == 1
    template = json.loads((tmp_path / "cdk.out" / "Scale.template.json").read_text())
    permissions = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Permission"
    ]
    size = sum(len(deployed_statement(p)) for p in permissions)
    print(f"100 operations: {len(permissions)} invoke permission(s), about {size} bytes of policy")
    assert len(permissions) == 1
    assert size < POLICY_LIMIT / 20


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["rest", "http"])
def test_an_isolated_api_with_100_operations_fits_cloudformation_quotas(
    kind: str, projects: ProjectCache, tmp_path: Path
) -> None:
    project = projects.synced(**ANSWERS)
    stacks = stacks_of(synth_scale_app(project, tmp_path, kind, "isolated", 100, "distinct"))
    for name, stack in stacks.items():
        count = sum(stack["types"].values())
        print(f"{kind}, 100 isolated operations: {name}: {count} resources, {stack['bytes']} B")
        assert count <= MAX_RESOURCES, name
        assert stack["bytes"] <= MAX_TEMPLATE_BYTES, name
    api_stack = stacks.pop("Scale.template.json")["types"]
    # The API's stack: API Gateway's resources; the functions are in nested stacks.
    assert api_stack["AWS::CloudFormation::Stack"] == len(stacks) > 1
    assert "AWS::Lambda::Function" not in api_stack
    assert "AWS::Lambda::Permission" not in api_stack
    routes = "AWS::ApiGateway::Method" if kind == "rest" else "AWS::ApiGatewayV2::Route"
    assert api_stack[routes] == (200 if kind == "rest" else 100)  # REST: and CORS preflights
    per_function = {"AWS::Lambda::Function", "AWS::Lambda::Version", "AWS::IAM::Role",
                    "AWS::Logs::LogGroup", "AWS::Lambda::Permission"}  # fmt: skip
    functions = 0
    for stack in stacks.values():
        assert set(stack["types"]) == per_function  # no policy resource per function
        assert len(set(stack["types"].values())) == 1  # as many of each as functions
        functions += stack["types"]["AWS::Lambda::Function"]
    assert functions == 100


@pytest.mark.slow
def test_an_api_past_what_a_stack_holds_stops_the_synth_naming_the_limit_and_the_way_out(
    projects: ProjectCache, tmp_path: Path
) -> None:
    project = projects.synced(**ANSWERS)
    # The shared pattern keeps the synth quick: 170 operations of a path each still need about
    # 700 resources in the API's stack.
    result = synth_scale_app(project, tmp_path, "rest", "shared", 170, "distinct")
    assert result.returncode != 0
    assert "CloudFormation accepts at most 500 per stack" in result.stderr
    assert "The scale-test API has 170 operations" in result.stderr
    assert "another API" in result.stderr
