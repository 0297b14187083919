"""An API's Lambda code, its runtime, and the layers that serve and trace it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from aws_cdk import Aws
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

#: Account that publishes the Lambda Web Adapter layers in the `aws` partition.
LAMBDA_WEB_ADAPTER_ACCOUNT = "753240598075"
#: Layer version used unless the CDK context sets `lambdaWebAdapterLayerVersion` (cdk.json).
DEFAULT_LAMBDA_WEB_ADAPTER_VERSION = 25
#: Account that publishes the AWS Distro for OpenTelemetry (ADOT) layers.
ADOT_ACCOUNT = "901920570463"
#: ADOT collector layer version (as in its name, then its number) unless the CDK context sets
#: `otelCollectorLayerVersion`; take the newest from the ADOT Lambda documentation.
DEFAULT_OTEL_COLLECTOR_VERSION = "0-72-0:1"


@dataclass(frozen=True)
class ServiceBundle:
    """The API's Lambda code and the runtime it targets."""

    code_path: Path
    runtime: lambda_.Runtime
    architecture: lambda_.Architecture
    service_name: str
    invoke_mode: Literal["response_stream", "buffered"]
    #: How the app traces: with the OpenTelemetry SDK, exporting to the collector layer on
    #: localhost:4318, or with the X-Ray SDK, sending to Lambda's X-Ray daemon.
    tracing: Literal["opentelemetry", "xray-sdk"] = "xray-sdk"


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


def otel_collector_layer(
    scope: Construct, construct_id: str, architecture: lambda_.Architecture
) -> lambda_.ILayerVersion:
    """The ADOT collector extension: OTLP/HTTP on localhost:4318 in, AWS X-Ray out."""
    version = scope.node.try_get_context("otelCollectorLayerVersion")
    arch = "arm64" if architecture.name == lambda_.Architecture.ARM_64.name else "amd64"
    arn = (
        f"arn:{Aws.PARTITION}:lambda:{Aws.REGION}:{ADOT_ACCOUNT}:layer:aws-otel-collector-"
        f"{arch}-ver-{version or DEFAULT_OTEL_COLLECTOR_VERSION}"
    )
    return lambda_.LayerVersion.from_layer_version_arn(scope, construct_id, arn)
