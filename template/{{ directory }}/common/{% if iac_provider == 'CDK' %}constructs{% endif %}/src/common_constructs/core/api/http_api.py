"""An API Gateway HTTP API in front of Lambda functions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypedDict, TypeVar, Unpack

from aws_cdk import CfnOutput
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from common_constructs.core.api.access_logs import encrypted_access_logs
from common_constructs.core.api.authorizer import (
    RESULTS_CACHE_TTL,
    CustomAuthorizer,
    create_authorizer_function,
)
from common_constructs.core.api.cors import (
    ALLOWED_HEADERS,
    ANY_ORIGIN,
    EXPOSED_HEADERS,
    check_origins,
)
from common_constructs.core.api.integrations import (
    ApiIntegrations,
    DefaultIntegration,
    allow_api_gateway,
)
from common_constructs.core.api.limits import check_stack_quota
from common_constructs.core.api.operations import Operation
from common_constructs.core.api.rest_api import DEFAULT_BURST_LIMIT, DEFAULT_RATE_LIMIT
from common_constructs.core.nag import acknowledge, acknowledge_invoke_grant

IntegrationsT = TypeVar("IntegrationsT", bound=ApiIntegrations[Any])
Auth = Literal["IAM", "Cognito", "Custom", "None"]

ACCESS_LOG_FORMAT = (
    '{"requestId":"$context.requestId","ip":"$context.identity.sourceIp",'
    '"requestTime":"$context.requestTime","httpMethod":"$context.httpMethod",'
    '"routeKey":"$context.routeKey","status":"$context.status",'
    '"protocol":"$context.protocol","responseLength":"$context.responseLength",'
    '"integrationLatency":"$context.integrationLatency"}'
)


@dataclass(frozen=True, kw_only=True)
class HttpRouteOptions:
    """Route options of an HTTP API operation: its authorizer, and the scopes it requires."""

    authorizer: apigwv2.IHttpRouteAuthorizer | None = None
    authorization_scopes: Sequence[str] | None = None


@dataclass(frozen=True, kw_only=True)
class HttpOverride:
    """An operation of an HTTP API served by an integration of your choice, not by Lambda.

    ``options`` override the route's (an ``authorizer`` replaces the API's own). Subclass it
    as a frozen, keyword-only dataclass to carry more.
    """

    integration: apigwv2.HttpRouteIntegration
    options: HttpRouteOptions | None = None


class HttpApiOptions(TypedDict, total=False):
    """Settings of an HTTP API construct; every one has a default."""

    #: Steady requests per second of the default stage (default 5,000).
    throttling_rate_limit: float
    #: Requests the stage accepts at once above the steady rate (default 2,500).
    throttling_burst_limit: int


class LambdaProxyIntegration(apigwv2.HttpRouteIntegration):
    """A Lambda proxy integration (payload format 2.0) of ``function``.

    Unlike ``HttpLambdaIntegration``, it adds no invoke permission where the route is: the API
    adds one per function, beside the function (in its nested stack, if any), so that the
    API's stack holds no resource per function.
    """

    def __init__(self, function: lambda_.IFunction) -> None:
        super().__init__(f"{function.node.id}Integration")
        self.function = function

    # jsii calls it with the bind options as one argument; type checkers see keyword arguments.
    def bind(self, *args: Any, **kwargs: Any) -> apigwv2.HttpRouteIntegrationConfig:
        """The integration's settings: the function's ARN, proxied with payload format 2.0."""
        del args, kwargs  # the same for every route
        return apigwv2.HttpRouteIntegrationConfig(
            type=apigwv2.HttpIntegrationType.AWS_PROXY,
            uri=self.function.function_arn,
            payload_format_version=apigwv2.PayloadFormatVersion.VERSION_2_0,
        )


def lambda_integration(handler: lambda_.IFunction) -> LambdaProxyIntegration:
    """A Lambda proxy integration (payload format 2.0), one invoke permission per function."""
    return LambdaProxyIntegration(handler)


class HttpApi(Construct, Generic[IntegrationsT]):
    """An HTTP API: one route per operation, access logs, throttling and CORS.

    Authentication is ``IAM`` (SigV4), ``Cognito`` (a JWT authorizer of the user pool),
    ``Custom`` (a Lambda authorizer verifying JWTs, simple responses, ``custom_authorizer``)
    or ``None``. API Gateway answers CORS preflight requests from the API's CORS configuration;
    ``restrict_cors_to`` narrows it and the app's ``ALLOWED_ORIGINS`` together.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        api_name: str,
        operations: Mapping[str, Operation],
        integrations: IntegrationsT,
        auth: Auth,
        user_pool: cognito.IUserPool | None = None,
        user_pool_client: cognito.IUserPoolClient | None = None,
        custom_authorizer: CustomAuthorizer | None = None,
        **options: Unpack[HttpApiOptions],
    ) -> None:
        super().__init__(scope, construct_id)
        if not isinstance(integrations, ApiIntegrations):
            raise TypeError(
                f"integrations must be the API's integrations class ({api_name}: "
                "<Api>.default_integrations(scope).build(), or <Api>Integrations(...) with "
                f"every operation), not {type(integrations).__name__}."
            )
        self.integrations = integrations
        entries = integrations.by_operation()
        self._handlers = {e.handler for e in entries.values() if isinstance(e, DefaultIntegration)}
        authorizer: apigwv2.IHttpRouteAuthorizer
        #: The Lambda authorizer's function (auth ``Custom``).
        self.authorizer_function: lambda_.Function | None = None
        if auth == "IAM":
            authorizer = authorizers.HttpIamAuthorizer()
        elif auth == "Cognito":
            if user_pool is None or user_pool_client is None:
                raise ValueError("A Cognito API needs user_pool=... and user_pool_client=....")
            authorizer = authorizers.HttpUserPoolAuthorizer(
                "Authorizer", user_pool, user_pool_clients=[user_pool_client]
            )
        elif auth == "Custom":
            if custom_authorizer is None:
                raise ValueError("A Custom API needs its authorizer (custom_authorizer=...).")
            self.authorizer_function = create_authorizer_function(
                self, "AuthorizerFunction", custom_authorizer
            )
            # Simple responses ({"isAuthorized": ...}), hence payload format 2.0.
            authorizer = authorizers.HttpLambdaAuthorizer(
                "Authorizer",
                self.authorizer_function,
                response_types=[authorizers.HttpLambdaResponseType.SIMPLE],
                identity_source=["$request.header.Authorization"],
                results_cache_ttl=RESULTS_CACHE_TTL,
            )
        else:
            authorizer = apigwv2.HttpNoneAuthorizer()
        self.api = apigwv2.HttpApi(
            self,
            "Api",
            api_name=api_name,
            cors_preflight=apigwv2.CorsPreflightOptions(
                allow_origins=[ANY_ORIGIN],
                allow_methods=[apigwv2.CorsHttpMethod.ANY],
                allow_headers=list(ALLOWED_HEADERS),
                expose_headers=list(EXPOSED_HEADERS),
            ),
        )
        for name, operation in operations.items():
            integration, route_options = self._integration(name, entries[name])
            self.api.add_routes(
                path=operation.path,
                methods=[apigwv2.HttpMethod(operation.method)],
                integration=integration,
                authorizer=route_options.authorizer or authorizer,
                authorization_scopes=route_options.authorization_scopes,
            )
        invoked = {
            id(entry.integration): entry.integration.function
            for entry in entries.values()
            if isinstance(entry, DefaultIntegration)
            and isinstance(entry.integration, LambdaProxyIntegration)
        }
        for function in invoked.values():
            allow_api_gateway(self, function, self.api.arn_for_execute_api("*", "/*", "*"))
        access_logs = encrypted_access_logs(self)
        stage = self.api.default_stage
        if stage is not None:
            cfn_stage = stage.node.default_child
            assert isinstance(cfn_stage, apigwv2.CfnStage)
            cfn_stage.access_log_settings = apigwv2.CfnStage.AccessLogSettingsProperty(
                destination_arn=access_logs.log_group_arn, format=ACCESS_LOG_FORMAT
            )
            cfn_stage.default_route_settings = apigwv2.CfnStage.RouteSettingsProperty(
                throttling_rate_limit=options.get("throttling_rate_limit", DEFAULT_RATE_LIMIT),
                throttling_burst_limit=options.get("throttling_burst_limit", DEFAULT_BURST_LIMIT),
            )
        if auth == "None":
            acknowledge(self.api, "AwsSolutions-APIG4", "The API is public by choice (auth None).")
        CfnOutput(self, "Url", value=self.url, description=f"URL of the {api_name} API")
        check_stack_quota(self, api_name, len(operations), self._handlers)

    @staticmethod
    def _integration(
        name: str, entry: object
    ) -> tuple[apigwv2.HttpRouteIntegration, HttpRouteOptions]:
        """The integration of an operation and the route options its override sets."""
        if isinstance(entry, DefaultIntegration):
            if not isinstance(entry.integration, apigwv2.HttpRouteIntegration):
                raise TypeError(f"{name}: an HTTP API needs an HTTP route integration.")
            return entry.integration, HttpRouteOptions()
        if isinstance(entry, HttpOverride):
            options = entry.options or HttpRouteOptions()
            if not isinstance(options, HttpRouteOptions):
                raise TypeError(
                    f"{name}: options must be HttpRouteOptions(authorizer=...), "
                    f"not {type(options).__name__}."
                )
            return entry.integration, options
        raise TypeError(
            f"{name}: an HTTP API operation takes HttpOverride(integration=..., "
            f"options=HttpRouteOptions(...)) or a subclass, not {type(entry).__name__}."
        )

    @property
    def url(self) -> str:
        """The URL of the API's default stage."""
        return self.api.api_endpoint + "/"

    def restrict_cors_to(self, *origins: str) -> None:
        """Allow browsers of these origins only: API Gateway's CORS and the app's."""
        check_origins(origins)
        cfn_api = self.api.node.default_child
        assert isinstance(cfn_api, apigwv2.CfnApi)
        cfn_api.add_property_override("CorsConfiguration.AllowOrigins", list(origins))
        for handler in self._handlers:
            handler.add_environment("ALLOWED_ORIGINS", ",".join(origins))

    def grant_invoke_access(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` call every route of the API (``execute-api:Invoke``)."""
        resource = self.api.arn_for_execute_api("*", "/*", "*")
        grant = iam.Grant.add_to_principal(
            grantee=grantee, actions=["execute-api:Invoke"], resource_arns=[resource]
        )
        acknowledge_invoke_grant(grantee, resource)
        return grant
