"""An API Gateway HTTP API in front of Lambda functions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, Literal, TypeVar

from aws_cdk import CfnOutput
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations_
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from common_constructs.core.api.utils import (
    ApiIntegration,
    Operation,
    acknowledge,
    encrypted_access_logs,
)

IntegrationsT = TypeVar("IntegrationsT")
Auth = Literal["IAM", "Cognito", "None"]

ACCESS_LOG_FORMAT = (
    '{"requestId":"$context.requestId","ip":"$context.identity.sourceIp",'
    '"requestTime":"$context.requestTime","httpMethod":"$context.httpMethod",'
    '"routeKey":"$context.routeKey","status":"$context.status",'
    '"protocol":"$context.protocol","responseLength":"$context.responseLength",'
    '"integrationLatency":"$context.integrationLatency"}'
)


#: Request headers browsers may send: SigV4, Cognito tokens, JSON bodies, correlation ids.
ALLOWED_HEADERS = [
    "authorization",
    "content-type",
    "x-amz-date",
    "x-amz-security-token",
    "x-correlation-id",
]


def lambda_integration(handler: lambda_.IFunction) -> integrations_.HttpLambdaIntegration:
    """A Lambda proxy integration (payload format 2.0)."""
    return integrations_.HttpLambdaIntegration(
        f"{handler.node.id}Integration",
        handler,
        payload_format_version=apigwv2.PayloadFormatVersion.VERSION_2_0,
    )


class HttpApi(Construct, Generic[IntegrationsT]):
    """An HTTP API: one route per operation, access logs and CORS.

    Authentication is ``IAM`` (SigV4), ``Cognito`` (a JWT authorizer of the user pool) or
    ``None``. API Gateway answers CORS preflight requests from the API's CORS configuration;
    ``restrict_cors_to`` narrows it and the app's ``ALLOWED_ORIGINS`` together.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        api_name: str,
        operations: Mapping[Any, Operation],
        integrations: IntegrationsT,
        integration_map: Mapping[Any, ApiIntegration],
        auth: Auth,
        user_pool: cognito.IUserPool | None = None,
        user_pool_client: cognito.IUserPoolClient | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.integrations = integrations
        self._handlers = {i.handler for i in integration_map.values() if i.handler is not None}
        authorizer: apigwv2.IHttpRouteAuthorizer
        if auth == "IAM":
            authorizer = authorizers.HttpIamAuthorizer()
        elif auth == "Cognito":
            if user_pool is None or user_pool_client is None:
                raise ValueError("A Cognito API needs user_pool=... and user_pool_client=....")
            authorizer = authorizers.HttpUserPoolAuthorizer(
                "Authorizer", user_pool, user_pool_clients=[user_pool_client]
            )
        else:
            authorizer = apigwv2.HttpNoneAuthorizer()
        self.api = apigwv2.HttpApi(
            self,
            "Api",
            api_name=api_name,
            cors_preflight=apigwv2.CorsPreflightOptions(
                allow_origins=["*"],
                allow_methods=[apigwv2.CorsHttpMethod.ANY],
                allow_headers=ALLOWED_HEADERS,
                expose_headers=["x-correlation-id"],
            ),
        )
        for name, operation in operations.items():
            entry = integration_map[name]
            options: dict[str, Any] = {"authorizer": authorizer, **dict(entry.options)}
            self.api.add_routes(
                path=operation.path,
                methods=[apigwv2.HttpMethod(operation.method)],
                integration=entry.integration,
                **options,
            )
        access_logs = encrypted_access_logs(self)
        stage = self.api.default_stage
        if stage is not None:
            cfn_stage = stage.node.default_child
            assert isinstance(cfn_stage, apigwv2.CfnStage)
            cfn_stage.access_log_settings = apigwv2.CfnStage.AccessLogSettingsProperty(
                destination_arn=access_logs.log_group_arn, format=ACCESS_LOG_FORMAT
            )
        if auth == "None":
            acknowledge(self.api, "AwsSolutions-APIG4", "The API is public by choice (auth None).")
        CfnOutput(self, "Url", value=self.url, description=f"URL of the {api_name} API")

    @property
    def url(self) -> str:
        """The URL of the API's default stage."""
        return self.api.api_endpoint + "/"

    def restrict_cors_to(self, *origins: str) -> None:
        """Allow browsers of these origins only: API Gateway's CORS and the app's."""
        cfn_api = self.api.node.default_child
        assert isinstance(cfn_api, apigwv2.CfnApi)
        cfn_api.add_property_override("CorsConfiguration.AllowOrigins", list(origins))
        for handler in self._handlers:
            handler.add_environment("ALLOWED_ORIGINS", ",".join(origins))

    def grant_invoke_access(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` call every route of the API (``execute-api:Invoke``)."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["execute-api:Invoke"],
            resource_arns=[self.api.arn_for_execute_api("*", "/*", "*")],
        )
