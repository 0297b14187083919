# A FastAPI app on AWS Lambda, through the Lambda Web Adapter: one function per operation of its
# OpenAPI document (isolated) or one function, the router, for every operation (shared); their
# roles, log groups and `live` aliases; the routes a gateway module (rest-api, http-api) serves;
# and the API's sign-in: a Cognito user pool or the Lambda authorizer (auth.tf).
#
# Each API's module (app/apis/<api>) calls this module with its answers and a gateway module
# with the routes and functions this one outputs.

data "aws_region" "current" {}

# Checked before anything is planned: what the build writes, and option names that must match
# the API's operations.
data "aws_partition" "current" {
  lifecycle {
    precondition {
      condition     = fileexists(var.bundle_path)
      error_message = "No Lambda bundle at ${var.bundle_path}: build it with `uv run poe bundle ${var.service_name}` (or set bundle_path)."
    }

    precondition {
      condition     = !local.openapi_needed || fileexists(var.openapi_path)
      error_message = "No OpenAPI document at ${var.openapi_path}: write it with `uv run poe openapi ${var.service_name}` (or set openapi_path)."
    }

    precondition {
      condition     = length(local.unknown_operations) == 0
      error_message = "Unknown operation(s) in ${join(" and ", local.unknown_operations_in)}: ${join(", ", local.unknown_operations)}. The API's operations: ${join(", ", sort(keys(local.operations)))}."
    }

    precondition {
      condition     = !local.isolated || length(local.operations) > 0
      error_message = "The OpenAPI document at ${var.openapi_path} lists no operation."
    }

    precondition {
      condition     = local.isolated || length(var.operation_options) == 0
      error_message = "operation_options sets one operation's function: the shared pattern has one function for all (set memory_size, timeout, env instead)."
    }
  }
}

