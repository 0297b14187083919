# The routes of `routes`: each reaches a function's `live` alias (one integration per function)
# or an HTTP endpoint; API Gateway may invoke each function for what its invoke_source names.

locals {
  authorizer_id = one(concat(aws_apigatewayv2_authorizer.jwt[*].id, aws_apigatewayv2_authorizer.lambda[*].id))
  # One integration per HTTP endpoint, by its name (or route key).
  http_targets = { for route, target in var.routes : coalesce(target.name, route) => merge(target, { route = route }) if target.http_uri != null }
  integration_ids = merge(
    { for route, target in var.routes : route => aws_apigatewayv2_integration.lambda[target.function].id if target.function != null },
    { for key, target in local.http_targets : target.route => aws_apigatewayv2_integration.http[key].id },
  )
}

resource "aws_apigatewayv2_integration" "lambda" {
  for_each = var.lambda_functions

  api_id                 = aws_apigatewayv2_api.this.id
  integration_type       = "AWS_PROXY"
  integration_uri        = each.value.invoke_arn
  payload_format_version = "2.0"
}

resource "aws_apigatewayv2_integration" "http" {
  for_each = local.http_targets

  api_id             = aws_apigatewayv2_api.this.id
  integration_type   = "HTTP_PROXY"
  integration_method = coalesce(each.value.http_method, split(" ", each.value.route)[0])
  integration_uri    = each.value.http_uri
}

resource "aws_apigatewayv2_route" "api" {
  for_each = var.routes

  api_id             = aws_apigatewayv2_api.this.id
  route_key          = each.key
  target             = "integrations/${local.integration_ids[each.key]}"
  authorization_type = var.authorization
  authorizer_id      = contains(["JWT", "CUSTOM"], var.authorization) ? local.authorizer_id : null

  lifecycle {
    precondition {
      condition     = !contains(["JWT", "CUSTOM"], var.authorization) || local.authorizer_id != null
      error_message = "authorization ${var.authorization} needs an authorizer: set jwt_issuer or lambda_authorizer."
    }
  }
}

resource "aws_lambda_permission" "api_gateway" {
  for_each = var.lambda_functions

  statement_id  = "AllowInvokeFromApiGateway"
  action        = "lambda:InvokeFunction"
  function_name = each.value.function_name
  qualifier     = each.value.qualifier
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.this.execution_arn}/${each.value.invoke_source}"
}
