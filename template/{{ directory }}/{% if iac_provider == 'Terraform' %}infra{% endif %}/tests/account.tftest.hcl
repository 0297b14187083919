# The root configuration, planned with a mocked AWS provider (nothing is deployed). Build every
# API first (README.md, "Deploy"): the plan reads their OpenAPI documents and bundles.

# Mocked values are known while planning: every run is a plan, nothing is applied.
mock_provider "aws" {
  source          = "../common/terraform/tests/mocks"
  override_during = plan
}

run "the_api_gateway_account_setting_is_left_alone_by_default" {
  command = plan

  assert {
    condition     = length(aws_api_gateway_account.this) == 0 && length(aws_iam_role.api_gateway_cloudwatch) == 0
    error_message = "The account-wide API Gateway setting must be opt-in."
  }
}

run "the_api_gateway_account_setting_on_request" {
  command = plan

  variables {
    manage_api_gateway_cloudwatch_role = true
  }

  assert {
    condition     = aws_api_gateway_account.this[0].cloudwatch_role_arn == aws_iam_role.api_gateway_cloudwatch[0].arn
    error_message = "manage_api_gateway_cloudwatch_role names the logging role in the account setting."
  }
}
