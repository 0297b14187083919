# The REST API module, planned with a mocked AWS provider (nothing is deployed): the resource
# tree, CORS for no, one and several origins, the WAF.

# Mocked values are known while planning: every run is a plan, nothing is applied.
mock_provider "aws" {
  source          = "../../../../tests/mocks"
  override_during = plan
}

variables {
  name                 = "test-api"
  redeployment_trigger = "methods"
}

run "nested_paths_get_every_parent_resource" {
  command = plan

  variables {
    resource_paths = ["/items/{item_id}/tags", "/health", "/{proxy+}"]
  }

  assert {
    condition     = sort(keys(aws_api_gateway_resource.depth_1)) == sort(["/health", "/items", "/{proxy+}"]) && sort(keys(aws_api_gateway_resource.depth_2)) == sort(["/items/{item_id}"]) && sort(keys(aws_api_gateway_resource.depth_3)) == sort(["/items/{item_id}/tags"])
    error_message = "Each path needs its parents, one level at a time."
  }

  assert {
    condition     = aws_api_gateway_resource.depth_3["/items/{item_id}/tags"].path_part == "tags" && aws_api_gateway_resource.depth_2["/items/{item_id}"].path_part == "{item_id}"
    error_message = "Each resource holds the last segment of its path."
  }

  assert {
    condition     = sort(keys(output.resource_ids)) == sort(["/", "/health", "/items", "/items/{item_id}", "/items/{item_id}/tags", "/{proxy+}"])
    error_message = "resource_ids must give every resource, the root included."
  }
}

run "paths_must_be_absolute" {
  command = plan

  variables {
    resource_paths = ["items"]
  }

  expect_failures = [var.resource_paths]
}

run "no_origin_no_preflight" {
  command = plan

  variables {
    cors_allow_origins = []
  }

  assert {
    condition     = length(aws_api_gateway_method.preflight) == 0 && length(aws_api_gateway_gateway_response.cors) == 0
    error_message = "Without allowed origins, no CORS preflight and no CORS headers on errors."
  }
}

run "one_origin_is_answered_everywhere" {
  command = plan

  variables {
    cors_allow_origins = ["https://app.example.com"]
  }

  assert {
    condition     = sort(output.cors_preflight_paths) == sort(["/", "/{proxy+}"])
    error_message = "`/` and every path of resource_paths answer CORS preflight requests."
  }

  assert {
    condition     = alltrue([for response in aws_api_gateway_gateway_response.cors : response.response_parameters["gatewayresponse.header.Access-Control-Allow-Origin"] == "'https://app.example.com'"])
    error_message = "API Gateway's own errors name the one allowed origin."
  }

  assert {
    condition     = length(aws_api_gateway_gateway_response.cors) == 2
    error_message = "4XX and 5XX errors of API Gateway carry CORS headers."
  }

  assert {
    condition     = length(aws_wafv2_web_acl.this) == 1 && aws_wafv2_web_acl_association.this[0].resource_arn == aws_api_gateway_stage.this.arn
    error_message = "The WAF protects the stage by default."
  }

  assert {
    condition     = sort([for rule in aws_wafv2_web_acl.this[0].rule : rule.name]) == sort(["AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"])
    error_message = "The WAF runs AWS's common and known-bad-inputs rule sets."
  }

  assert {
    condition     = jsonencode(flatten([for rule in aws_wafv2_web_acl.this[0].rule : [for override in rule.statement[0].managed_rule_group_statement[0].rule_action_override : override.name]])) == jsonencode(["SizeRestrictions_BODY"])
    error_message = "Only the body size rule is counted instead of blocking."
  }

  assert {
    condition     = startswith(aws_cloudwatch_log_group.waf[0].name, "aws-waf-logs-") && length(aws_wafv2_web_acl_logging_configuration.this) == 1
    error_message = "The WAF logs to a log group it may write to."
  }

  assert {
    condition     = sort([for field in aws_wafv2_web_acl_logging_configuration.this[0].redacted_fields : field.single_header[0].name]) == sort(["authorization", "cookie"])
    error_message = "The WAF's logs must redact the authorization and cookie headers."
  }
}

