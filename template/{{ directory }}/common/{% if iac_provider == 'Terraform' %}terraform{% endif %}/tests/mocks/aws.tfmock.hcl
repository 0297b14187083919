# Values the mocked hashicorp/aws provider returns under `terraform test` (every suite of the
# repository uses them): valid JSON for policy documents and ARNs where other values (policies,
# integration URIs, permissions) are built from them.

mock_data "aws_partition" {
  defaults = {
    partition  = "aws"
    dns_suffix = "amazonaws.com"
  }
}

mock_data "aws_region" {
  defaults = {
    id   = "eu-west-1"
    name = "eu-west-1"
  }
}

mock_data "aws_iam_policy_document" {
  defaults = {
    json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
  }
}

mock_resource "aws_iam_role" {
  defaults = {
    arn = "arn:aws:iam::123456789012:role/mocked"
  }
}

mock_resource "aws_cloudwatch_log_group" {
  defaults = {
    arn = "arn:aws:logs:eu-west-1:123456789012:log-group:mocked"
  }
}

mock_resource "aws_lambda_function" {
  defaults = {
    arn        = "arn:aws:lambda:eu-west-1:123456789012:function:mocked"
    invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:mocked/invocations"
    version    = "1"
  }
}

mock_resource "aws_lambda_alias" {
  defaults = {
    arn        = "arn:aws:lambda:eu-west-1:123456789012:function:mocked:live"
    invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:mocked:live/invocations"
  }
}

mock_resource "aws_api_gateway_rest_api" {
  defaults = {
    arn              = "arn:aws:apigateway:eu-west-1::/restapis/mocked"
    execution_arn    = "arn:aws:execute-api:eu-west-1:123456789012:mocked"
    root_resource_id = "root"
  }
}

mock_resource "aws_api_gateway_stage" {
  defaults = {
    arn        = "arn:aws:apigateway:eu-west-1::/restapis/mocked/stages/prod"
    invoke_url = "https://mocked.execute-api.eu-west-1.amazonaws.com/prod"
  }
}

mock_resource "aws_apigatewayv2_api" {
  defaults = {
    arn           = "arn:aws:apigateway:eu-west-1::/apis/mocked"
    execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:mocked"
    api_endpoint  = "https://mocked.execute-api.eu-west-1.amazonaws.com"
  }
}

mock_resource "aws_apigatewayv2_stage" {
  defaults = {
    arn        = "arn:aws:apigateway:eu-west-1::/apis/mocked/stages/$default"
    invoke_url = "https://mocked.execute-api.eu-west-1.amazonaws.com/"
  }
}

mock_resource "aws_wafv2_web_acl" {
  defaults = {
    arn = "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/mocked/00000000-0000-0000-0000-000000000000"
  }
}

mock_resource "aws_cognito_user_pool" {
  defaults = {
    arn = "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_mocked"
  }
}
