"""The web ACL in front of a REST API stage: AWS managed rules, body size, logging."""

from __future__ import annotations

from aws_cdk import ArnFormat, Names, RemovalPolicy, Size, Stack
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

#: Request headers whose values never reach the WAF's logs: credentials (SigV4 signatures,
#: Cognito tokens, session cookies) would otherwise be kept there for as long as the logs.
REDACTED_HEADERS = ("authorization", "cookie")
#: The common rule set's rule that blocks request bodies over 8 KB: counted, not blocking, so
#: uploads and large JSON documents reach the API unless a body size limit is chosen.
BODY_SIZE_RULE = "SizeRestrictions_BODY"


def _visibility(metric_name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    """CloudWatch metrics and sampled requests of a rule or of the web ACL."""
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=metric_name, sampled_requests_enabled=True
    )


def _managed_rules(priority: int, name: str) -> wafv2.CfnWebACL.RuleProperty:
    """An AWS managed rule group; the common rule set only counts large bodies."""
    overrides = None
    if name == "AWSManagedRulesCommonRuleSet":
        overrides = [
            wafv2.CfnWebACL.RuleActionOverrideProperty(
                name=BODY_SIZE_RULE,
                action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={}),
            )
        ]
    return wafv2.CfnWebACL.RuleProperty(
        name=name,
        priority=priority,
        override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
        statement=wafv2.CfnWebACL.StatementProperty(
            managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                vendor_name="AWS", name=name, rule_action_overrides=overrides
            )
        ),
        visibility_config=_visibility(name),
    )


def _body_size_rule(priority: int, limit: Size) -> wafv2.CfnWebACL.RuleProperty:
    """Block request bodies over ``limit``; bodies beyond what WAF inspects count as over."""
    return wafv2.CfnWebACL.RuleProperty(
        name="MaxRequestBodySize",
        priority=priority,
        action=wafv2.CfnWebACL.RuleActionProperty(block={}),
        statement=wafv2.CfnWebACL.StatementProperty(
            size_constraint_statement=wafv2.CfnWebACL.SizeConstraintStatementProperty(
                comparison_operator="GT",
                size=limit.to_bytes(),
                field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(
                    body=wafv2.CfnWebACL.BodyProperty(oversize_handling="MATCH")
                ),
                text_transformations=[
                    wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")
                ],
            )
        ),
        visibility_config=_visibility("MaxRequestBodySize"),
    )


def add_web_acl(scope: Construct, resource_arn: str, max_request_body_size: Size | None) -> None:
    """A regional web ACL on ``resource_arn`` (a stage), logging to ``aws-waf-logs-...``.

    The logs keep no credentials: the ``REDACTED_HEADERS`` are redacted.
    """
    names = ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet")
    rules = [_managed_rules(priority, name) for priority, name in enumerate(names)]
    if max_request_body_size is not None:
        rules.append(_body_size_rule(len(rules), max_request_body_size))
    acl = wafv2.CfnWebACL(
        scope,
        "WebAcl",
        default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
        scope="REGIONAL",
        visibility_config=_visibility(f"{scope.node.id}WebAcl"),
        rules=rules,
    )
    wafv2.CfnWebACLAssociation(
        scope, "WebAclAssociation", resource_arn=resource_arn, web_acl_arn=acl.attr_arn
    )
    # WAF only logs to log groups whose name starts with aws-waf-logs-.
    log_group = logs.LogGroup(
        scope,
        "WafLogs",
        log_group_name=f"aws-waf-logs-{Names.unique_id(scope)}"[:512],
        retention=logs.RetentionDays.THREE_MONTHS,
        removal_policy=RemovalPolicy.DESTROY,
    )
    # WAF wants the log group's ARN without the ":*" suffix of log_group_arn.
    log_group_arn = Stack.of(scope).format_arn(
        service="logs",
        resource="log-group",
        resource_name=log_group.log_group_name,
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )
    wafv2.CfnLoggingConfiguration(
        scope,
        "WafLogging",
        log_destination_configs=[log_group_arn],
        resource_arn=acl.attr_arn,
        redacted_fields=[
            wafv2.CfnLoggingConfiguration.FieldToMatchProperty(single_header={"Name": header})
            for header in REDACTED_HEADERS
        ],
    )
