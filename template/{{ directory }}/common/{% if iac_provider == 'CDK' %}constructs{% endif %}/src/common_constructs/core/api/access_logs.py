"""The encrypted access log group of an API Gateway stage."""

from __future__ import annotations

from aws_cdk import Aws, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct


def encrypted_access_logs(scope: Construct) -> logs.LogGroup:
    """The API's access log group, encrypted with a KMS key of its own (rotated yearly)."""
    key = kms.Key(scope, "AccessLogKey", enable_key_rotation=True)
    key.grant_encrypt_decrypt(iam.ServicePrincipal(f"logs.{Aws.REGION}.amazonaws.com"))
    return logs.LogGroup(
        scope,
        "AccessLogs",
        encryption_key=key,
        retention=logs.RetentionDays.THREE_MONTHS,
        removal_policy=RemovalPolicy.DESTROY,
    )
