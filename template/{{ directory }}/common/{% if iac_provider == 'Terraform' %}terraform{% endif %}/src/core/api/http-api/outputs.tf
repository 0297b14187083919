output "api_id" {
  description = "Id of the HTTP API."
  value       = aws_apigatewayv2_api.this.id
}

output "api_endpoint" {
  description = "Default endpoint of the HTTP API."
  value       = aws_apigatewayv2_api.this.api_endpoint
}

output "api_execution_arn" {
  description = "Execution ARN, for execute-api:Invoke policies and Lambda permissions (append /<stage>/<method>/<path>)."
  value       = aws_apigatewayv2_api.this.execution_arn
}

output "api_arn" {
  description = "ARN of the HTTP API."
  value       = aws_apigatewayv2_api.this.arn
}

output "authorizer_id" {
  description = "Id of the JWT or Lambda authorizer, or null without either."
  value       = local.authorizer_id
}

output "stage_name" {
  description = "Name of the stage ($default: served at the root of the endpoint)."
  value       = aws_apigatewayv2_stage.default.name
}

output "stage_invoke_url" {
  description = "URL of the stage."
  value       = aws_apigatewayv2_stage.default.invoke_url
}

output "access_log_group_name" {
  description = "CloudWatch log group of the stage's access logs."
  value       = aws_cloudwatch_log_group.access.name
}
