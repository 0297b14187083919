# A regional REST API with a method per route of `routes` (a Lambda function's `live` alias,
# responses streamed, or an HTTP endpoint; routes.tf), the resources of their paths and of
# `resource_paths`, CORS preflight answered by API Gateway itself, an optional Cognito or Lambda
# authorizer, a stage with X-Ray tracing, access logs and method metrics, and a WAF web ACL in
# front of it. A caller may add methods of its own on `resource_ids` and pass a hash of them as
# `redeployment_trigger`.

locals {
  cors_enabled = length(var.cors_allow_origins) > 0
  # One value per response, chosen from the allowed list: a comma-joined list is not a valid
  # Access-Control-Allow-Origin header.
  cors_origin_template = <<-EOT
    #set($allowed = ${jsonencode(var.cors_allow_origins)})
    #set($origin = $input.params().header.get("Origin"))
    #if("$!origin" == "")
    #set($origin = $input.params().header.get("origin"))
    #end
    #if($allowed.contains("*"))
    #set($context.responseOverride.header.Access-Control-Allow-Origin = "*")
    #elseif("$!origin" != "" && $allowed.contains($origin))
    #set($context.responseOverride.header.Access-Control-Allow-Origin = $origin)
    #end
  EOT
  # Errors written by API Gateway itself (denied signature, expired token) can only carry a
  # fixed origin: they get CORS headers when a single origin (or "*") is allowed.
  gateway_response_origin = length(var.cors_allow_origins) == 1 ? var.cors_allow_origins[0] : null
  cors_resources = local.cors_enabled ? {
    for path in distinct(concat(["/"], local.resource_paths)) : path => local.resource_ids[path]
  } : {}

  # Every resource of the tree, by path: "/a/{b}" needs "/a" first. API Gateway resources are
  # nested one level at a time, so each depth has a resource block of its own (see below).
  resource_paths = distinct(concat(var.resource_paths, [
    for route in keys(var.routes) : split(" ", route)[1] if split(" ", route)[1] != "/"
  ]))
  resource_segments = {
    for path in distinct(flatten([
      for path in local.resource_paths : [
        for depth in range(1, length(split("/", trim(path, "/"))) + 1) :
        "/${join("/", slice(split("/", trim(path, "/")), 0, depth))}"
      ]
    ])) : path => split("/", trim(path, "/"))
  }
  resources_at_depth = [
    for depth in range(1, 9) : {
      for path, segments in local.resource_segments : path => {
        path_part = segments[depth - 1]
        parent    = depth == 1 ? "/" : "/${join("/", slice(segments, 0, depth - 1))}"
      } if length(segments) == depth
    }
  ]
  resource_ids = merge(
    { "/" = aws_api_gateway_rest_api.this.root_resource_id },
    { for path, resource in aws_api_gateway_resource.depth_1 : path => resource.id },
    { for path, resource in aws_api_gateway_resource.depth_2 : path => resource.id },
    { for path, resource in aws_api_gateway_resource.depth_3 : path => resource.id },
    { for path, resource in aws_api_gateway_resource.depth_4 : path => resource.id },
    { for path, resource in aws_api_gateway_resource.depth_5 : path => resource.id },
    { for path, resource in aws_api_gateway_resource.depth_6 : path => resource.id },
    { for path, resource in aws_api_gateway_resource.depth_7 : path => resource.id },
    { for path, resource in aws_api_gateway_resource.depth_8 : path => resource.id },
  )
}

