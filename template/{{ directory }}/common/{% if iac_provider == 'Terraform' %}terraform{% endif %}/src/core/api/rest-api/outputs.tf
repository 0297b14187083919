output "api_id" {
  description = "Id of the REST API."
  value       = aws_api_gateway_rest_api.this.id
}

output "api_root_resource_id" {
  description = "Id of the root resource (`/`)."
  value       = aws_api_gateway_rest_api.this.root_resource_id
}

output "api_proxy_resource_id" {
  description = "Id of the greedy `/{proxy+}` resource, or null when resource_paths does not list it."
  value       = lookup(local.resource_ids, "/{proxy+}", null)
}

output "resource_ids" {
  description = "Id of every resource of the API by path: `/`, each of resource_paths and their parents."
  value       = local.resource_ids
}

output "cors_preflight_paths" {
  description = "Paths whose OPTIONS method answers CORS preflight requests (none without allowed origins)."
  value       = keys(aws_api_gateway_method.preflight)
}

output "cors_gateway_response_origin" {
  description = "Access-Control-Allow-Origin of API Gateway's own error responses: the single allowed origin, else null."
  value       = local.gateway_response_origin
}

output "web_acl_arn" {
  description = "ARN of the WAF web ACL in front of the stage, or null when web_acl_enabled is false."
  value       = one(aws_wafv2_web_acl.this[*].arn)
}

output "api_execution_arn" {
  description = "Execution ARN, for execute-api:Invoke policies and Lambda permissions (append /<stage>/<method>/<path>)."
  value       = aws_api_gateway_rest_api.this.execution_arn
}

output "api_arn" {
  description = "ARN of the REST API."
  value       = aws_api_gateway_rest_api.this.arn
}

output "authorizer_id" {
  description = "Id of the Cognito or Lambda authorizer, or null without either."
  value       = local.authorizer_id
}

output "stage_name" {
  description = "Name of the deployed stage."
  value       = aws_api_gateway_stage.this.stage_name
}

output "stage_arn" {
  description = "ARN of the deployed stage."
  value       = aws_api_gateway_stage.this.arn
}

output "stage_invoke_url" {
  description = "URL of the deployed stage."
  value       = aws_api_gateway_stage.this.invoke_url
}

output "access_log_group_name" {
  description = "CloudWatch log group of the stage's access logs."
  value       = aws_cloudwatch_log_group.access.name
}
