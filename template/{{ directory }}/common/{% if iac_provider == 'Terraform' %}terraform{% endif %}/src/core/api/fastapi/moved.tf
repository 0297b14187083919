# Addresses of earlier versions, so that an upgrade keeps the deployed resources: the router of
# the shared pattern once had no key.

moved {
  from = aws_cloudwatch_log_group.lambda
  to   = aws_cloudwatch_log_group.lambda["router"]
}

moved {
  from = aws_iam_role.lambda_execution_role
  to   = aws_iam_role.lambda_execution_role["router"]
}

moved {
  from = aws_iam_role_policy.lambda_execution
  to   = aws_iam_role_policy.lambda_execution["router"]
}

moved {
  from = aws_iam_role_policy.additional[0]
  to   = aws_iam_role_policy.additional["router"]
}

moved {
  from = aws_iam_role_policy_attachment.vpc_access[0]
  to   = aws_iam_role_policy_attachment.vpc_access["router"]
}

moved {
  from = aws_lambda_function.api_lambda
  to   = aws_lambda_function.api_lambda["router"]
}