resource "aws_api_gateway_rest_api" "this" {
  name        = var.name
  description = var.description
  tags        = var.tags

  endpoint_configuration {
    types = ["REGIONAL"]
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_api_gateway_resource" "depth_1" {
  for_each = local.resources_at_depth[0]

  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_rest_api.this.root_resource_id
  path_part   = each.value.path_part
}

resource "aws_api_gateway_resource" "depth_2" {
  for_each = local.resources_at_depth[1]

  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.depth_1[each.value.parent].id
  path_part   = each.value.path_part
}

resource "aws_api_gateway_resource" "depth_3" {
  for_each = local.resources_at_depth[2]

  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.depth_2[each.value.parent].id
  path_part   = each.value.path_part
}

resource "aws_api_gateway_resource" "depth_4" {
  for_each = local.resources_at_depth[3]

  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.depth_3[each.value.parent].id
  path_part   = each.value.path_part
}

resource "aws_api_gateway_resource" "depth_5" {
  for_each = local.resources_at_depth[4]

  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.depth_4[each.value.parent].id
  path_part   = each.value.path_part
}

resource "aws_api_gateway_resource" "depth_6" {
  for_each = local.resources_at_depth[5]

  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.depth_5[each.value.parent].id
  path_part   = each.value.path_part
}

resource "aws_api_gateway_resource" "depth_7" {
  for_each = local.resources_at_depth[6]

  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.depth_6[each.value.parent].id
  path_part   = each.value.path_part
}

resource "aws_api_gateway_resource" "depth_8" {
  for_each = local.resources_at_depth[7]

  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.depth_7[each.value.parent].id
  path_part   = each.value.path_part
}

resource "aws_api_gateway_authorizer" "cognito" {
  count = length(var.cognito_user_pool_arns) > 0 ? 1 : 0

  name            = "${var.name}-cognito"
  rest_api_id     = aws_api_gateway_rest_api.this.id
  type            = "COGNITO_USER_POOLS"
  provider_arns   = var.cognito_user_pool_arns
  identity_source = "method.request.header.Authorization"
}

# A TOKEN authorizer: API Gateway answers 401 to a request without the header, and passes the
# header's value to the function, which answers with a policy or "Unauthorized".
resource "aws_api_gateway_authorizer" "lambda" {
  count = var.lambda_authorizer == null ? 0 : 1

  name                             = "${var.name}-lambda"
  rest_api_id                      = aws_api_gateway_rest_api.this.id
  type                             = "TOKEN"
  authorizer_uri                   = var.lambda_authorizer.invoke_arn
  identity_source                  = "method.request.header.Authorization"
  authorizer_result_ttl_in_seconds = var.lambda_authorizer.result_ttl_in_seconds
}

resource "aws_lambda_permission" "authorizer" {
  count = var.lambda_authorizer == null ? 0 : 1

  statement_id  = "AllowInvokeFromApiGatewayAuthorizer"
  action        = "lambda:InvokeFunction"
  function_name = var.lambda_authorizer.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_api_gateway_rest_api.this.execution_arn}/authorizers/${aws_api_gateway_authorizer.lambda[0].id}"
}

# CORS preflight: browsers send OPTIONS without credentials, so these methods are open and
# answered by a MOCK integration, without invoking the function.
resource "aws_api_gateway_method" "preflight" {
  for_each = local.cors_resources

  rest_api_id   = aws_api_gateway_rest_api.this.id
  resource_id   = each.value
  http_method   = "OPTIONS"
  authorization = "NONE"
}

resource "aws_api_gateway_integration" "preflight" {
  for_each = local.cors_resources

  rest_api_id = aws_api_gateway_rest_api.this.id
  resource_id = each.value
  http_method = aws_api_gateway_method.preflight[each.key].http_method
  type        = "MOCK"

  request_templates = {
    "application/json" = jsonencode({ statusCode = 204 })
  }
}

resource "aws_api_gateway_method_response" "preflight" {
  for_each = local.cors_resources

  rest_api_id = aws_api_gateway_rest_api.this.id
  resource_id = each.value
  http_method = aws_api_gateway_method.preflight[each.key].http_method
  status_code = "204"

  response_parameters = {
    "method.response.header.Access-Control-Allow-Headers" = true
    "method.response.header.Access-Control-Allow-Methods" = true
    "method.response.header.Access-Control-Allow-Origin"  = true
    "method.response.header.Access-Control-Max-Age"       = true
    "method.response.header.Vary"                         = true
  }
}

