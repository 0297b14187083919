# The FastAPI service module, planned with a mocked AWS provider (nothing is deployed), for each
# pattern, gateway and auth: tests/openapi.json stands in for an API's document (six operations,
# on `/` and nested paths), tests/lambda.zip for its bundle.

# Mocked values are known while planning: every run is a plan, nothing is applied.
mock_provider "aws" {
  source          = "../../../../tests/mocks"
  override_during = plan
}

variables {
  service_name        = "items"
  name                = "items"
  gateway             = "REST"
  auth                = "IAM"
  integration_pattern = "isolated"
  architecture        = "arm64"
  runtime             = "python3.12"
  bundle_path         = "tests/lambda.zip"
  openapi_path        = "tests/openapi.json"
}

run "isolated_each_operation_gets_its_own_function" {
  command = plan

  assert {
    condition = jsonencode(output.route_targets) == jsonencode({
      "GET /"                           = "home"
      "GET /items"                      = "list_items"
      "POST /items"                     = "create_item"
      "GET /items/{item_id}"            = "get_item"
      "DELETE /items/{item_id}"         = "delete_item"
      "PUT /items/{item_id}/tags/{tag}" = "tag_item"
    })
    error_message = "Each operation of the document must be routed to its own function."
  }

  assert {
    condition     = length(aws_lambda_function.api_lambda) == 6 && aws_lambda_function.api_lambda["get_item"].function_name == "items-get_item" && aws_iam_role.lambda_execution_role["get_item"].name == "items-get_item"
    error_message = "One function and role per operation, named after the operation."
  }

  assert {
    condition     = output.functions["get_item"].invoke_source == "*/GET/items/*" && output.functions["home"].invoke_source == "*/GET/" && output.functions["tag_item"].invoke_source == "*/PUT/items/*/tags/*"
    error_message = "Each function may only be invoked for its own method and path."
  }

  assert {
    condition = alltrue([
      for function in aws_lambda_function.api_lambda :
      function.publish && function.snap_start[0].apply_on == "PublishedVersions" && function.handler == "run.sh" && function.runtime == "python3.12" && function.architectures == tolist(["arm64"])
    ])
    error_message = "Every function runs run.sh on the API's runtime and architecture, and publishes versions restored by SnapStart."
  }

  assert {
    condition     = alltrue([for alias in aws_lambda_alias.live : alias.name == "live"])
    error_message = "Every function needs its `live` alias."
  }

  assert {
    condition = alltrue([
      for function in aws_lambda_function.api_lambda :
      function.environment[0].variables.AWS_LWA_INVOKE_MODE == "response_stream" &&
      function.environment[0].variables.POWERTOOLS_SERVICE_NAME == "items" &&
      function.environment[0].variables.AWS_LWA_PORT == "8000" &&
      function.environment[0].variables.AWS_LWA_READINESS_CHECK_PATH == "/_lambda/health" &&
      function.environment[0].variables.AWS_LWA_SNAPSTART_BEFORE_CHECKPOINT_PATH == "/_lambda/snapstart/before-checkpoint" &&
      function.environment[0].variables.AWS_LWA_SNAPSTART_AFTER_RESTORE_PATH == "/_lambda/snapstart/after-restore" &&
      function.environment[0].variables.AWS_LAMBDA_EXEC_WRAPPER == "/opt/bootstrap" &&
      !contains(keys(function.environment[0].variables), "PORT") &&
      !contains(keys(function.environment[0].variables), "OTEL_EXPORTER_OTLP_ENDPOINT")
    ])
    error_message = "Behind a REST API the adapter streams; its settings go by their AWS_LWA_ names: the runtime's readiness path and SnapStart hooks."
  }

  assert {
    condition = alltrue([
      for function in aws_lambda_function.api_lambda :
      function.layers == tolist(["arn:aws:lambda:eu-west-1:753240598075:layer:LambdaAdapterLayerArm64:30"])
    ])
    error_message = "Every function carries the Lambda Web Adapter layer of aws-facts.json (1.1.0, layer 30), and no other (no collector)."
  }

  assert {
    condition     = length(aws_s3_object.bundle) == 0 && alltrue([for function in aws_lambda_function.api_lambda : function.filename == "tests/lambda.zip"])
    error_message = "Without asset_bucket_name the bundle is uploaded with the function."
  }

  assert {
    condition     = output.authorization == "AWS_IAM" && output.lambda_authorizer == null && output.cognito_user_pool_arn == null && length(aws_cognito_user_pool.users) == 0
    error_message = "IAM: every route checks SigV4 signatures, with no user pool and no authorizer."
  }
}

