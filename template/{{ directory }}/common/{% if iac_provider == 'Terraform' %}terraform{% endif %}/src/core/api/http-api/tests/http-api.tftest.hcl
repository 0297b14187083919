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

run "routes_reach_their_functions_and_endpoints" {
  command = plan

  variables {
    routes = {
      "GET /items/{item_id}" = { function = "get_item" }
      "POST /items"          = { function = "create_item" }
      "GET /"                = { http_uri = "https://example.com/documentation", name = "home" }
    }
    lambda_functions = {
      get_item    = { function_name = "items-get_item", qualifier = "live", invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:items-get_item:live/invocations", invoke_source = "*/GET/items/*" }
      create_item = { function_name = "items-create_item", qualifier = "live", invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:items-create_item:live/invocations", invoke_source = "*/POST/items" }
    }
    authorization = "NONE"
  }

  assert {
    condition     = sort(keys(aws_apigatewayv2_route.api)) == sort(["GET /items/{item_id}", "POST /items", "GET /"]) && alltrue([for route in aws_apigatewayv2_route.api : route.authorization_type == "NONE"])
    error_message = "Every route is created, authorised as told."
  }

  assert {
    condition     = aws_apigatewayv2_integration.lambda["get_item"].integration_uri == "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:items-get_item:live/invocations" && aws_apigatewayv2_integration.lambda["get_item"].payload_format_version == "2.0"
    error_message = "A function's integration invokes its `live` alias with payload format 2.0."
  }

  assert {
    condition     = aws_apigatewayv2_integration.http["home"].integration_type == "HTTP_PROXY" && aws_apigatewayv2_integration.http["home"].integration_uri == "https://example.com/documentation" && aws_apigatewayv2_integration.http["home"].integration_method == "GET"
    error_message = "An endpoint's integration, named after its operation, uses the route's method."
  }

  assert {
    condition     = aws_lambda_permission.api_gateway["create_item"].qualifier == "live" && endswith(aws_lambda_permission.api_gateway["create_item"].source_arn, "/*/POST/items")
    error_message = "API Gateway may invoke each function's alias for its own method and path only."
  }
}

run "jwt_routes_need_the_jwt_authorizer" {
  command = plan

  variables {
    routes           = { "GET /{proxy+}" = { function = "router" } }
    lambda_functions = { router = { function_name = "items", qualifier = "live", invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:items:live/invocations", invoke_source = "*" } }
    authorization    = "JWT"
  }

  expect_failures = [aws_apigatewayv2_route.api]
}