run "several_origins_are_answered_one_at_a_time" {
  command = plan

  variables {
    cors_allow_origins = ["https://app.example.com", "https://admin.example.com"]
    web_acl_enabled    = false
  }

  assert {
    condition     = length(aws_api_gateway_gateway_response.cors) == 0
    error_message = "API Gateway's own errors cannot choose among several origins: no fixed origin."
  }

  assert {
    condition     = alltrue([for response in aws_api_gateway_integration_response.preflight : strcontains(response.response_templates["application/json"], jsonencode(["https://app.example.com", "https://admin.example.com"])) && !contains(keys(response.response_parameters), "method.response.header.Access-Control-Allow-Origin")])
    error_message = "The preflight answer picks the caller's origin from the list, never the joined list."
  }

  assert {
    condition     = length(aws_wafv2_web_acl.this) == 0 && length(aws_wafv2_web_acl_association.this) == 0 && length(aws_cloudwatch_log_group.waf) == 0
    error_message = "web_acl_enabled = false removes the WAF."
  }
}

run "routes_reach_their_functions_and_endpoints" {
  command = plan

  variables {
    resource_paths = []
    routes = {
      "GET /items/{item_id}" = { function = "get_item" }
      "POST /items"          = { function = "create_item" }
      "GET /"                = { http_uri = "https://example.com/documentation", name = "home" }
    }
    lambda_functions = {
      get_item    = { function_name = "items-get_item", qualifier = "live", alias_arn = "arn:aws:lambda:eu-west-1:123456789012:function:items-get_item:live", invoke_source = "*/GET/items/*" }
      create_item = { function_name = "items-create_item", qualifier = "live", alias_arn = "arn:aws:lambda:eu-west-1:123456789012:function:items-create_item:live", invoke_source = "*/POST/items" }
    }
    authorization = "AWS_IAM"
  }

  assert {
    condition     = sort(keys(output.resource_ids)) == sort(["/", "/items", "/items/{item_id}"])
    error_message = "Each route's path gets its resources, and only those."
  }

  assert {
    condition     = alltrue([for method in aws_api_gateway_method.api : method.authorization == "AWS_IAM" && method.authorizer_id == null])
    error_message = "Every method is authorised as told."
  }

  assert {
    condition     = aws_api_gateway_integration.lambda["GET /items/{item_id}"].uri == "arn:aws:apigateway:eu-west-1:lambda:path/2021-11-15/functions/arn:aws:lambda:eu-west-1:123456789012:function:items-get_item:live/response-streaming-invocations"
    error_message = "A function's route invokes its `live` alias through the response streaming API."
  }

  assert {
    condition     = aws_api_gateway_integration.http["GET /"].type == "HTTP_PROXY" && aws_api_gateway_integration.http["GET /"].uri == "https://example.com/documentation" && aws_api_gateway_integration.http["GET /"].integration_http_method == "GET"
    error_message = "An endpoint's route reaches it with the route's method."
  }

  assert {
    condition     = aws_lambda_permission.api_gateway["get_item"].qualifier == "live" && endswith(aws_lambda_permission.api_gateway["get_item"].source_arn, ":mocked/*/GET/items/*")
    error_message = "API Gateway may invoke each function's alias for its own method and path only."
  }
}

run "an_authorizer_is_needed_for_cognito_or_custom" {
  command = plan

  variables {
    routes           = { "ANY /{proxy+}" = { function = "router" } }
    lambda_functions = { router = { function_name = "items", qualifier = "live", alias_arn = "arn:aws:lambda:eu-west-1:123456789012:function:items:live", invoke_source = "*" } }
    authorization    = "CUSTOM"
  }

  expect_failures = [aws_api_gateway_method.api]
}

run "routes_name_a_function_or_an_endpoint" {
  command = plan

  variables {
    routes = { "FETCH /items" = { function = "x", http_uri = "https://example.com" } }
  }

  expect_failures = [var.routes]
}
