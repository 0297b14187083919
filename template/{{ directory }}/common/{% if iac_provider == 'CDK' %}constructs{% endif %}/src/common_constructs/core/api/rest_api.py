"""An API Gateway REST API whose operations stream their responses from Lambda."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, Literal, TypeVar

from aws_cdk import CfnOutput, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from common_constructs.core.api.utils import (
    MANAGED_POLICY,
    ApiIntegration,
    Operation,
    acknowledge,
    encrypted_access_logs,
    skip_checkov,
)

IntegrationsT = TypeVar("IntegrationsT")
#: The managed policy of API Gateway's account-level CloudWatch role.
CLOUDWATCH_ROLE_POLICY = "AmazonAPIGatewayPushToCloudWatchLogs"
Auth = Literal["IAM", "Cognito", "None"]


def lambda_integration(handler: lambda_.IFunction) -> apigw.LambdaIntegration:
    """A proxy integration that streams the function's response."""
    return apigw.LambdaIntegration(
        handler, response_transfer_mode=apigw.ResponseTransferMode.STREAM
    )


class RestApi(Construct, Generic[IntegrationsT]):
    """A REST API: one method per operation, access logs, tracing, throttling, WAF and CORS.

    Authentication is ``IAM`` (SigV4), ``Cognito`` (a user pool authorizer) or ``None``. CORS
    preflight requests (``OPTIONS``, never authenticated) are answered by the app itself, which
    allows the origins in its ``ALLOWED_ORIGINS`` (see ``restrict_cors_to``).
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
        web_acl: bool = True,
        throttling_rate_limit: float = 100,
        throttling_burst_limit: int = 200,
    ) -> None:
        super().__init__(scope, construct_id)
        self.integrations = integrations
        self._handlers = {i.handler for i in integration_map.values() if i.handler is not None}
        access_logs = encrypted_access_logs(self)
        self.api = apigw.RestApi(
            self,
            "Api",
            rest_api_name=api_name,
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.DESTROY,
            deploy_options=apigw.StageOptions(
                tracing_enabled=True,
                metrics_enabled=True,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                throttling_rate_limit=throttling_rate_limit,
                throttling_burst_limit=throttling_burst_limit,
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
        if auth == "Cognito":
            if user_pool is None:
                raise ValueError("A Cognito API needs its user pool (user_pool=...).")
            self.authorizer = apigw.CognitoUserPoolsAuthorizer(
                self, "Authorizer", cognito_user_pools=[user_pool]
            )
        defaults: dict[str, Any] = {"authorization_type": apigw.AuthorizationType.NONE}
        if auth == "IAM":
            defaults = {"authorization_type": apigw.AuthorizationType.IAM}
        elif auth == "Cognito":
            defaults = {
                "authorization_type": apigw.AuthorizationType.COGNITO,
                "authorizer": self.authorizer,
            }
        preflight: dict[str, apigw.Integration] = {}
        for name, operation in operations.items():
            resource = self.api.root.resource_for_path(operation.path)
            entry = integration_map[name]
            options = {**defaults, **dict(entry.options)}
            method = resource.add_method(operation.method, entry.integration, **options)
            if options["authorization_type"] == apigw.AuthorizationType.NONE:
                skip_checkov(method, "CKV_AWS_59", "The API is public by choice (auth None).")
            if entry.handler is not None:
                preflight.setdefault(resource.path, entry.integration)
        for path, integration in preflight.items():
            method = self.api.root.resource_for_path(path).add_method(
                "OPTIONS", integration, authorization_type=apigw.AuthorizationType.NONE
            )
            acknowledge(
                method,
                "AwsSolutions-APIG4",
                "CORS preflight requests carry no credentials; the app answers them.",
            )
            acknowledge(
                method,
                "AwsSolutions-COG4",
                "CORS preflight requests carry no credentials; the app answers them.",
            )
        if web_acl:
            self._add_web_acl()
        else:
            acknowledge(self, "AwsSolutions-APIG3", "The WAF was turned off (web_acl=False).")
        acknowledge(
            self.api,
            "AwsSolutions-APIG2",
            "FastAPI validates every request against the operation's schema.",
        )
        acknowledge(
            self.api,
            f"AwsSolutions-IAM4[Policy::{MANAGED_POLICY}/service-role/{CLOUDWATCH_ROLE_POLICY}]",
            "API Gateway's account role needs AmazonAPIGatewayPushToCloudWatchLogs.",
        )
        if auth != "Cognito":
            acknowledge(
                self.api,
                "AwsSolutions-COG4",
                "The API authorizes with IAM or is public by choice, not with Cognito.",
            )
        if auth == "None":
            acknowledge(self.api, "AwsSolutions-APIG4", "The API is public by choice (auth None).")
        CfnOutput(self, "Url", value=self.api.url, description=f"URL of the {api_name} API")

    def _add_web_acl(self) -> None:
        """AWS managed rules (common threats, known bad inputs) in front of the stage."""
        rules = [
            wafv2.CfnWebACL.RuleProperty(
                name=name,
                priority=priority,
                override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                        vendor_name="AWS", name=name
                    )
                ),
                visibility_config=wafv2.CfnWebACL.VisibilityConfigProperty(
                    cloud_watch_metrics_enabled=True,
                    metric_name=name,
                    sampled_requests_enabled=True,
                ),
            )
            for priority, name in enumerate(
                ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet")
            )
        ]
        acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            scope="REGIONAL",
            visibility_config=wafv2.CfnWebACL.VisibilityConfigProperty(
                cloud_watch_metrics_enabled=True,
                metric_name=f"{self.node.id}WebAcl",
                sampled_requests_enabled=True,
            ),
            rules=rules,
        )
        wafv2.CfnWebACLAssociation(
            self,
            "WebAclAssociation",
            resource_arn=self.api.deployment_stage.stage_arn,
            web_acl_arn=acl.attr_arn,
        )

    @property
    def url(self) -> str:
        """The URL of the API's stage."""
        return self.api.url

    def restrict_cors_to(self, *origins: str) -> None:
        """Allow browsers of these origins only (sets ``ALLOWED_ORIGINS`` on the functions)."""
        for handler in self._handlers:
            handler.add_environment("ALLOWED_ORIGINS", ",".join(origins))

    def grant_invoke_access(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` call every operation of the API (``execute-api:Invoke``)."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["execute-api:Invoke"],
            resource_arns=[self.api.arn_for_execute_api("*", "/*", "*")],
        )
