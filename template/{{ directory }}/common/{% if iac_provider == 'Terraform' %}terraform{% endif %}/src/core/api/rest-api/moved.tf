# Addresses of earlier versions of this module, so that an upgrade keeps the deployed resources.

moved {
  from = aws_api_gateway_resource.proxy
  to   = aws_api_gateway_resource.depth_1["/{proxy+}"]
}

moved {
  from = aws_api_gateway_method.preflight["root"]
  to   = aws_api_gateway_method.preflight["/"]
}

moved {
  from = aws_api_gateway_method.preflight["proxy"]
  to   = aws_api_gateway_method.preflight["/{proxy+}"]
}

moved {
  from = aws_api_gateway_integration.preflight["root"]
  to   = aws_api_gateway_integration.preflight["/"]
}

moved {
  from = aws_api_gateway_integration.preflight["proxy"]
  to   = aws_api_gateway_integration.preflight["/{proxy+}"]
}

moved {
  from = aws_api_gateway_method_response.preflight["root"]
  to   = aws_api_gateway_method_response.preflight["/"]
}

moved {
  from = aws_api_gateway_method_response.preflight["proxy"]
  to   = aws_api_gateway_method_response.preflight["/{proxy+}"]
}

moved {
  from = aws_api_gateway_integration_response.preflight["root"]
  to   = aws_api_gateway_integration_response.preflight["/"]
}

moved {
  from = aws_api_gateway_integration_response.preflight["proxy"]
  to   = aws_api_gateway_integration_response.preflight["/{proxy+}"]
}

# A single function's permission once had no key; it is the `router` of lambda_functions.
moved {
  from = aws_lambda_permission.api_gateway
  to   = aws_lambda_permission.api_gateway["router"]
}
