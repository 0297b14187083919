output "functions" {
  description = "Every function of the API, by operation name (isolated) or `router` (shared): name, ARN, version, the `live` alias API Gateway invokes, what it may be invoked for, role and log group."
  value = {
    for key, function in aws_lambda_function.api_lambda : key => {
      name             = function.function_name
      arn              = function.arn
      version          = function.version
      alias_name       = aws_lambda_alias.live[key].name
      alias_arn        = aws_lambda_alias.live[key].arn
      alias_invoke_arn = aws_lambda_alias.live[key].invoke_arn
      invoke_source    = local.functions[key].invoke_source
      role_name        = aws_iam_role.lambda_execution_role[key].name
      role_arn         = aws_iam_role.lambda_execution_role[key].arn
      log_group_name   = aws_cloudwatch_log_group.lambda[key].name
    }
  }
}

output "routes" {
  description = "Every route (\"METHOD /path\") and what serves it: a function's key, or an overridden operation's HTTP endpoint (http_uri, http_method)."
  value       = local.routes
}

output "route_targets" {
  description = "Every route (\"METHOD /path\") and what serves it: a function's key or an overridden operation's name."
  value       = merge(local.lambda_routes, local.override_routes)
}

output "authorization" {
  description = "How the gateway authorises every route, in its own terms (REST: AWS_IAM, COGNITO_USER_POOLS, CUSTOM, NONE; HTTP: AWS_IAM, JWT, CUSTOM, NONE)."
  value = {
    IAM     = "AWS_IAM"
    Cognito = var.gateway == "REST" ? "COGNITO_USER_POOLS" : "JWT"
    Custom  = "CUSTOM"
    None    = "NONE"
  }[var.auth]
}

output "cognito_user_pool_arn" {
  description = "ARN of the Cognito user pool (auth Cognito), else null."
  value       = local.cognito_user_pool_arn
}

output "cognito_user_pool_id" {
  description = "Id of the Cognito user pool (auth Cognito), else null."
  value       = local.cognito_user_pool_id
}

output "cognito_user_pool_client_id" {
  description = "Id of the Cognito app client whose tokens the API accepts (auth Cognito), else null."
  value       = local.cognito_user_pool_client_id
}

output "cognito_issuer" {
  description = "Issuer of the user pool's tokens (auth Cognito), for an HTTP API's JWT authorizer; else null."
  value       = var.auth == "Cognito" ? "https://cognito-idp.${local.cognito_user_pool_region}.amazonaws.com/${local.cognito_user_pool_id}" : null
}

output "lambda_authorizer" {
  description = "The Lambda authorizer (auth Custom) as the gateway modules take it (function_name, invoke_arn), else null."
  value       = var.auth == "Custom" ? { function_name = module.authorizer[0].function_name, invoke_arn = module.authorizer[0].invoke_arn } : null
}

output "authorizer" {
  description = "The Lambda authorizer's function_name, function_arn and log_group_name (auth Custom), else null."
  value = var.auth == "Custom" ? {
    function_name  = module.authorizer[0].function_name
    function_arn   = module.authorizer[0].function_arn
    log_group_name = module.authorizer[0].log_group_name
  } : null
}
