output "api_id" {
  description = "Id of the REST API."
  value       = aws_api_gateway_rest_api.this.id
}

output "api_root_resource_id" {
  description = "Id of the root resource (`/`)."
  value       = aws_api_gateway_rest_api.this.root_resource_id
}

output "api_proxy_resource_id" {
  description = "Id of the greedy `/{proxy+}` resource."
  value       = aws_api_gateway_resource.proxy.id
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
  description = "Id of the Cognito authorizer, or null without user pools."
  value       = one(aws_api_gateway_authorizer.cognito[*].id)
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
