"""The AWS values the constructs pin, read from the repository's ``aws-facts.json``.

One table for CDK and Terraform alike (``<directory>/common/aws-facts.json``), each value with
the documentation it comes from and the date it was checked. What the CDK itself carries (the
Lambda runtimes, ``aws_lambda.Runtime``) is taken from the CDK instead.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any, Literal

from aws_cdk import Stack, Token
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

#: ``<directory>/common/aws-facts.json``, beside this package's project folder.
FACTS_PATH = Path(__file__).resolve().parents[4] / "aws-facts.json"


@cache
def facts() -> dict[str, Any]:
    """Every fact's value, by name."""
    table = json.loads(FACTS_PATH.read_text(encoding="utf-8"))
    return {name: fact for name, fact in table.items() if not name.startswith("_")}


def value(name: str) -> Any:
    """The value of the fact ``name``."""
    return facts()[name]["value"]


def _architecture(architecture: lambda_.Architecture) -> str:
    return "arm64" if architecture.name == lambda_.Architecture.ARM_64.name else "x86_64"


def lambda_web_adapter_layer_arn(
    scope: Construct, architecture: lambda_.Architecture, version: int | None = None
) -> str:
    """The ARN of the Lambda Web Adapter layer for the stack's Region and ``architecture``.

    With a concrete Region (``env=`` of the stack), the partition's own publisher is used and
    an architecture the partition has no layer for is refused. In an environment-agnostic stack
    the Region is only known at deploy time: the commercial partition's layer is used.
    """
    adapter = value("lambda_web_adapter")
    arch = _architecture(architecture)
    name = adapter["layer_names"][arch]
    number = version or adapter["layer_version"]
    stack = Stack.of(scope)
    region, partition = stack.region, "aws"
    account = adapter["layer_accounts"]["aws"]
    if not Token.is_unresolved(region):
        partition = "aws-cn" if region.startswith("cn-") else "aws"
        if region.startswith("us-gov-"):
            partition = "aws-us-gov"
        if arch not in adapter["partitions"].get(partition, ()):
            raise ValueError(
                f"Lambda Web Adapter publishes no {arch} layer in {region} ({partition}); see "
                f"aws-facts.json (lambda_web_adapter). Choose another architecture, or pass "
                f"your own layer with `layers=` and build it from the adapter's releases."
            )
        account = adapter["layer_accounts"].get(region, account)
    return f"arn:{partition}:lambda:{region}:{account}:layer:{name}:{number}"


def adapter_environment(invoke_mode: Literal["response_stream", "buffered"]) -> dict[str, str]:
    """The environment the adapter and the runtime need, by the adapter's ``AWS_LWA_`` names."""
    settings = value("lambda_web_adapter_settings")
    return {
        **value("adapter_environment"),
        settings["invoke_mode"]: invoke_mode,
    }