locals {
  isolated = var.integration_pattern == "isolated"

  # Every operation gets its own function when isolated, so the document names them; the
  # router serves every operation, so the document is only read to route overridden ones.
  openapi_needed = local.isolated || length(var.integration_overrides) > 0
  openapi        = jsondecode(local.openapi_needed && fileexists(var.openapi_path) ? file(var.openapi_path) : "{\"paths\": {}}")
  operations = {
    for operation in flatten([
      for path, item in local.openapi.paths : [
        for method, details in item : {
          name   = details.operationId
          path   = path
          method = upper(method)
        } if contains(["delete", "get", "head", "options", "patch", "post", "put"], method)
      ]
    ]) : operation.name => operation
  }
  unknown_operations_by_option = {
    operation_options     = setsubtract(keys(var.operation_options), keys(local.operations))
    integration_overrides = setsubtract(keys(var.integration_overrides), keys(local.operations))
  }
  unknown_operations    = sort(flatten([for names in values(local.unknown_operations_by_option) : tolist(names)]))
  unknown_operations_in = [for option, names in local.unknown_operations_by_option : option if length(names) > 0]
  # The overrides of known operations (unknown ones fail the plan: see data.aws_partition).
  integration_overrides = { for name, override in var.integration_overrides : name => override if contains(keys(local.operations), name) }

  # Isolated: one function per operation not overridden with an integration of its own.
  # Shared: one function, the router, for every operation.
  functions = local.isolated ? {
    for name, operation in local.operations : name => {
      function_name = "${var.name}-${name}"
      description   = "${var.service_name}: ${operation.method} ${operation.path} (${name})"
      memory_size   = coalesce(try(var.operation_options[name].memory_size, null), var.memory_size)
      timeout       = coalesce(try(var.operation_options[name].timeout, null), var.timeout)
      env           = try(var.operation_options[name].env, {})
      role_name     = "${var.name}-${name}"
      # What it may be invoked for: its own method and path ("{param}" matches any value).
      invoke_source = "*/${operation.method}${replace(operation.path, "/\\{[^/]+\\}/", "*")}"

      additional_iam_policy_statements = concat(var.additional_iam_policy_statements, try(var.operation_options[name].additional_iam_policy_statements, []))
      reserved_concurrent_executions   = coalesce(try(var.operation_options[name].reserved_concurrent_executions, null), var.reserved_concurrent_executions)
    } if !contains(keys(local.integration_overrides), name)
    } : {
    router = {
      function_name = var.name
      description   = "${var.service_name}: FastAPI on the Lambda Web Adapter"
      memory_size   = var.memory_size
      timeout       = var.timeout
      env           = {}
      role_name     = "${var.name}-lambda"
      invoke_source = "*"

      additional_iam_policy_statements = var.additional_iam_policy_statements
      reserved_concurrent_executions   = var.reserved_concurrent_executions
    }
  }

  # AWS values pinned once for CDK and Terraform, with their sources and the date checked.
  facts   = jsondecode(file("${path.module}/../../../../../aws-facts.json"))
  adapter = local.facts.lambda_web_adapter.value

  # The Lambda Web Adapter layer of the partition, Region and architecture: one account
  # publishes it in every commercial Region, each China Region has its own.
  lambda_web_adapter_layer_arn = coalesce(var.lambda_web_adapter_layer_arn, format(
    "arn:%s:lambda:%s:%s:layer:%s:%d",
    data.aws_partition.current.partition,
    data.aws_region.current.id,
    lookup(local.adapter.layer_accounts, data.aws_region.current.id, local.adapter.layer_accounts.aws),
    local.adapter.layer_names[var.architecture],
    coalesce(var.lambda_web_adapter_layer_version, local.adapter.layer_version),
  ))
  # Traces need no layer: with active tracing, Lambda's X-Ray endpoint takes them over UDP.
  layers = [local.lambda_web_adapter_layer_arn]

  environment = {
    for key, function in local.functions : key => merge(
      {
        ALLOWED_ORIGINS              = join(",", var.cors_allow_origins)
        POWERTOOLS_SERVICE_NAME      = var.service_name
        POWERTOOLS_METRICS_NAMESPACE = var.service_name
      },
      var.env,
      function.env,
      # What the adapter needs to start run.sh, reach uvicorn, check it is ready and run the
      # SnapStart hooks (aws-facts.json): not overridable. REST APIs stream responses.
      local.facts.adapter_environment.value,
      {
        (local.facts.lambda_web_adapter_settings.value.invoke_mode) = local.facts.adapter_environment.invoke_mode[lower(var.gateway)]
      },
    )
  }

  additional_policies = {
    for key, function in local.functions : key => jsonencode({
      Version   = "2012-10-17"
      Statement = function.additional_iam_policy_statements
    }) if length(function.additional_iam_policy_statements) > 0
  }
}

# --- The code bundle: uploaded with each function, or once to asset_bucket_name ------------

resource "aws_s3_object" "bundle" {
  count = var.asset_bucket_name == null ? 0 : 1

  bucket     = var.asset_bucket_name
  key        = "${var.name}/lambda-${filemd5(var.bundle_path)}.zip"
  source     = var.bundle_path
  etag       = filemd5(var.bundle_path)
  kms_key_id = var.kms_key_arn
  tags       = var.tags
}

# --- The functions --------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "lambda" {
  for_each = local.functions

  name              = "/aws/lambda/${each.value.function_name}"
  retention_in_days = var.log_retention_in_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

data "aws_iam_policy_document" "lambda_assume_role" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "lambda_execution_role" {
  for_each = local.functions

  name               = each.value.role_name
  assume_role_policy = data.aws_iam_policy_document.lambda_assume_role.json
  tags               = var.tags
}

