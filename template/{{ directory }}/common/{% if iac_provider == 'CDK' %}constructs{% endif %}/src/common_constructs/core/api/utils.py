"""What the API constructs share: operations, integrations, the builder, Lambda functions."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Literal, Self, TypeVar

from aws_cdk import (
    Acknowledgment,
    Annotations,
    Aws,
    CfnResource,
    Duration,
    RemovalPolicy,
    Validations,
)
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct, IConstruct

#: Account that publishes the Lambda Web Adapter layers in the `aws` partition.
LAMBDA_WEB_ADAPTER_ACCOUNT = "753240598075"
#: Layer version used unless the CDK context sets `lambdaWebAdapterLayerVersion` (cdk.json).
DEFAULT_LAMBDA_WEB_ADAPTER_VERSION = 25

#: How cdk-nag names AWS managed policies in its findings.
MANAGED_POLICY = "arn:<AWS::Partition>:iam::aws:policy"

Pattern = Literal["isolated", "shared"]
OperationT = TypeVar("OperationT", bound=str)
IntegrationsT = TypeVar("IntegrationsT")


@dataclass(frozen=True)
class Operation:
    """One operation of an API, as its OpenAPI document declares it."""

    path: str
    method: str


@dataclass
class ApiIntegration:
    """How API Gateway serves one operation.

    ``integration`` is an API Gateway integration (``aws_apigateway.Integration`` for a REST
    API, ``aws_apigatewayv2.HttpRouteIntegration`` for an HTTP API). ``options`` are method
    options (REST: ``aws_apigateway.MethodOptions`` keyword arguments such as ``authorizer``;
    HTTP: ``authorizer``). ``handler`` is the Lambda function of default integrations; overrides
    have none. Subclass it to carry more, for example the bucket of an S3 integration.
    """

    integration: Any
    options: Mapping[str, Any] = field(default_factory=dict)
    handler: lambda_.Function | None = None


@dataclass(frozen=True)
class ServiceBundle:
    """The API's Lambda code and the runtime it targets."""

    code_path: Path
    runtime: lambda_.Runtime
    architecture: lambda_.Architecture
    service_name: str
    invoke_mode: Literal["response_stream", "buffered"]


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge a cdk-nag AWS Solutions finding on ``scope`` and its children, with its reason.

    ``rule`` is the rule id, with the finding when the rule reports one, as cdk-nag prints it:
    ``AwsSolutions-IAM5[Resource::*]``.
    """
    Validations.of(scope).acknowledge(Acknowledgment(id=f"AwsSolutions::{rule}", reason=reason))


def encrypted_access_logs(scope: Construct) -> logs.LogGroup:
    """The API's access log group, encrypted with a KMS key of its own (rotated yearly)."""
    key = kms.Key(scope, "AccessLogKey", enable_key_rotation=True)
    key.grant_encrypt_decrypt(iam.ServicePrincipal(f"logs.{Aws.REGION}.amazonaws.com"))
    return logs.LogGroup(
        scope,
        "AccessLogs",
        encryption_key=key,
        retention=logs.RetentionDays.THREE_MONTHS,
        removal_policy=RemovalPolicy.DESTROY,
    )


def skip_checkov(construct: IConstruct, check: str, reason: str) -> None:
    """Skip a checkov check on the CloudFormation resource of ``construct``, with its reason."""
    resource = construct.node.default_child
    if not isinstance(resource, CfnResource):
        raise TypeError(f"{construct.node.path} has no CloudFormation resource of its own")
    settings = resource.get_metadata("checkov") or {}
    skips = [*settings.get("skip", []), {"id": check, "comment": reason}]
    resource.add_metadata("checkov", {**settings, "skip": skips})


def read_operations(openapi_document: Path) -> dict[str, Operation]:
    """The operations of an OpenAPI document, by operationId."""
    document = json.loads(openapi_document.read_text(encoding="utf-8"))
    methods = {"get", "put", "post", "delete", "options", "head", "patch"}
    return {
        details["operationId"]: Operation(path=path, method=method.upper())
        for path, item in document.get("paths", {}).items()
        for method, details in item.items()
        if method in methods
    }


