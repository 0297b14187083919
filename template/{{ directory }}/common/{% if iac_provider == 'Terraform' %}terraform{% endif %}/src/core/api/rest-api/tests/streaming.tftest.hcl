# REST response streaming: needs hashicorp/aws >= 6.25.0 (`response_transfer_mode`).

# Mocked values are known while planning: every run is a plan, nothing is applied.
mock_provider "aws" {
  source          = "../../../../tests/mocks"
  override_during = plan
}

variables {
  bundle_path  = "tests/lambda.zip"
  openapi_path = "tests/openapi.json"
}

run "every_lambda_integration_streams" {
  command = plan

  assert {
    condition     = alltrue([for integration in aws_api_gateway_integration.lambda : integration.response_transfer_mode == "STREAM"])
    error_message = "Every Lambda integration must stream its response (response_transfer_mode = \"STREAM\")."
  }
}
