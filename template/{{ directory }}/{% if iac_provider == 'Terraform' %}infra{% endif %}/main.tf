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
