# An HTTP API with a route per entry of `routes` (a Lambda function's `live` alias, payload
# format 2.0, or an HTTP endpoint; routes.tf), whose CORS configuration answers browsers (API
# Gateway answers preflight requests itself and returns one matching origin per response), an
# optional JWT or Lambda authorizer, and an auto-deployed `$default` stage with access logs. A
# caller may add integrations and routes of its own on api_id.

resource "aws_apigatewayv2_api" "this" {
  name          = var.name
  description   = var.description
  protocol_type = "HTTP"
  tags          = var.tags

  dynamic "cors_configuration" {
    for_each = length(var.cors_allow_origins) > 0 ? [1] : []

    content {
      allow_origins  = var.cors_allow_origins
      allow_methods  = var.cors_allow_methods
      allow_headers  = var.cors_allow_headers
      expose_headers = var.cors_expose_headers
      max_age        = var.cors_max_age_seconds
    }
  }
}

resource "aws_apigatewayv2_authorizer" "jwt" {
  count = var.jwt_issuer == null ? 0 : 1

  name             = "${var.name}-jwt"
  api_id           = aws_apigatewayv2_api.this.id
  authorizer_type  = "JWT"
  identity_sources = ["$request.header.Authorization"]

  jwt_configuration {
    issuer   = var.jwt_issuer
    audience = var.jwt_audience
  }
}

# Payload format 2.0 with simple responses: the function answers {"isAuthorized": ...}.
resource "aws_apigatewayv2_authorizer" "lambda" {
  count = var.lambda_authorizer == null ? 0 : 1

  name                              = "${var.name}-lambda"
  api_id                            = aws_apigatewayv2_api.this.id
  authorizer_type                   = "REQUEST"
  authorizer_uri                    = var.lambda_authorizer.invoke_arn
  identity_sources                  = ["$request.header.Authorization"]
  authorizer_payload_format_version = "2.0"
  enable_simple_responses           = true
  authorizer_result_ttl_in_seconds  = var.lambda_authorizer.result_ttl_in_seconds
}

resource "aws_lambda_permission" "authorizer" {
  count = var.lambda_authorizer == null ? 0 : 1

  statement_id  = "AllowInvokeFromApiGatewayAuthorizer"
  action        = "lambda:InvokeFunction"
  function_name = var.lambda_authorizer.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.this.execution_arn}/authorizers/${aws_apigatewayv2_authorizer.lambda[0].id}"
}

resource "aws_cloudwatch_log_group" "access" {
  name              = "/aws/apigateway/${var.name}/access"
  retention_in_days = var.log_retention_in_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_apigatewayv2_stage" "default" {
  api_id      = aws_apigatewayv2_api.this.id
  name        = "$default"
  auto_deploy = true
  tags        = var.tags

  default_route_settings {
    detailed_metrics_enabled = true
    throttling_burst_limit   = var.throttling_burst_limit
    throttling_rate_limit    = var.throttling_rate_limit
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
    format = jsonencode({
      requestId          = "$context.requestId"
      requestTime        = "$context.requestTime"
      ip                 = "$context.identity.sourceIp"
      caller             = "$context.identity.caller"
      user               = "$context.identity.user"
      jwtSubject         = "$context.authorizer.claims.sub"
      httpMethod         = "$context.httpMethod"
      routeKey           = "$context.routeKey"
      path               = "$context.path"
      protocol           = "$context.protocol"
      status             = "$context.status"
      responseLength     = "$context.responseLength"
      responseLatency    = "$context.responseLatency"
      integrationLatency = "$context.integration.latency"
      integrationStatus  = "$context.integration.status"
      integrationError   = "$context.integration.error"
      errorMessage       = "$context.error.message"
    })
  }
}
