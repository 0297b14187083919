"""The Lambda functions that serve an API, and the options users may set on them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypedDict, Unpack

from aws_cdk import Annotations, Duration, RemovalPolicy, Size
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from common_constructs.core.api.bundle import ServiceBundle
from common_constructs.core.facts import adapter_environment
from common_constructs.core.nag import acknowledge

#: What Lambda needs to place a function's network interfaces in a VPC: the EC2 actions of
#: AWSLambdaVPCAccessExecutionRole, without that policy's logs permissions on every log group.
VPC_ACTIONS = (
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
)
#: Why the X-Ray actions are allowed on every resource.
XRAY_REASON = (
    "X-Ray's PutTraceSegments and PutTelemetryRecords support no resource-level permissions."
)
#: Why the network interface actions are allowed on every resource.
VPC_REASON = (
    "In a VPC, Lambda manages the function's network interfaces in subnets chosen at deploy "
    "time: ec2:Describe* support no resource-level permissions, and Lambda's documentation "
    "grants the other actions on every resource, as AWSLambdaVPCAccessExecutionRole does."
)
#: Why the functions' runtime is not the newest Python: it is the one their bundle targets.
RUNTIME_REASON = "The runtime is the Python version chosen for the API and its bundle's wheels."
#: What X-Ray's active tracing needs (the actions support no resource-level permissions).
XRAY_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")
#: The ``TracingConfig`` mode of each ``tracing`` option that sends traces.
TRACING_MODES: dict[object, str] = {
    lambda_.Tracing.ACTIVE: "Active",
    lambda_.Tracing.PASS_THROUGH: "PassThrough",
}


class FunctionOptions(TypedDict, total=False):
    """What may be set on an API's Lambda functions: ``aws_lambda.Function`` keyword arguments.

    The code, handler, runtime and architecture come from the API's bundle. ``environment`` is
    merged into the variables the service needs; a misspelt option is a type error.
    """

    allow_all_outbound: bool
    allow_public_subnet: bool
    application_log_level_v2: lambda_.ApplicationLogLevel
    current_version_options: lambda_.VersionOptions
    dead_letter_queue: sqs.IQueue
    description: str
    environment: Mapping[str, str]
    environment_encryption: kms.IKey
    ephemeral_storage_size: Size
    filesystem: lambda_.FileSystem
    function_name: str
    initial_policy: Sequence[iam.PolicyStatement]
    insights_version: lambda_.LambdaInsightsVersion
    layers: Sequence[lambda_.ILayerVersion]
    log_group: logs.ILogGroup
    memory_size: int
    params_and_secrets: lambda_.ParamsAndSecretsLayerVersion
    reserved_concurrent_executions: int
    role: iam.IRole
    security_groups: Sequence[ec2.ISecurityGroup]
    snap_start: lambda_.SnapStartConf
    system_log_level_v2: lambda_.SystemLogLevel
    timeout: Duration
    tracing: lambda_.Tracing
    vpc: ec2.IVpc
    vpc_subnets: ec2.SubnetSelection


def create_function(
    scope: Construct,
    construct_id: str,
    bundle: ServiceBundle,
    layer: lambda_.ILayerVersion,
    **options: Unpack[FunctionOptions],
) -> lambda_.Function:
    """A Lambda function serving the API through Lambda Web Adapter.

    ``options`` override any default; ``layers`` are added after the adapter's.
    """
    environment = {
        "POWERTOOLS_SERVICE_NAME": bundle.service_name,
        "POWERTOOLS_METRICS_NAMESPACE": bundle.service_name,
        **options.pop("environment", {}),
        # What the adapter needs to start run.sh, reach uvicorn, check it is ready and run the
        # SnapStart hooks (aws-facts.json): not overridable.
        **adapter_environment(bundle.invoke_mode),
    }
    log_group = options.pop("log_group", None) or logs.LogGroup(
        scope,
        f"{construct_id}Logs",
        retention=logs.RetentionDays.ONE_MONTH,
        removal_policy=RemovalPolicy.DESTROY,
    )
    # Traces need no layer: with active tracing, Lambda's X-Ray endpoint takes them over UDP.
    layers = [layer, *options.pop("layers", [])]
    role = options.pop("role", None)
    props: dict[str, Any] = {
        "memory_size": 1024,
        "timeout": Duration.seconds(30),
        "tracing": lambda_.Tracing.ACTIVE,
        "snap_start": lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS,
        **options,
    }
    # Tracing is set on the function's resource and its permissions in the role's own policy,
    # so that the role needs no separate policy resource until statements are added to it.
    tracing = TRACING_MODES.get(props.pop("tracing", None))
    statements = execution_statements(log_group, tracing=tracing is not None, vpc="vpc" in options)
    if role is None:
        role = iam.Role(
            scope,
            f"{construct_id}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            inline_policies={"Execution": iam.PolicyDocument(statements=statements)},
        )
    else:
        for statement in statements:
            role.add_to_principal_policy(statement)
    function = lambda_.Function(
        scope,
        construct_id,
        runtime=bundle.runtime,
        architecture=bundle.architecture,
        handler="run.sh",
        code=lambda_.Code.from_asset(str(bundle.code_path)),
        layers=layers,
        environment=environment,
        log_group=log_group,
        role=role,
        **props,
    )
    if tracing is not None:
        cfn_function = function.node.default_child
        assert isinstance(cfn_function, lambda_.CfnFunction)
        cfn_function.tracing_config = lambda_.CfnFunction.TracingConfigProperty(mode=tracing)
    reasons = [*([XRAY_REASON] if tracing else []), *([VPC_REASON] if "vpc" in options else [])]
    if reasons and isinstance(role, Construct):
        acknowledge(role, "AwsSolutions-IAM5[Resource::*]", " ".join(reasons))
    Annotations.of(function).acknowledge_warning(
        "@aws-cdk/aws-lambda:snapStartRequirePublish",
        "Integrations invoke the function's current published version.",
    )
    acknowledge(function, "AwsSolutions-L1", RUNTIME_REASON)
    return function


def execution_statements(
    log_group: logs.ILogGroup, *, tracing: bool, vpc: bool
) -> list[iam.PolicyStatement]:
    """What a function's role allows: its own log group only, X-Ray and its VPC if it uses them.

    No ``AWSLambdaBasicExecutionRole`` (or ``AWSLambdaVPCAccessExecutionRole``): both allow
    writing to every log group of the account.
    """
    statements = [
        iam.PolicyStatement(
            actions=["logs:CreateLogStream", "logs:PutLogEvents"],
            # The group's ARN ends with ":*": its log streams.
            resources=[log_group.log_group_arn],
        )
    ]
    if tracing:
        statements.append(iam.PolicyStatement(actions=list(XRAY_ACTIONS), resources=["*"]))
    if vpc:
        statements.append(iam.PolicyStatement(actions=list(VPC_ACTIONS), resources=["*"]))
    return statements
