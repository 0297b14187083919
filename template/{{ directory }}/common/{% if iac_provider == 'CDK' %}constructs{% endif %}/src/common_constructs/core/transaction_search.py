"""CloudWatch Transaction Search: the account setting that stores every span X-Ray receives.

The functions send OpenTelemetry spans to X-Ray; with Transaction Search on, X-Ray writes them
to CloudWatch Logs (``aws/spans``), where each request's spans can be searched and analysed. It is
a setting of the whole account and Region, not of one API or stack: turn it on in one stack
only (``ApisStack(..., transaction_search=True)``, or ``-c transactionSearch=true``), and only
when it is off (CloudFormation cannot take over a setting turned on in the console). Deleting
that stack turns it off for the account.
"""

from __future__ import annotations

import json

from aws_cdk import Aws
from aws_cdk import aws_logs as logs
from aws_cdk import aws_xray as xray
from constructs import Construct

from common_constructs.core.facts import value


class TransactionSearch(Construct):
    """Transaction Search on: X-Ray may write to the spans log groups, and does.

    ``indexing_percentage``: the share of spans also indexed as X-Ray trace summaries (1 % is
    free); ``None`` leaves X-Ray's default.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, indexing_percentage: float | None = None
    ) -> None:
        super().__init__(scope, construct_id)
        search = value("transaction_search")
        log_group = f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group:"
        self.policy = logs.CfnResourcePolicy(
            self,
            "Policy",
            policy_name="TransactionSearchAccess",
            policy_document=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "TransactionSearchXRayAccess",
                            "Effect": "Allow",
                            "Principal": {"Service": search["log_writer"]},
                            "Action": "logs:PutLogEvents",
                            "Resource": [
                                f"{log_group}{search['spans_log_group']}:*",
                                f"{log_group}{search['application_signals_log_group']}:*",
                            ],
                            "Condition": {
                                "ArnLike": {
                                    "aws:SourceArn": (
                                        f"arn:{Aws.PARTITION}:xray:{Aws.REGION}:{Aws.ACCOUNT_ID}:*"
                                    )
                                },
                                "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                            },
                        }
                    ],
                }
            ),
        )
        self.config = xray.CfnTransactionSearchConfig(
            self, "Config", indexing_percentage=indexing_percentage
        )
        self.config.node.add_dependency(self.policy)
