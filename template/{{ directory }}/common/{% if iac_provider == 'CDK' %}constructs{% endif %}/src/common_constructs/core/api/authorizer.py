"""The Lambda authorizer of an API that authenticates with ``Custom``: JWTs of one issuer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from common_constructs.core.api.bundle import ServiceBundle
from common_constructs.core.api.functions import (
    RUNTIME_REASON,
    XRAY_REASON,
    execution_statements,
)
from common_constructs.core.nag import acknowledge

#: The authorizer's code, in the API's bundle (the repository's runtime package).
HANDLER = "common_runtime.authorizer.handler"
#: How long API Gateway reuses an answer for the same Authorization header.
RESULTS_CACHE_TTL = Duration.minutes(5)


@dataclass(frozen=True, kw_only=True)
class CustomAuthorizer:
    """The API's Lambda authorizer: the bundle holding its code, and whose tokens it accepts.

    ``issuer`` is the URL tokens name in ``iss``; ``audience`` the values one of which they
    name in ``aud`` (or ``client_id``); ``jwks_url`` the issuer's key set when it is not at
    ``<issuer>/.well-known/jwks.json``. Without an issuer and an audience the authorizer
    refuses every request.
    """

    bundle: ServiceBundle
    issuer: str | None = None
    audience: Sequence[str] = ()
    jwks_url: str | None = None

    def environment(self) -> dict[str, str]:
        """The function's variables: its service name and the issuer's settings it has."""
        settings = {
            "JWT_ISSUER": self.issuer or "",
            "JWT_AUDIENCE": ",".join(self.audience),
            "JWKS_URL": self.jwks_url or "",
        }
        return {
            "POWERTOOLS_SERVICE_NAME": f"{self.bundle.service_name}-authorizer",
            **{name: value for name, value in settings.items() if value},
        }


def create_authorizer_function(
    scope: Construct, construct_id: str, authorizer: CustomAuthorizer
) -> lambda_.Function:
    """The authorizer's Lambda function: the API's bundle, run by the Python runtime itself
    (no web adapter), writing to its own log group only."""
    bundle = authorizer.bundle
    log_group = logs.LogGroup(
        scope,
        f"{construct_id}Logs",
        retention=logs.RetentionDays.ONE_MONTH,
        removal_policy=RemovalPolicy.DESTROY,
    )
    role = iam.Role(
        scope,
        f"{construct_id}Role",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        inline_policies={
            "Execution": iam.PolicyDocument(
                statements=execution_statements(log_group, tracing=True, vpc=False)
            )
        },
    )
    acknowledge(role, "AwsSolutions-IAM5[Resource::*]", XRAY_REASON)
    function = lambda_.Function(
        scope,
        construct_id,
        runtime=bundle.runtime,
        architecture=bundle.architecture,
        handler=HANDLER,
        code=lambda_.Code.from_asset(str(bundle.code_path)),
        environment=authorizer.environment(),
        log_group=log_group,
        role=role,
        memory_size=512,
        timeout=Duration.seconds(10),
    )
    cfn_function = function.node.default_child
    assert isinstance(cfn_function, lambda_.CfnFunction)
    cfn_function.tracing_config = lambda_.CfnFunction.TracingConfigProperty(mode="Active")
    acknowledge(function, "AwsSolutions-L1", RUNTIME_REASON)
    return function
