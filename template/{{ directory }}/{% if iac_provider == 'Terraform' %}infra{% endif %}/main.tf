# Shared by every API of the repository; each API adds its own <api-name>.tf next to this file.

locals {
  common_tags = merge(
    {
      Environment = var.environment
      ManagedBy   = "terraform"
    },
    var.tags,
  )
}

data "aws_partition" "current" {}

data "aws_iam_policy_document" "api_gateway_assume_role" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["apigateway.amazonaws.com"]
    }
  }
}

# REST API stages can only write access logs once the account (per Region) names a role that
# API Gateway uses to push to CloudWatch Logs. That setting belongs to the whole account and
# Region, not to one environment: it is off by default (manage_api_gateway_cloudwatch_role), to
# be set once, by one configuration that is never destroyed (see README.md).
resource "aws_iam_role" "api_gateway_cloudwatch" {
  count = var.manage_api_gateway_cloudwatch_role ? 1 : 0

  name               = "api-gateway-cloudwatch-${var.environment}-${var.aws_region}"
  assume_role_policy = data.aws_iam_policy_document.api_gateway_assume_role.json
  tags               = local.common_tags
}

resource "aws_iam_role_policy_attachment" "api_gateway_cloudwatch" {
  count = var.manage_api_gateway_cloudwatch_role ? 1 : 0

  role       = aws_iam_role.api_gateway_cloudwatch[0].name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
}

resource "aws_api_gateway_account" "this" {
  count = var.manage_api_gateway_cloudwatch_role ? 1 : 0

  cloudwatch_role_arn = aws_iam_role.api_gateway_cloudwatch[0].arn

  depends_on = [aws_iam_role_policy_attachment.api_gateway_cloudwatch]
}

# CloudWatch Transaction Search: X-Ray stores every span it receives in CloudWatch Logs
# (aws/spans), where a request's spans can be searched and analysed. Another setting of the whole
# account and Region: off by default (transaction_search), for one configuration to own, and
# only turned on this way while it is off. The hashicorp/aws provider has no resource for it, so
# a one-resource CloudFormation stack holds it; destroying the stack turns it off.
locals {
  facts              = jsondecode(file("${path.module}/../common/aws-facts.json"))
  transaction_search = local.facts.transaction_search.value
}

# Read only with Transaction Search on: a plan without it needs no call to STS.
data "aws_caller_identity" "current" {
  count = var.transaction_search ? 1 : 0
}

resource "aws_cloudwatch_log_resource_policy" "transaction_search" {
  count = var.transaction_search ? 1 : 0

  policy_name = "TransactionSearchAccess"
  policy_document = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "TransactionSearchXRayAccess"
      Effect    = "Allow"
      Principal = { Service = local.transaction_search.log_writer }
      Action    = "logs:PutLogEvents"
      Resource = [
        for group in [local.transaction_search.spans_log_group, local.transaction_search.application_signals_log_group] :
        "arn:${data.aws_partition.current.partition}:logs:${var.aws_region}:${data.aws_caller_identity.current[0].account_id}:log-group:${group}:*"
      ]
      Condition = {
        ArnLike      = { "aws:SourceArn" = "arn:${data.aws_partition.current.partition}:xray:${var.aws_region}:${data.aws_caller_identity.current[0].account_id}:*" }
        StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.current[0].account_id }
      }
    }]
  })
}

resource "aws_cloudformation_stack" "transaction_search" {
  count = var.transaction_search ? 1 : 0

  name = "transaction-search"
  template_body = jsonencode({
    Resources = {
      TransactionSearchConfig = {
        Type       = local.transaction_search.cloudformation_type
        Properties = { IndexingPercentage = var.transaction_search_indexing_percentage }
      }
    }
  })
  tags = local.common_tags

  depends_on = [aws_cloudwatch_log_resource_policy.transaction_search]
}
