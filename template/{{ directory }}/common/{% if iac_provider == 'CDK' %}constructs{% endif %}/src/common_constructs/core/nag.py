"""Acknowledgements of cdk-nag findings and checkov skips, each with its reason."""

from __future__ import annotations

from aws_cdk import Acknowledgment, CfnElement, CfnResource, Stack, Validations
from aws_cdk import aws_iam as iam
from constructs import Construct, IConstruct

#: How cdk-nag names AWS managed policies in its findings.
MANAGED_POLICY = "arn:<AWS::Partition>:iam::aws:policy"


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge a cdk-nag AWS Solutions finding on ``scope`` and its children, with its reason.

    ``rule`` is the rule id, with the finding when the rule reports one, as cdk-nag prints it:
    ``AwsSolutions-IAM5[Resource::*]``.
    """
    Validations.of(scope).acknowledge(Acknowledgment(id=f"AwsSolutions::{rule}", reason=reason))


def acknowledge_managed_policy(scope: IConstruct, policy: str, reason: str) -> None:
    """Acknowledge cdk-nag's finding on an AWS managed ``policy`` (``service-role/...``)."""
    acknowledge(scope, f"AwsSolutions-IAM4[Policy::{MANAGED_POLICY}/{policy}]", reason)


def skip_checkov(construct: IConstruct, check: str, reason: str) -> None:
    """Skip a checkov check on the CloudFormation resource of ``construct``, with its reason."""
    resource = construct.node.default_child
    if not isinstance(resource, CfnResource):
        raise TypeError(f"{construct.node.path} has no CloudFormation resource of its own")
    settings = resource.get_metadata("checkov") or {}
    skips = [*settings.get("skip", []), {"id": check, "comment": reason}]
    resource.add_metadata("checkov", {**settings, "skip": skips})


def acknowledge_invoke_grant(api: IConstruct, grantee: iam.IGrantable) -> None:
    """Acknowledge cdk-nag's wildcard finding on a grant to invoke every operation of ``api``.

    The grant covers every stage, method and path of this one API, which is what it is for.
    """
    target = grantee.grant_principal
    resource = api.node.default_child
    if not isinstance(target, Construct) or not isinstance(resource, CfnElement):
        return  # an account or service principal: no policy of this app to check
    api_id = Stack.of(api).get_logical_id(resource)
    arn = f"arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<{api_id}>/*/*/*"
    acknowledge(
        target,
        f"AwsSolutions-IAM5[Resource::{arn}]",
        "Invoking the API means calling any of its operations, on any stage.",
    )


def acknowledge_bucket_read(grantee: IConstruct, bucket: IConstruct, reason: str) -> None:
    """Acknowledge cdk-nag's wildcard findings on ``bucket.grant_read(grantee)``.

    ``grant_read`` allows ``s3:GetObject*``, ``s3:GetBucket*`` and ``s3:List*`` on every object
    of the bucket: cdk-nag reports each wildcard, on the grantee's policy.
    """
    findings = ["Action::s3:GetObject*", "Action::s3:GetBucket*", "Action::s3:List*"]
    resource = bucket.node.default_child
    if isinstance(resource, CfnElement):
        findings.append(f"Resource::<{Stack.of(bucket).get_logical_id(resource)}.Arn>/*")
    for finding in findings:
        acknowledge(grantee, f"AwsSolutions-IAM5[{finding}]", reason)
