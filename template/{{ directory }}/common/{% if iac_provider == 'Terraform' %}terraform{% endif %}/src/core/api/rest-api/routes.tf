# The methods of `routes`: each reaches a function's `live` alias through Lambda's response
# streaming API, or an HTTP endpoint; API Gateway may invoke each function for what its
# invoke_source names.

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  authorizer_id = one(concat(aws_api_gateway_authorizer.cognito[*].id, aws_api_gateway_authorizer.lambda[*].id))
}

resource "aws_api_gateway_method" "api" {
  for_each = var.routes

  rest_api_id   = aws_api_gateway_rest_api.this.id
  resource_id   = local.resource_ids[split(" ", each.key)[1]]
  http_method   = split(" ", each.key)[0]
  authorization = var.authorization
  authorizer_id = contains(["COGNITO_USER_POOLS", "CUSTOM"], var.authorization) ? local.authorizer_id : null

  lifecycle {
    precondition {
      condition     = !contains(["COGNITO_USER_POOLS", "CUSTOM"], var.authorization) || local.authorizer_id != null
      error_message = "authorization ${var.authorization} needs an authorizer: set cognito_user_pool_arns or lambda_authorizer."
    }
  }
}

resource "aws_api_gateway_integration" "lambda" {
  for_each = { for route, target in var.routes : route => target.function if target.function != null }

  rest_api_id             = aws_api_gateway_rest_api.this.id
  resource_id             = aws_api_gateway_method.api[each.key].resource_id
  http_method             = aws_api_gateway_method.api[each.key].http_method
  type                    = "AWS_PROXY"
  integration_http_method = "POST"
  uri                     = "arn:${data.aws_partition.current.partition}:apigateway:${data.aws_region.current.id}:lambda:path/2021-11-15/functions/${var.lambda_functions[each.value].alias_arn}/response-streaming-invocations"
  response_transfer_mode  = "STREAM"
}

resource "aws_api_gateway_integration" "http" {
  for_each = { for route, target in var.routes : route => target if target.http_uri != null }

  rest_api_id             = aws_api_gateway_rest_api.this.id
  resource_id             = aws_api_gateway_method.api[each.key].resource_id
  http_method             = aws_api_gateway_method.api[each.key].http_method
  type                    = "HTTP_PROXY"
  integration_http_method = coalesce(each.value.http_method, split(" ", each.key)[0])
  uri                     = each.value.http_uri
}

resource "aws_lambda_permission" "api_gateway" {
  for_each = var.lambda_functions

  statement_id  = "AllowInvokeFromApiGateway"
  action        = "lambda:InvokeFunction"
  function_name = each.value.function_name
  qualifier     = each.value.qualifier
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_api_gateway_rest_api.this.execution_arn}/${each.value.invoke_source}"
}
