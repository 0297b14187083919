# The Lambda authorizer module, planned with a mocked AWS provider (nothing is deployed): deny
# by default, the issuer's settings as the function's environment, least privilege.

# Mocked values are known while planning: every run is a plan, nothing is applied.
mock_provider "aws" {
  source          = "../../../../tests/mocks"
  override_during = plan
}

variables {
  name         = "test-api-authorizer"
  bundle_path  = "tests/lambda.zip"
  runtime      = "python3.13"
  architecture = "arm64"
}

run "without_an_issuer_it_is_told_nothing_and_refuses_everything" {
  command = plan

  assert {
    condition     = aws_lambda_function.this.environment[0].variables == tomap({ POWERTOOLS_SERVICE_NAME = "test-api-authorizer" })
    error_message = "Without an issuer the function gets no JWT_* variable (its code then refuses every request)."
  }

  assert {
    condition     = aws_lambda_function.this.handler == "common_runtime.authorizer.handler" && aws_lambda_function.this.tracing_config[0].mode == "Active"
    error_message = "The function runs the runtime's authorizer, traced."
  }

  assert {
    condition     = length(aws_iam_role_policy_attachment.vpc_access) == 0
    error_message = "Outside a VPC the role gets no VPC policy."
  }
}

run "the_issuer_audiences_and_key_set_reach_the_function" {
  command = plan

  variables {
    jwt_issuer   = "https://issuer.example.com/"
    jwt_audience = ["orders-api", "orders-admin"]
    jwks_url     = "https://issuer.example.com/keys"
  }

  assert {
    condition = aws_lambda_function.this.environment[0].variables == tomap({
      POWERTOOLS_SERVICE_NAME = "test-api-authorizer"
      JWT_ISSUER              = "https://issuer.example.com/"
      JWT_AUDIENCE            = "orders-api,orders-admin"
      JWKS_URL                = "https://issuer.example.com/keys"
    })
    error_message = "The issuer's settings are the function's environment."
  }
}

run "vpc_subnets_need_a_security_group" {
  command = plan

  variables {
    vpc_subnet_ids = ["subnet-1"]
  }

  expect_failures = [aws_lambda_function.this]
}
