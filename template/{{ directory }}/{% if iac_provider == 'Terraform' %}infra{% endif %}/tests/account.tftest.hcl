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

run "transaction_search_is_left_alone_by_default" {
  command = plan

  assert {
    condition     = length(aws_cloudformation_stack.transaction_search) == 0 && length(aws_cloudwatch_log_resource_policy.transaction_search) == 0
    error_message = "Transaction Search is an account setting: opt-in."
  }
}

run "transaction_search_on_request" {
  command = plan

  variables {
    transaction_search = true
  }

  assert {
    condition     = jsondecode(aws_cloudformation_stack.transaction_search[0].template_body).Resources.TransactionSearchConfig.Type == "AWS::XRay::TransactionSearchConfig"
    error_message = "transaction_search turns the account's Transaction Search on."
  }

  assert {
    condition     = jsondecode(aws_cloudwatch_log_resource_policy.transaction_search[0].policy_document).Statement[0].Principal.Service == "xray.amazonaws.com"
    error_message = "X-Ray may write the spans log groups."
  }
}
