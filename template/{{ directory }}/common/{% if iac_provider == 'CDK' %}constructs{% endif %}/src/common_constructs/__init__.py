"""AWS CDK constructs shared by the APIs of this repository."""