run "shared_one_router_behind_an_http_api" {
  command = plan

  variables {
    integration_pattern = "shared"
    gateway             = "HTTP"
    architecture        = "x86_64"
  }

  assert {
    condition = sort(keys(output.route_targets)) == sort(flatten([
      for method in ["DELETE", "GET", "HEAD", "PATCH", "POST", "PUT"] : ["${method} /", "${method} /{proxy+}"]
    ])) && alltrue([for target in values(output.route_targets) : target == "router"])
    error_message = "Every method but OPTIONS on `/` and every path below it must reach the router."
  }

  assert {
    condition     = keys(aws_lambda_function.api_lambda) == ["router"] && aws_lambda_function.api_lambda["router"].function_name == "items" && aws_iam_role.lambda_execution_role["router"].name == "items-lambda" && output.functions["router"].invoke_source == "*"
    error_message = "One function, the router, invoked for every method and path, keeping the names of earlier versions."
  }

  assert {
    condition     = aws_lambda_function.api_lambda["router"].environment[0].variables.AWS_LWA_INVOKE_MODE == "buffered" && aws_lambda_function.api_lambda["router"].layers == tolist(["arn:aws:lambda:eu-west-1:753240598075:layer:LambdaAdapterLayerX86:30"])
    error_message = "HTTP APIs do not stream: the adapter buffers; the x86_64 layer."
  }
}

run "shared_behind_a_rest_api_routes_everything_with_any" {
  command = plan

  variables {
    integration_pattern = "shared"
  }

  assert {
    condition     = jsonencode(output.route_targets) == jsonencode({ "ANY /" = "router", "ANY /{proxy+}" = "router" })
    error_message = "`/` and every path below it must reach the router."
  }
}

run "cognito_gets_a_user_pool_and_a_client" {
  command = plan

  variables {
    auth    = "Cognito"
    gateway = "HTTP"
  }

  assert {
    condition     = length(aws_cognito_user_pool.users) == 1 && length(aws_cognito_user_pool_client.web) == 1 && output.authorization == "JWT"
    error_message = "Cognito behind an HTTP API: a user pool, an app client, JWT authorization."
  }

  assert {
    condition     = aws_cognito_user_pool.users[0].admin_create_user_config[0].allow_admin_create_user_only && aws_cognito_user_pool_client.web[0].generate_secret == false
    error_message = "No self sign-up by default; a public client has no secret."
  }
}

run "an_existing_user_pool_is_used_as_it_is" {
  command = plan

  variables {
    auth                        = "Cognito"
    cognito_user_pool_arn       = "arn:aws:cognito-idp:eu-central-1:123456789012:userpool/eu-central-1_AbCdEf123"
    cognito_user_pool_client_id = "1example23456789"
  }

  assert {
    condition     = length(aws_cognito_user_pool.users) == 0 && length(aws_cognito_user_pool_client.web) == 0 && output.authorization == "COGNITO_USER_POOLS"
    error_message = "Existing pool and client: nothing created; REST authorises with the user pool."
  }

  assert {
    condition     = output.cognito_issuer == "https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_AbCdEf123" && output.cognito_user_pool_client_id == "1example23456789"
    error_message = "The issuer is the pool's Region and id."
  }
}

run "custom_gets_the_lambda_authorizer" {
  command = plan

  variables {
    auth         = "Custom"
    jwt_issuer   = "https://issuer.example.com"
    jwt_audience = ["items"]
  }

  assert {
    condition     = output.authorization == "CUSTOM" && output.authorizer.function_name == "items-authorizer" && output.lambda_authorizer.function_name == "items-authorizer"
    error_message = "Custom: every route goes through the API's Lambda authorizer, items-authorizer."
  }
}

