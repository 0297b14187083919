# The HTTP API module, planned with a mocked AWS provider (nothing is deployed): CORS for no,
# one and several origins, the JWT authorizer.

# Mocked values are known while planning: every run is a plan, nothing is applied.
mock_provider "aws" {
  source          = "../../../../tests/mocks"
  override_during = plan
}

variables {
  name = "test-api"
}

run "no_origin_no_cors" {
  command = plan

  variables {
    cors_allow_origins = []
  }

  assert {
    condition     = length(aws_apigatewayv2_api.this.cors_configuration) == 0
    error_message = "Without allowed origins the API has no CORS configuration."
  }

  assert {
    condition     = length(aws_apigatewayv2_authorizer.jwt) == 0
    error_message = "No JWT authorizer without an issuer."
  }
}

run "one_origin" {
  command = plan

  variables {
    cors_allow_origins = ["https://app.example.com"]
    jwt_issuer         = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_example"
    jwt_audience       = ["client"]
  }

  assert {
    condition     = aws_apigatewayv2_api.this.cors_configuration[0].allow_origins == toset(["https://app.example.com"])
    error_message = "The one origin is allowed."
  }

  assert {
    condition     = aws_apigatewayv2_authorizer.jwt[0].jwt_configuration[0].issuer == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_example"
    error_message = "The JWT authorizer trusts the issuer given."
  }
}

run "several_origins" {
  command = plan

  variables {
    cors_allow_origins = ["https://app.example.com", "https://admin.example.com"]
  }

  assert {
    condition     = aws_apigatewayv2_api.this.cors_configuration[0].allow_origins == toset(["https://app.example.com", "https://admin.example.com"])
    error_message = "Every origin is allowed: API Gateway answers with the caller's."
  }
}
