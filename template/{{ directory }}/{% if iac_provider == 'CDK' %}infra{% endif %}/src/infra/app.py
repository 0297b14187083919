"""The CDK app: `uv run poe synth` or `deploy` (the CDK CLI, from this folder) runs it."""

from __future__ import annotations

import os

from aws_cdk import App, Environment, Validations
from cdk_nag import AwsSolutionsChecks

from infra.stack import ApisStack


def build_app() -> App:
    """The app with its stack, checked by cdk-nag's AWS Solutions rules."""
    app = App()
    ApisStack(
        app,
        app.node.try_get_context("stackName") or "Apis",
        env=Environment(
            account=os.environ.get("CDK_DEFAULT_ACCOUNT"),
            region=os.environ.get("CDK_DEFAULT_REGION"),
        ),
        # Account-wide, so opt-in: `-c transactionSearch=true` (see README.md).
        transaction_search=str(app.node.try_get_context("transactionSearch")).lower() == "true",
    )
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


if __name__ == "__main__":
    build_app().synth()