run "options_reach_the_right_functions" {
  command = plan

  variables {
    operation_options = {
      get_item = {
        memory_size = 2048
        timeout     = 5
        env         = { CACHE_TTL_SECONDS = "60" }
        additional_iam_policy_statements = [{
          Effect   = "Allow"
          Action   = ["dynamodb:GetItem"]
          Resource = ["arn:aws:dynamodb:eu-west-1:123456789012:table/items"]
        }]
      }
    }
    integration_overrides = {
      home = { uri = "https://example.com/documentation" }
    }
    vpc_subnet_ids         = ["subnet-0123456789abcdef0"]
    vpc_security_group_ids = ["sg-0123456789abcdef0"]
    asset_bucket_name      = "my-artifacts"
  }

  assert {
    condition     = aws_lambda_function.api_lambda["get_item"].memory_size == 2048 && aws_lambda_function.api_lambda["get_item"].timeout == 5
    error_message = "get_item's own memory and timeout must apply."
  }

  assert {
    condition     = aws_lambda_function.api_lambda["list_items"].memory_size == 1024 && aws_lambda_function.api_lambda["list_items"].timeout == 30
    error_message = "The other functions keep the module's memory and timeout."
  }

  assert {
    condition     = aws_lambda_function.api_lambda["get_item"].environment[0].variables.CACHE_TTL_SECONDS == "60" && !contains(keys(aws_lambda_function.api_lambda["list_items"].environment[0].variables), "CACHE_TTL_SECONDS")
    error_message = "get_item's environment must reach get_item only."
  }

  assert {
    condition     = jsonencode(keys(aws_iam_role_policy.additional)) == jsonencode(["get_item"]) && strcontains(aws_iam_role_policy.additional["get_item"].policy, "dynamodb:GetItem")
    error_message = "get_item's IAM statements must reach get_item's role only."
  }

  assert {
    condition     = !contains(keys(aws_lambda_function.api_lambda), "home") && output.route_targets["GET /"] == "home"
    error_message = "An overridden operation has no function and keeps its route."
  }

  assert {
    condition     = output.routes["GET /"].function == null && output.routes["GET /"].http_uri == "https://example.com/documentation" && output.routes["GET /"].http_method == "GET" && output.routes["GET /"].name == "home"
    error_message = "The overridden operation must reach its HTTP endpoint, with its own method."
  }

  assert {
    condition     = length(aws_iam_role_policy_attachment.vpc_access) == length(aws_lambda_function.api_lambda) && alltrue([for function in aws_lambda_function.api_lambda : function.vpc_config[0].subnet_ids == toset(["subnet-0123456789abcdef0"])])
    error_message = "Every function must run in the VPC, with VPC access."
  }

  assert {
    condition     = length(aws_s3_object.bundle) == 1 && alltrue([for function in aws_lambda_function.api_lambda : function.s3_bucket == "my-artifacts" && function.filename == null])
    error_message = "With asset_bucket_name the bundle is uploaded once to the bucket."
  }
}

run "unknown_operation_names_are_refused" {
  command = plan

  variables {
    operation_options = {
      no_such_operation = { memory_size = 512 }
    }
    integration_overrides = {
      no_such_endpoint = { uri = "https://example.com" }
    }
  }

  expect_failures = [data.aws_partition.current]
}

run "operation_options_need_the_isolated_pattern" {
  command = plan

  variables {
    integration_pattern = "shared"
    operation_options = {
      get_item = { memory_size = 512 }
    }
  }

  expect_failures = [data.aws_partition.current]
}

run "answers_are_checked" {
  command = plan

  variables {
    gateway = "WebSocket"
    auth    = "Basic"
  }

  expect_failures = [var.gateway, var.auth]
}

run "vpc_subnets_need_a_security_group" {
  command = plan

  variables {
    vpc_subnet_ids = ["subnet-0123456789abcdef0"]
  }

  expect_failures = [aws_lambda_function.api_lambda]
}

run "the_adapter_layer_follows_the_partition_and_region" {
  command = plan

  variables {
    architecture = "x86_64"
  }

  override_data {
    target = data.aws_partition.current
    values = { partition = "aws-cn", dns_suffix = "amazonaws.com.cn" }
  }

  override_data {
    target = data.aws_region.current
    values = { id = "cn-northwest-1", name = "cn-northwest-1" }
  }

  assert {
    condition     = alltrue([for function in aws_lambda_function.api_lambda : function.layers == tolist(["arn:aws-cn:lambda:cn-northwest-1:069767869989:layer:LambdaAdapterLayerX86:30"])])
    error_message = "Each China Region has its own Lambda Web Adapter publisher (aws-facts.json)."
  }
}

run "the_china_regions_publish_no_arm64_layer" {
  command = plan

  override_data {
    target = data.aws_partition.current
    values = { partition = "aws-cn", dns_suffix = "amazonaws.com.cn" }
  }

  override_data {
    target = data.aws_region.current
    values = { id = "cn-northwest-1", name = "cn-northwest-1" }
  }

  # Refused before anything is created.
  expect_failures = [aws_lambda_function.api_lambda]
}
