"""An API Gateway REST API whose operations stream their responses from Lambda."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypedDict, TypeVar, Unpack

from aws_cdk import CfnOutput, RemovalPolicy, Size
from aws_cdk import aws_apigateway as apigw
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
    lazy,
)
from common_constructs.core.api.integrations import (
    ApiIntegrations,
    DefaultIntegration,
    allow_api_gateway,
)
from common_constructs.core.api.limits import check_stack_quota
from common_constructs.core.api.operations import Operation
from common_constructs.core.api.waf import add_web_acl
from common_constructs.core.nag import (
    acknowledge,
    acknowledge_invoke_grant,
    acknowledge_managed_policy,
    skip_checkov,
)

IntegrationsT = TypeVar("IntegrationsT", bound=ApiIntegrations[Any])
Auth = Literal["IAM", "Cognito", "Custom", "None"]
#: Half the account's default quotas (10,000 requests/s, burst 5,000) per region: a normal
#: production load passes, and one API cannot take every other API's share.
DEFAULT_RATE_LIMIT = 5000
DEFAULT_BURST_LIMIT = 2500
#: The keyword arguments of ``aws_apigateway.MethodOptions``.
METHOD_OPTIONS = tuple(inspect.signature(apigw.MethodOptions.__init__).parameters)[1:]


@dataclass(frozen=True, kw_only=True)
class RestOverride:
    """An operation of a REST API served by an integration of your choice, not by Lambda.

    ``options`` override the operation's method options (such as ``authorizer``; giving one
    replaces the API's own authorization for that method). Subclass it as a frozen,
    keyword-only dataclass to carry more, such as the bucket of an S3 integration.
    """

    integration: apigw.Integration
    options: apigw.MethodOptions | None = None


class RestApiOptions(TypedDict, total=False):
    """Settings of a REST API construct; every one has a default."""

    #: AWS managed WAF rules in front of the stage (default True).
    web_acl: bool
    #: With the WAF: block request bodies larger than this (default: no limit).
    max_request_body_size: Size
    #: Steady requests per second of the stage (default 5,000).
    throttling_rate_limit: float
    #: Requests the stage accepts at once above the steady rate (default 2,500).
    throttling_burst_limit: int
    #: Create the account's API Gateway logging role, kept when the stack goes (default True).
    cloud_watch_role: bool


class StreamingLambdaIntegration(apigw.AwsIntegration):
    """A Lambda proxy integration that streams the function's response (``function``).

    Unlike ``aws_apigateway.LambdaIntegration``, it adds no invoke permission where the method
    is: the API adds one per function, beside the function (in its nested stack, if any), so
    that the API's stack holds no resource per function.
    """

    def __init__(self, function: lambda_.IFunction) -> None:
        super().__init__(
            service="lambda",
            proxy=True,
            path=f"2021-11-15/functions/{function.function_arn}/response-streaming-invocations",
            options=apigw.IntegrationOptions(
                response_transfer_mode=apigw.ResponseTransferMode.STREAM
            ),
        )
        self.function = function


def lambda_integration(handler: lambda_.IFunction) -> StreamingLambdaIntegration:
    """A proxy integration that streams the function's response.

    One invoke permission per function and API (not per method), added by the API: a function
    serving many operations keeps its resource policy small.
    """
    return StreamingLambdaIntegration(handler)


def method_options(options: apigw.MethodOptions | None) -> dict[str, Any]:
    """The options that ``options`` sets, as keyword arguments of ``add_method``."""
    if options is None:
        return {}
    if not isinstance(options, apigw.MethodOptions):
        raise TypeError(
            f"options must be aws_apigateway.MethodOptions(...), not {type(options).__name__}."
        )
    values = {name: getattr(options, name) for name in METHOD_OPTIONS}
    return {name: value for name, value in values.items() if value is not None}


class RestApi(Construct, Generic[IntegrationsT]):
    """A REST API: one method per operation, access logs, tracing, throttling, WAF and CORS.

    Authentication is ``IAM`` (SigV4), ``Cognito`` (a user pool authorizer), ``Custom`` (a
    Lambda ``TOKEN`` authorizer verifying JWTs, ``custom_authorizer``) or ``None``. API
    Gateway answers CORS preflight requests itself (no Lambda invocation) for the origins that
    ``restrict_cors_to`` names (every origin until then), and its own 4xx and 5xx responses
    carry the CORS headers too.
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
        custom_authorizer: CustomAuthorizer | None = None,
        **options: Unpack[RestApiOptions],
    ) -> None:
        super().__init__(scope, construct_id)
        if not isinstance(integrations, ApiIntegrations):
            raise TypeError(
                f"integrations must be the API's integrations class ({api_name}: "
                "<Api>.default_integrations(scope).build(), or <Api>Integrations(...) with "
                f"every operation), not {type(integrations).__name__}."
            )
        self.integrations = integrations
        self._origins: tuple[str, ...] = (ANY_ORIGIN,)
        entries = integrations.by_operation()
        self._handlers = {e.handler for e in entries.values() if isinstance(e, DefaultIntegration)}
        cloud_watch_role = options.get("cloud_watch_role", True)
        access_logs = encrypted_access_logs(self)
        self.api = apigw.RestApi(
            self,
            "Api",
            rest_api_name=api_name,
            cloud_watch_role=cloud_watch_role,
            # The role is the account's and region's, shared by every REST API there:
            # destroying this stack must not take it from the others.
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN if cloud_watch_role else None,
            deploy_options=apigw.StageOptions(
                tracing_enabled=True,
                metrics_enabled=True,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                throttling_rate_limit=options.get("throttling_rate_limit", DEFAULT_RATE_LIMIT),
                throttling_burst_limit=options.get("throttling_burst_limit", DEFAULT_BURST_LIMIT),
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=True,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
            ),
        )
        self.authorizer: apigw.IAuthorizer | None = None
        defaults: dict[str, Any] = {"authorization_type": apigw.AuthorizationType.NONE}
        if auth == "IAM":
            defaults = {"authorization_type": apigw.AuthorizationType.IAM}
        elif auth == "Cognito":
            if user_pool is None:
                raise ValueError("A Cognito API needs its user pool (user_pool=...).")
            self.authorizer = apigw.CognitoUserPoolsAuthorizer(
                self, "Authorizer", cognito_user_pools=[user_pool]
            )
            defaults = {
                "authorization_type": apigw.AuthorizationType.COGNITO,
                "authorizer": self.authorizer,
            }
        #: The Lambda authorizer's function (auth ``Custom``).
        self.authorizer_function: lambda_.Function | None = None
        if auth == "Custom":
            if custom_authorizer is None:
                raise ValueError("A Custom API needs its authorizer (custom_authorizer=...).")
            self.authorizer_function = create_authorizer_function(
                self, "AuthorizerFunction", custom_authorizer
            )
            # TOKEN: the Authorization header alone; API Gateway answers 401 without it.
            self.authorizer = apigw.TokenAuthorizer(
                self,
                "Authorizer",
                handler=self.authorizer_function,
                identity_source=apigw.IdentitySource.header("Authorization"),
                results_cache_ttl=RESULTS_CACHE_TTL,
            )
            defaults = {
                "authorization_type": apigw.AuthorizationType.CUSTOM,
                "authorizer": self.authorizer,
            }
        methods_by_path: dict[str, list[str]] = {}
        for name, operation in operations.items():
            integration, overrides = self._integration(name, entries[name])
            # An override's authorizer or authorization type replaces the API's, whole.
            auth_overridden = {"authorizer", "authorization_type"} & set(overrides)
            method_kwargs = {**({} if auth_overridden else defaults), **overrides}
            resource = self.api.root.resource_for_path(operation.path)
            method = resource.add_method(operation.method, integration, **method_kwargs)
            if method_kwargs.get("authorization_type", apigw.AuthorizationType.NONE) == (
                apigw.AuthorizationType.NONE
            ) and not method_kwargs.get("authorizer"):
                skip_checkov(method, "CKV_AWS_59", "The API is public by choice (auth None).")
            methods_by_path.setdefault(resource.path, []).append(operation.method)
        invoked = {
            id(entry.integration): entry.integration.function
            for entry in entries.values()
            if isinstance(entry, DefaultIntegration)
            and isinstance(entry.integration, StreamingLambdaIntegration)
        }
        for function in invoked.values():
            allow_api_gateway(self, function, self.api.arn_for_execute_api("*", "/*", "*"))
        for path, methods in methods_by_path.items():
            self._add_preflight(self.api.root.resource_for_path(path), methods)
        self._add_cors_to_gateway_responses()
        if options.get("web_acl", True):
            add_web_acl(
                self, self.api.deployment_stage.stage_arn, options.get("max_request_body_size")
            )
        else:
            acknowledge(self, "AwsSolutions-APIG3", "The WAF was turned off (web_acl=False).")
        acknowledge(
            self.api,
            "AwsSolutions-APIG2",
            "FastAPI validates every request against the operation's schema.",
        )
        acknowledge_managed_policy(
            self.api,
            "service-role/AmazonAPIGatewayPushToCloudWatchLogs",
            "API Gateway's account role needs AmazonAPIGatewayPushToCloudWatchLogs.",
        )
        if auth != "Cognito":
            acknowledge(
                self.api,
                "AwsSolutions-COG4",
                "The API authorizes with IAM or a Lambda authorizer, or is public by choice.",
            )
        if auth == "None":
            acknowledge(self.api, "AwsSolutions-APIG4", "The API is public by choice (auth None).")
        CfnOutput(self, "Url", value=self.api.url, description=f"URL of the {api_name} API")
        check_stack_quota(self, api_name, len(operations), self._handlers)

    @staticmethod
    def _integration(name: str, entry: object) -> tuple[apigw.Integration, dict[str, Any]]:
        """The integration of an operation and the method options its override sets."""
        if isinstance(entry, DefaultIntegration):
            if not isinstance(entry.integration, apigw.Integration):
                raise TypeError(f"{name}: a REST API needs a REST integration.")
            return entry.integration, {}
        if isinstance(entry, RestOverride):
            return entry.integration, method_options(entry.options)
        raise TypeError(
            f"{name}: a REST API operation takes RestOverride(integration=..., "
            f"options=aws_apigateway.MethodOptions(...)) or a subclass, not {type(entry).__name__}."
        )

    def _add_preflight(self, resource: apigw.IResource, methods: list[str]) -> None:
        """Answer CORS preflight requests of ``resource`` at API Gateway (a mock integration)."""
        header = "method.response.header"
        integration = apigw.MockIntegration(
            request_templates={"application/json": '{"statusCode": 204}'},
            passthrough_behavior=apigw.PassthroughBehavior.NEVER,
            integration_responses=[
                apigw.IntegrationResponse(
                    status_code="204",
                    response_parameters={
                        f"{header}.Access-Control-Allow-Headers": f"'{','.join(ALLOWED_HEADERS)}'",
                        f"{header}.Access-Control-Allow-Methods": f"'{','.join(methods)},OPTIONS'",
                        f"{header}.Access-Control-Allow-Origin": lazy(self._fixed_origin),
                        f"{header}.Vary": "'Origin'",
                    },
                    # With several origins, echo the request's when it is one of them.
                    response_templates={"application/json": lazy(self._echo_origin_template)},
                )
            ],
        )
        headers = ("Allow-Headers", "Allow-Methods", "Allow-Origin")
        method = resource.add_method(
            "OPTIONS",
            integration,
            authorization_type=apigw.AuthorizationType.NONE,
            method_responses=[
                apigw.MethodResponse(
                    status_code="204",
                    response_parameters={
                        **{f"{header}.Access-Control-{name}": True for name in headers},
                        f"{header}.Vary": True,
                    },
                )
            ],
        )
        for rule in ("AwsSolutions-APIG4", "AwsSolutions-COG4"):
            acknowledge(
                method, rule, "CORS preflight requests carry no credentials; API Gateway answers."
            )

    def _add_cors_to_gateway_responses(self) -> None:
        """API Gateway's own errors (4xx such as 403, 5xx) readable by the allowed origins."""
        headers = {
            "Access-Control-Allow-Origin": lazy(self._fixed_origin),
            "Access-Control-Expose-Headers": f"'{','.join(EXPOSED_HEADERS)}'",
            "Vary": "'Origin'",
        }
        for kind in (apigw.ResponseType.DEFAULT_4_XX, apigw.ResponseType.DEFAULT_5_XX):
            self.api.add_gateway_response(
                f"Gateway{kind.response_type}", type=kind, response_headers=headers
            )

    def _fixed_origin(self) -> str:
        """The Access-Control-Allow-Origin value without a request: ``*`` or the first origin."""
        return f"'{self._origins[0]}'"

    def _echo_origin_template(self) -> str:
        """A mapping template that allows the request's origin when it is an allowed one."""
        if len(self._origins) == 1:
            return "## One fixed origin: the response parameter says it."
        matches = " || ".join(f'$origin == "{origin}"' for origin in self._origins)
        return (
            '#set($origin = $input.params().header.get("Origin"))\n'
            f"#if({matches})\n"
            "#set($context.responseOverride.header.Access-Control-Allow-Origin = $origin)\n"
            "#end\n"
        )

    @property
    def url(self) -> str:
        """The URL of the API's stage."""
        return self.api.url

    def restrict_cors_to(self, *origins: str) -> None:
        """Allow browsers of these origins only: API Gateway's answers and the app's.

        Sets the origins of the preflight answers and error responses, and ``ALLOWED_ORIGINS``
        of the API's functions.
        """
        check_origins(origins)
        self._origins = origins
        for handler in self._handlers:
            handler.add_environment("ALLOWED_ORIGINS", ",".join(origins))

    def grant_invoke_access(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` call every operation of the API (``execute-api:Invoke``)."""
        resource = self.api.arn_for_execute_api("*", "/*", "*")
        grant = iam.Grant.add_to_principal(
            grantee=grantee, actions=["execute-api:Invoke"], resource_arns=[resource]
        )
        acknowledge_invoke_grant(grantee, resource)
        return grant
