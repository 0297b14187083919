"""A shared REST router serving 100 operations keeps its Lambda resource policy small.

Lambda caps a function's resource policy at 20 KB; an invoke permission per method would pass
it at around a dozen operations. The construct is built directly from 100 synthetic operations
(the integrations class is the one the build step writes for them), synthesized with cdk-nag,
and its `AWS::Lambda::Permission` resources are measured.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ProjectCache, run

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
import json
import sys
from pathlib import Path

from aws_cdk import App, Stack, Validations
from aws_cdk import aws_lambda as lambda_
from cdk_nag import AwsSolutionsChecks

from common_constructs.core.api.bundle import ServiceBundle
from common_constructs.core.api.integrations import DefaultIntegration
from common_constructs.core.api.operations import Operation
from common_constructs.core.api.operations_module import operations_module
from common_constructs.core.api.rest_api import RestApi, lambda_integration

work = Path(sys.argv[1])
methods = ("GET", "POST", "PUT", "DELETE")
operations = {
    f"operation_{i:03}": Operation(path=f"/resource-{i // 4}/{{item_id}}", method=methods[i % 4])
    for i in range(100)
}
(work / "scale_operations.py").write_text(operations_module("scale-test", operations))
(work / "code").mkdir()
(work / "code" / "run.sh").write_text("#!/bin/sh\\n")
sys.path.insert(0, str(work))
import scale_operations  # noqa: E402

app = App(outdir=str(work / "cdk.out"))
stack = Stack(app, "Scale")
bundle = ServiceBundle(
    code_path=work / "code",
    runtime=lambda_.Runtime.PYTHON_3_13,
    architecture=lambda_.Architecture.ARM_64,
    service_name="scale-test",
    invoke_mode="response_stream",
)
builder = scale_operations.ScaleTestApiIntegrationBuilder[DefaultIntegration](
    stack,
    "Integrations",
    operations=scale_operations.OPERATIONS,
    pattern="shared",
    bundle=bundle,
    integrate=lambda_integration,
    assemble=scale_operations.ScaleTestApiIntegrations,
)
RestApi(
    stack,
    "Api",
    api_name="scale-test",
    operations=scale_operations.OPERATIONS,
    integrations=builder.build(),
    auth="IAM",
)
Validations.of(app).add_plugins(AwsSolutionsChecks(app))
app.synth()
"""


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
    app = tmp_path / "scale_app.py"
    app.write_text(SCALE_APP)
    run(["uv", "run", "--no-sync", "python", str(app), str(tmp_path)], project)
    template = json.loads((tmp_path / "cdk.out" / "Scale.template.json").read_text())
    resources = template["Resources"].values()
    methods = [r for r in resources if r["Type"] == "AWS::ApiGateway::Method"]
    assert sum(1 for m in methods if m["Properties"]["HttpMethod"] != "OPTIONS") == 100
    assert sum(1 for r in resources if r["Type"] == "AWS::Lambda::Function") == 1
    permissions = [r["Properties"] for r in resources if r["Type"] == "AWS::Lambda::Permission"]
    size = sum(len(deployed_statement(p)) for p in permissions)
    print(f"100 operations: {len(permissions)} invoke permission(s), about {size} bytes of policy")
    assert len(permissions) == 1
    assert size < POLICY_LIMIT / 20
