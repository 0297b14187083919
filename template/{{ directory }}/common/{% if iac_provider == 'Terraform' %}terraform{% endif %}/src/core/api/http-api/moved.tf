# Addresses of earlier versions, so that an upgrade keeps the deployed resources: a single
# function's permission once had no key; it is the `router` of lambda_functions.

moved {
  from = aws_lambda_permission.api_gateway
  to   = aws_lambda_permission.api_gateway["router"]
}
