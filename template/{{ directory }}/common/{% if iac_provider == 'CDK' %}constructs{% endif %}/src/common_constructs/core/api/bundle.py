"""An API's Lambda code, its runtime, and the layer that serves it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from common_constructs.core.facts import lambda_web_adapter_layer_arn
from common_toolchain.settings import Api, select


@dataclass(frozen=True)
class ServiceBundle:
    """The API's Lambda code and the runtime it targets."""

    code_path: Path
    runtime: lambda_.Runtime
    architecture: lambda_.Architecture
    service_name: str
    invoke_mode: Literal["response_stream", "buffered"]
    #: How the app traces: with the OpenTelemetry SDK or the X-Ray SDK, either sending to the
    #: X-Ray endpoint Lambda gives the function (``AWS_XRAY_DAEMON_ADDRESS``); no layer needed.
    tracing: Literal["opentelemetry", "xray-sdk"] = "xray-sdk"

    @classmethod
    def of(cls, api_name: str) -> ServiceBundle:
        """The bundle of the workspace's API ``api_name``, as its settings (``[tool.api]`` in
        its pyproject.toml) record it: its folder, Python version, architecture, gateway (a
        REST API streams responses) and tracing."""
        api = _settings(api_name)
        return cls(
            code_path=api.dist / "lambda",
            # The runtime's constant: it knows what the runtime supports (SnapStart).
            runtime=getattr(lambda_.Runtime, f"PYTHON_{api.python_version.replace('.', '_')}"),
            architecture=lambda_.Architecture.ARM_64
            if api.architecture == "arm64"
            else lambda_.Architecture.X86_64,
            service_name=api.name,
            invoke_mode="response_stream" if api.gateway == "REST" else "buffered",
            tracing="opentelemetry" if api.tracing == "opentelemetry" else "xray-sdk",
        )

    @property
    def service_root(self) -> Path:
        """The API's folder."""
        return self.code_path.parents[1]


@cache
def _settings(api_name: str) -> Api:
    """The API's settings, read from the workspace once per API in a process (a construct asks
    for its bundle more than once; ``cdk synth`` runs the app in a process of its own)."""
    (api,) = select([api_name])
    return api


def lambda_web_adapter_layer(
    scope: Construct, construct_id: str, architecture: lambda_.Architecture
) -> lambda_.ILayerVersion:
    """The Lambda Web Adapter layer for the stack's partition, Region and ``architecture``.

    Its version is aws-facts.json's unless the CDK context sets
    ``lambdaWebAdapterLayerVersion`` (``-c lambdaWebAdapterLayerVersion=31``).
    """
    version = scope.node.try_get_context("lambdaWebAdapterLayerVersion")
    arn = lambda_web_adapter_layer_arn(scope, architecture, int(version) if version else None)
    return lambda_.LayerVersion.from_layer_version_arn(scope, construct_id, arn)
