"""Acknowledgements of cdk-nag findings and checkov skips, each with its reason."""

from __future__ import annotations

import json

from aws_cdk import Acknowledgment, CfnResource, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct, IConstruct


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge a cdk-nag AWS Solutions finding on ``scope`` and its children, with its reason.

    ``rule`` is the rule id, with the finding when the rule reports one, as cdk-nag prints it:
    ``AwsSolutions-IAM5[Resource::*]``.
    """
    Validations.of(scope).acknowledge(Acknowledgment(id=f"AwsSolutions::{rule}", reason=reason))


def finding_value(scope: IConstruct, value: object) -> str:
    """``value`` (an ARN, often with tokens) as cdk-nag names it in a finding on ``scope``.

    cdk-nag resolves the value in the stack of the resource it checks and flattens what
    CloudFormation references remain (``{"Ref": "Api"}`` -> ``<Api>``, ``AWS::Region`` ->
    ``<AWS::Region>``). Resolving it here, the same way, gives the finding of whatever region,
    account and partition the stack has: concrete values when the CDK CLI sets them, the
    pseudo parameters' tokens otherwise.
    """
    return _flatten(Stack.of(scope).resolve(value))


def _flatten(node: object) -> str:
    """cdk-nag's ``flattenCfnReference``: a resolved CloudFormation value as a flat string."""
    if node is None:
        return ""
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict):
        if node.get("Fn::Join"):
            delimiter, items = node["Fn::Join"]
            return str(delimiter).join(_flatten(item) for item in items)
        if node.get("Fn::Sub"):
            return _flatten(node["Fn::Sub"])
        if node.get("Fn::GetAtt"):
            resource, attribute = node["Fn::GetAtt"]
            return f"<{_flatten(resource)}.{_flatten(attribute)}>"
        if node.get("Fn::ImportValue"):
            return _flatten(node["Fn::ImportValue"])
        if node.get("Ref"):
            return f"<{_flatten(node['Ref'])}>"
    return json.dumps(node, separators=(",", ":"))


def acknowledge_managed_policy(scope: IConstruct, policy: str, reason: str) -> None:
    """Acknowledge cdk-nag's finding on an AWS managed ``policy`` (``service-role/...``)."""
    arn = iam.ManagedPolicy.from_aws_managed_policy_name(policy).managed_policy_arn
    acknowledge(scope, f"AwsSolutions-IAM4[Policy::{finding_value(scope, arn)}]", reason)


def skip_checkov(construct: IConstruct, check: str, reason: str) -> None:
    """Skip a checkov check on the CloudFormation resource of ``construct``, with its reason."""
    resource = construct.node.default_child
    if not isinstance(resource, CfnResource):
        raise TypeError(f"{construct.node.path} has no CloudFormation resource of its own")
    settings = resource.get_metadata("checkov") or {}
    skips = [*settings.get("skip", []), {"id": check, "comment": reason}]
    resource.add_metadata("checkov", {**settings, "skip": skips})


def acknowledge_invoke_grant(grantee: iam.IGrantable, resource_arn: str) -> None:
    """Acknowledge cdk-nag's wildcard finding on a grant to invoke every operation of an API.

    ``resource_arn`` is the grant's (``arn_for_execute_api("*", "/*", "*")``): every stage,
    method and path of this one API, which is what the grant is for.
    """
    target = grantee.grant_principal
    if not isinstance(target, Construct):
        return  # an account or service principal: no policy of this app to check
    acknowledge(
        target,
        f"AwsSolutions-IAM5[Resource::{finding_value(target, resource_arn)}]",
        "Invoking the API means calling any of its operations, on any stage.",
    )


def acknowledge_bucket_read(grantee: IConstruct, bucket: s3.IBucket, reason: str) -> None:
    """Acknowledge cdk-nag's wildcard findings on ``bucket.grant_read(grantee)``.

    ``grant_read`` allows ``s3:GetObject*``, ``s3:GetBucket*`` and ``s3:List*`` on every object
    of the bucket: cdk-nag reports each wildcard, on the grantee's policy.
    """
    findings = ["Action::s3:GetObject*", "Action::s3:GetBucket*", "Action::s3:List*"]
    findings.append(f"Resource::{finding_value(grantee, bucket.arn_for_objects('*'))}")
    for finding in findings:
        acknowledge(grantee, f"AwsSolutions-IAM5[{finding}]", reason)