resource "aws_api_gateway_integration_response" "preflight" {
  for_each = local.cors_resources

  rest_api_id = aws_api_gateway_rest_api.this.id
  resource_id = each.value
  http_method = aws_api_gateway_method.preflight[each.key].http_method
  status_code = aws_api_gateway_method_response.preflight[each.key].status_code

  response_parameters = {
    "method.response.header.Access-Control-Allow-Headers" = "'${join(",", var.cors_allow_headers)}'"
    "method.response.header.Access-Control-Allow-Methods" = "'${join(",", var.cors_allow_methods)}'"
    "method.response.header.Access-Control-Max-Age"       = "'${var.cors_max_age_seconds}'"
    "method.response.header.Vary"                         = "'Origin'"
  }

  response_templates = {
    "application/json" = local.cors_origin_template
  }

  depends_on = [aws_api_gateway_integration.preflight]
}

resource "aws_api_gateway_gateway_response" "cors" {
  for_each = local.gateway_response_origin == null ? toset([]) : toset(["DEFAULT_4XX", "DEFAULT_5XX"])

  rest_api_id   = aws_api_gateway_rest_api.this.id
  response_type = each.key

  response_parameters = {
    "gatewayresponse.header.Access-Control-Allow-Origin" = "'${local.gateway_response_origin}'"
    "gatewayresponse.header.Vary"                        = "'Origin'"
  }
}

resource "aws_api_gateway_deployment" "this" {
  rest_api_id = aws_api_gateway_rest_api.this.id

  triggers = {
    redeployment = sha1(jsonencode([
      var.redeployment_trigger,
      local.resource_ids,
      aws_api_gateway_method.api,
      aws_api_gateway_integration.lambda,
      aws_api_gateway_integration.http,
      aws_api_gateway_method.preflight,
      aws_api_gateway_integration.preflight,
      aws_api_gateway_integration_response.preflight,
      aws_api_gateway_gateway_response.cors,
      aws_api_gateway_authorizer.cognito,
      aws_api_gateway_authorizer.lambda,
    ]))
  }

  lifecycle {
    create_before_destroy = true
  }

  depends_on = [
    aws_api_gateway_integration.lambda,
    aws_api_gateway_integration.http,
    aws_api_gateway_integration_response.preflight,
    aws_api_gateway_gateway_response.cors,
  ]
}

resource "aws_cloudwatch_log_group" "access" {
  name              = "/aws/apigateway/${var.name}/access"
  retention_in_days = var.log_retention_in_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_api_gateway_stage" "this" {
  rest_api_id          = aws_api_gateway_rest_api.this.id
  deployment_id        = aws_api_gateway_deployment.this.id
  stage_name           = var.stage_name
  xray_tracing_enabled = true
  tags                 = var.tags

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
    format = jsonencode({
      requestId          = "$context.requestId"
      extendedRequestId  = "$context.extendedRequestId"
      xrayTraceId        = "$context.xrayTraceId"
      requestTime        = "$context.requestTime"
      ip                 = "$context.identity.sourceIp"
      caller             = "$context.identity.caller"
      user               = "$context.identity.user"
      cognitoSubject     = "$context.authorizer.claims.sub"
      httpMethod         = "$context.httpMethod"
      resourcePath       = "$context.resourcePath"
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

resource "aws_api_gateway_method_settings" "all" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  stage_name  = aws_api_gateway_stage.this.stage_name
  method_path = "*/*"

  settings {
    metrics_enabled        = true
    logging_level          = var.logging_level
    data_trace_enabled     = false
    caching_enabled        = false
    cache_data_encrypted   = true
    throttling_burst_limit = var.throttling_burst_limit
    throttling_rate_limit  = var.throttling_rate_limit
  }
}