def check_operations(
    api_name: str, module: str, declared: Mapping[Any, Operation], service_root: Path
) -> None:
    """Fail the synth when the operations or the bundle no longer match the API's code.

    The routes are read from the app itself, so a route added to ``main.py`` without running
    the build step cannot be deployed silently without its integration.
    """
    hint = "run `uv run python -m common_constructs.build` (the CDK app's build step does)"
    importlib.import_module(f"{module}.main")  # registers the routes
    app = importlib.import_module(f"{module}.init").app
    methods = {"get", "put", "post", "delete", "options", "head", "patch"}
    current = {
        details["operationId"]: Operation(path=path, method=method.upper())
        for path, item in app.openapi().get("paths", {}).items()
        for method, details in item.items()
        if method in methods
    }
    if current != dict(declared):
        added = sorted(set(current) - set(declared))
        removed = sorted(set(declared) - set(current))
        raise ValueError(
            f"The operations of {api_name} changed (added {added}, removed {removed} or "
            f"moved): {hint} to regenerate them."
        )
    bundle = service_root / "dist" / "lambda" / module
    for source in sorted((service_root / module).rglob("*.py")):
        built = bundle / source.relative_to(service_root / module)
        if not built.is_file() or built.read_bytes() != source.read_bytes():
            raise ValueError(f"The Lambda bundle of {api_name} is missing or stale: {hint}.")


def lambda_web_adapter_layer(
    scope: Construct, construct_id: str, architecture: lambda_.Architecture
) -> lambda_.ILayerVersion:
    """The Lambda Web Adapter layer for the stack's partition, region and ``architecture``."""
    version = scope.node.try_get_context("lambdaWebAdapterLayerVersion")
    arm = architecture.name == lambda_.Architecture.ARM_64.name
    name = "LambdaAdapterLayerArm64" if arm else "LambdaAdapterLayerX86"
    arn = (
        f"arn:{Aws.PARTITION}:lambda:{Aws.REGION}:{LAMBDA_WEB_ADAPTER_ACCOUNT}:layer:{name}:"
        f"{version or DEFAULT_LAMBDA_WEB_ADAPTER_VERSION}"
    )
    return lambda_.LayerVersion.from_layer_version_arn(scope, construct_id, arn)


def create_function(
    scope: Construct,
    construct_id: str,
    bundle: ServiceBundle,
    layer: lambda_.ILayerVersion,
    **props: Any,
) -> lambda_.Function:
    """A Lambda function serving the API through Lambda Web Adapter.

    ``props`` override any default (``aws_lambda.Function`` keyword arguments, e.g. ``vpc``,
    ``memory_size``); ``environment`` is merged into the defaults.
    """
    environment = {
        "AWS_LAMBDA_EXEC_WRAPPER": "/opt/bootstrap",
        "AWS_LWA_INVOKE_MODE": bundle.invoke_mode,
        "PORT": "8000",
        "POWERTOOLS_SERVICE_NAME": bundle.service_name,
        "POWERTOOLS_METRICS_NAMESPACE": bundle.service_name,
        **props.pop("environment", {}),
    }
    log_group = props.pop(
        "log_group",
        None,
    ) or logs.LogGroup(
        scope,
        f"{construct_id}Logs",
        retention=logs.RetentionDays.ONE_MONTH,
        removal_policy=RemovalPolicy.DESTROY,
    )
    defaults: dict[str, Any] = {
        "runtime": bundle.runtime,
        "architecture": bundle.architecture,
        "handler": "run.sh",
        "code": lambda_.Code.from_asset(str(bundle.code_path)),
        "layers": [layer],
        "memory_size": 1024,
        "timeout": Duration.seconds(30),
        "tracing": lambda_.Tracing.ACTIVE,
        "snap_start": lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS,
    }
    function = lambda_.Function(
        scope,
        construct_id,
        **{**defaults, **props, "environment": environment, "log_group": log_group},
    )
    acknowledge(
        function,
        f"AwsSolutions-IAM4[Policy::{MANAGED_POLICY}/service-role/AWSLambdaBasicExecutionRole]",
        "AWSLambdaBasicExecutionRole only lets the function write its own CloudWatch logs.",
    )
    acknowledge(
        function,
        "AwsSolutions-IAM5[Resource::*]",
        "X-Ray's PutTraceSegments and PutTelemetryRecords support no resource-level permissions.",
    )
    Annotations.of(function).acknowledge_warning(
        "@aws-cdk/aws-lambda:snapStartRequirePublish",
        "Integrations invoke the function's current published version.",
    )
    acknowledge(
        function,
        "AwsSolutions-L1",
        "The runtime is the Python version chosen for the API and its bundle's wheels.",
    )
    return function


