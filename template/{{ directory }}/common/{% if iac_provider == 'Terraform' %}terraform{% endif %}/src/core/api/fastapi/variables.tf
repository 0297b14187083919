# --- What the API's module fixes: its name and the answers it was generated with -----------

variable "service_name" {
  description = "Name of the API (its folder): the Powertools service and metrics namespace, and the functions' descriptions."
  type        = string
}

variable "gateway" {
  description = "The API Gateway flavour in front: REST (responses streamed) or HTTP (buffered)."
  type        = string

  validation {
    condition     = contains(["REST", "HTTP"], var.gateway)
    error_message = "gateway must be REST or HTTP."
  }
}

variable "auth" {
  description = "Who may call the API: IAM (SigV4), Cognito (the user pool's tokens), Custom (the Lambda authorizer) or None."
  type        = string

  validation {
    condition     = contains(["IAM", "Cognito", "Custom", "None"], var.auth)
    error_message = "auth must be IAM, Cognito, Custom or None."
  }
}

variable "integration_pattern" {
  description = "isolated: one function per operation of the OpenAPI document; shared: one function, the router, for every operation."
  type        = string

  validation {
    condition     = contains(["isolated", "shared"], var.integration_pattern)
    error_message = "integration_pattern must be isolated or shared."
  }
}

variable "architecture" {
  description = "Instruction set of the functions: arm64 or x86_64 (the bundle is built for it)."
  type        = string

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "runtime" {
  description = "Lambda runtime of the functions, such as python3.12 (the bundle is built for it)."
  type        = string
}

variable "bundle_path" {
  description = "Zip of the functions' code (uv run poe bundle <api>)."
  type        = string
}

variable "openapi_path" {
  description = "OpenAPI document of the API (uv run poe openapi <api>): read for the isolated pattern's functions and for integration_overrides."
  type        = string
}

# --- What the API's module passes on from its own variables (described there) ----------------

variable "name" {
  type = string
}

variable "env" {
  type    = map(string)
  default = {}
}

variable "additional_iam_policy_statements" {
  type    = any
  default = []
}

variable "tags" {
  type    = map(string)
  default = {}
}

variable "cors_allow_origins" {
  type    = list(string)
  default = ["*"]
}

variable "memory_size" {
  type    = number
  default = 1024
}

variable "timeout" {
  type    = number
  default = 30
}

variable "reserved_concurrent_executions" {
  type    = number
  default = -1
}

variable "log_retention_in_days" {
  type    = number
  default = 365
}

variable "kms_key_arn" {
  type    = string
  default = null
}

variable "vpc_subnet_ids" {
  type    = list(string)
  default = []
}

variable "vpc_security_group_ids" {
  type    = list(string)
  default = []
}

variable "lambda_web_adapter_layer_version" {
  type    = number
  default = null
}

variable "lambda_web_adapter_layer_arn" {
  type    = string
  default = null
}

variable "asset_bucket_name" {
  type    = string
  default = null
}

variable "snap_start" {
  type    = bool
  default = true
}

variable "operation_options" {
  description = "The isolated pattern's settings of one operation's function, by operation name: memory_size, timeout, reserved_concurrent_executions, env, additional_iam_policy_statements."
  type        = any
  default     = {}

  validation {
    condition = alltrue([
      for name, options in var.operation_options : length(setsubtract(keys(options), [
        "memory_size", "timeout", "reserved_concurrent_executions", "env", "additional_iam_policy_statements",
      ])) == 0
    ])
    error_message = "operation_options accepts memory_size, timeout, reserved_concurrent_executions, env and additional_iam_policy_statements for each operation."
  }
}

variable "integration_overrides" {
  type = map(object({
    uri    = string
    method = optional(string)
  }))
  default = {}
}

variable "cognito_user_pool_arn" {
  description = "auth Cognito: an existing user pool; null to create one."
  type        = string
  default     = null
}

variable "cognito_user_pool_client_id" {
  description = "auth Cognito: an existing app client of the user pool; null to create one."
  type        = string
  default     = null
}

variable "jwt_issuer" {
  description = "auth Custom: issuer of the tokens the Lambda authorizer accepts."
  type        = string
  default     = null
}

variable "jwt_audience" {
  description = "auth Custom: audiences one of which a token must name."
  type        = list(string)
  default     = []
}

variable "jwks_url" {
  description = "auth Custom: the issuer's key set; null for <jwt_issuer>/.well-known/jwks.json."
  type        = string
  default     = null
}