# Least privilege: write to its own log group and send traces; nothing else unless granted
# through additional_iam_policy_statements (and, isolated, the operation's own in
# operation_options).
data "aws_iam_policy_document" "lambda_execution" {
  for_each = local.functions

  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.lambda[each.key].arn}:*"]
  }

  statement {
    sid       = "WriteTraces"
    actions   = ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "lambda_execution" {
  for_each = local.functions

  name   = "execution"
  role   = aws_iam_role.lambda_execution_role[each.key].id
  policy = data.aws_iam_policy_document.lambda_execution[each.key].json
}

resource "aws_iam_role_policy" "additional" {
  for_each = local.additional_policies

  name   = "additional"
  role   = aws_iam_role.lambda_execution_role[each.key].id
  policy = each.value
}

resource "aws_iam_role_policy_attachment" "vpc_access" {
  for_each = length(var.vpc_subnet_ids) > 0 ? local.functions : {}

  role       = aws_iam_role.lambda_execution_role[each.key].name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
}

resource "aws_lambda_function" "api_lambda" {
  for_each = local.functions

  function_name    = each.value.function_name
  description      = each.value.description
  role             = aws_iam_role.lambda_execution_role[each.key].arn
  filename         = var.asset_bucket_name == null ? var.bundle_path : null
  s3_bucket        = var.asset_bucket_name
  s3_key           = one(aws_s3_object.bundle[*].key)
  source_code_hash = filebase64sha256(var.bundle_path)
  handler          = "run.sh"
  runtime          = var.runtime
  architectures    = [var.architecture]
  layers           = local.layers
  memory_size      = each.value.memory_size
  timeout          = each.value.timeout
  kms_key_arn      = var.kms_key_arn
  # Each deployment publishes a version; API Gateway invokes the `live` alias, which follows it.
  publish = true

  reserved_concurrent_executions = each.value.reserved_concurrent_executions

  environment {
    variables = local.environment[each.key]
  }

  tracing_config {
    mode = "Active"
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.lambda[each.key].name
  }

  dynamic "snap_start" {
    for_each = var.snap_start ? [1] : []

    content {
      apply_on = "PublishedVersions"
    }
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
      condition     = var.lambda_web_adapter_layer_arn != null || contains(lookup(local.adapter.partitions, data.aws_partition.current.partition, []), var.architecture)
      error_message = "Lambda Web Adapter publishes no ${var.architecture} layer in ${data.aws_partition.current.partition} (aws-facts.json): choose another architecture or set lambda_web_adapter_layer_arn."
    }

    precondition {
      condition     = length(each.value.function_name) <= 64
      error_message = "The function name ${each.value.function_name} is longer than Lambda's 64 characters: shorten name."
    }
  }

  depends_on = [
    aws_iam_role_policy.lambda_execution,
    aws_iam_role_policy_attachment.vpc_access,
  ]
}

resource "aws_lambda_alias" "live" {
  for_each = local.functions

  name             = "live"
  description      = "The published version API Gateway invokes."
  function_name    = aws_lambda_function.api_lambda[each.key].function_name
  function_version = aws_lambda_function.api_lambda[each.key].version
}

# --- What the gateway serves: "METHOD /path" => a function, or an overridden operation's HTTP
# endpoint ---------------------------------------------------------------------------------

locals {
  lambda_routes = local.isolated ? {
    for name in keys(local.functions) : "${local.operations[name].method} ${local.operations[name].path}" => name
    } : var.gateway == "REST" ? {
    "ANY /"         = "router"
    "ANY /{proxy+}" = "router"
    } : {
    # Every method but OPTIONS: API Gateway answers CORS preflight requests from its CORS settings.
    for route in flatten([
      for method in ["DELETE", "GET", "HEAD", "PATCH", "POST", "PUT"] : ["${method} /", "${method} /{proxy+}"]
    ]) : route => "router"
  }
  override_routes = {
    for name in keys(local.integration_overrides) : "${local.operations[name].method} ${local.operations[name].path}" => name
  }
  routes = merge(
    { for route, function in local.lambda_routes : route => { function = function, http_uri = null, http_method = null, name = null } },
    {
      for route, name in local.override_routes : route => {
        function    = null
        http_uri    = local.integration_overrides[name].uri
        http_method = coalesce(local.integration_overrides[name].method, local.operations[name].method)
        name        = name
      }
    },
  )
}