class IntegrationBuilder(Generic[OperationT, IntegrationsT]):
    """Builds the integrations of an API's operations: Lambda functions unless overridden.

    ``isolated`` creates one function per operation; ``shared`` one router function that
    every operation not overridden uses.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        operations: Mapping[OperationT, Operation],
        pattern: Pattern,
        bundle: ServiceBundle,
        integrate: Callable[[lambda_.IFunction], Any],
        assemble: Callable[
            [dict[OperationT, ApiIntegration], ApiIntegration | None], IntegrationsT
        ],
    ) -> None:
        self._scope = scope
        self._construct_id = construct_id
        self._operations = operations
        self._pattern = pattern
        self._bundle = bundle
        self._integrate = integrate
        self._assemble = assemble
        self._default_options: dict[str, Any] = {}
        self._operation_options: dict[OperationT, dict[str, Any]] = {}
        self._overrides: dict[OperationT, ApiIntegration] = {}

    def with_pattern(self, pattern: Pattern) -> Self:
        """Choose ``isolated`` (a function per operation) or ``shared`` (one router)."""
        self._pattern = pattern
        return self

    def with_default_options(self, **function_props: Any) -> Self:
        """Options for every function, e.g. ``vpc=vpc`` (``aws_lambda.Function`` arguments)."""
        self._default_options.update(function_props)
        return self

    def with_operation_options(self, operation: OperationT, **function_props: Any) -> Self:
        """Options for one operation's function (isolated pattern)."""
        self._operation_options.setdefault(operation, {}).update(function_props)
        return self

    def with_overrides(self, overrides: Mapping[OperationT, ApiIntegration]) -> Self:
        """Replace the integration of some operations (they get no function)."""
        unknown = set(overrides) - set(self._operations)
        if unknown:
            raise ValueError(f"No such operations: {sorted(unknown)}")
        self._overrides.update(overrides)
        return self

    def build(self) -> IntegrationsT:
        """Create the functions and integrations."""
        scope = Construct(self._scope, self._construct_id)
        layer = lambda_web_adapter_layer(scope, "LambdaWebAdapter", self._bundle.architecture)
        integrations: dict[OperationT, ApiIntegration] = {}
        router: ApiIntegration | None = None
        if self._pattern == "shared" and set(self._operations) - set(self._overrides):
            handler = create_function(scope, "Router", self._bundle, layer, **self._default_options)
            router = ApiIntegration(
                integration=self._integrate(handler.current_version), handler=handler
            )
        for name in self._operations:
            if name in self._overrides:
                integrations[name] = self._overrides[name]
            elif router is not None:
                integrations[name] = router
            else:
                props = {**self._default_options, **self._operation_options.get(name, {})}
                handler = create_function(scope, _construct_id(name), self._bundle, layer, **props)
                integrations[name] = ApiIntegration(
                    integration=self._integrate(handler.current_version), handler=handler
                )
        return self._assemble(integrations, router)


def _construct_id(operation: str) -> str:
    """``get_item`` -> ``GetItem``."""
    return "".join(part[:1].upper() + part[1:] for part in operation.split("_"))
