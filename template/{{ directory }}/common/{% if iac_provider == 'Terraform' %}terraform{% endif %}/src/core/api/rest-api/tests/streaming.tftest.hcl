# REST response streaming: needs hashicorp/aws >= 6.25.0 (`response_transfer_mode`).

# Mocked values are known while planning: every run is a plan, nothing is applied.
mock_provider "aws" {
  source          = "../../../../tests/mocks"
  override_during = plan
}

variables {
  name = "test-api"
  routes = {
    "ANY /"         = { function = "router" }
    "ANY /{proxy+}" = { function = "router" }
  }
  lambda_functions = {
    router = { function_name = "items", qualifier = "live", alias_arn = "arn:aws:lambda:eu-west-1:123456789012:function:items:live", invoke_source = "*" }
  }
}

run "every_lambda_integration_streams" {
  command = plan

  assert {
    condition     = length(aws_api_gateway_integration.lambda) == 2 && alltrue([for integration in aws_api_gateway_integration.lambda : integration.response_transfer_mode == "STREAM"])
    error_message = "Every Lambda integration must stream its response (response_transfer_mode = \"STREAM\")."
  }
}
