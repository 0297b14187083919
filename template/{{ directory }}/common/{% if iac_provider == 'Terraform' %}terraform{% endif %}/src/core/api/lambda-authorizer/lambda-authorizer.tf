# The Lambda authorizer of an API that authenticates with Custom: a function verifying the
# bearer token (a JWT of jwt_issuer, for one of jwt_audience) of each request API Gateway sends
# it, deny by default. Its code is the API's bundle (common_runtime.authorizer), run by the
# Python runtime itself. The API modules (rest-api, http-api) attach it with lambda_authorizer.

locals {
  # Only what is set: the function refuses every request without an issuer and an audience.
  environment = merge(
    { POWERTOOLS_SERVICE_NAME = var.name },
    var.jwt_issuer == null ? {} : { JWT_ISSUER = var.jwt_issuer },
    length(var.jwt_audience) == 0 ? {} : { JWT_AUDIENCE = join(",", var.jwt_audience) },
    var.jwks_url == null ? {} : { JWKS_URL = var.jwks_url },
  )
}

data "aws_partition" "current" {}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/lambda/${var.name}"
  retention_in_days = var.log_retention_in_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

data "aws_iam_policy_document" "assume_role" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = var.name
  assume_role_policy = data.aws_iam_policy_document.assume_role.json
  tags               = var.tags
}

# Least privilege: its own log group and traces; it calls nothing else of AWS.
data "aws_iam_policy_document" "execution" {
  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }

  statement {
    sid       = "WriteTraces"
    actions   = ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "execution" {
  name   = "execution"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.execution.json
}

resource "aws_iam_role_policy_attachment" "vpc_access" {
  count = length(var.vpc_subnet_ids) > 0 ? 1 : 0

  role       = aws_iam_role.this.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
}

resource "aws_lambda_function" "this" {
  function_name    = var.name
  description      = var.description
  role             = aws_iam_role.this.arn
  filename         = var.s3_bucket == null ? var.bundle_path : null
  s3_bucket        = var.s3_bucket
  s3_key           = var.s3_key
  source_code_hash = filebase64sha256(var.bundle_path)
  handler          = var.handler
  runtime          = var.runtime
  architectures    = [var.architecture]
  memory_size      = var.memory_size
  timeout          = var.timeout
  kms_key_arn      = var.kms_key_arn

  reserved_concurrent_executions = var.reserved_concurrent_executions

  environment {
    variables = local.environment
  }

  tracing_config {
    mode = "Active"
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.this.name
  }

  dynamic "vpc_config" {
    for_each = length(var.vpc_subnet_ids) > 0 ? [1] : []

    content {
      subnet_ids         = var.vpc_subnet_ids
      security_group_ids = var.vpc_security_group_ids
    }
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = length(var.vpc_subnet_ids) == 0 || length(var.vpc_security_group_ids) > 0
      error_message = "vpc_subnet_ids needs at least one security group in vpc_security_group_ids."
    }

    precondition {
      condition     = length(var.name) <= 64
      error_message = "The function name ${var.name} is longer than Lambda's 64 characters: shorten name."
    }
  }

  depends_on = [
    aws_iam_role_policy.execution,
    aws_iam_role_policy_attachment.vpc_access,
  ]
}
