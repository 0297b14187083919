"""The AWS CDK app that deploys every API of this repository."""
