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

# --- Passed on by each API's module, whose variables these declarations are (its build copies
# them there): described once, here. ---------------------------------------------------------

variable "name" {
  description = "Name of the function, API, role and log groups (add the environment to deploy several)."
  type        = string
}

variable "env" {
  description = "Environment variables of the function, merged over the defaults (POWERTOOLS_*, ALLOWED_ORIGINS)."
  type        = map(string)
  default     = {}
}

variable "additional_iam_policy_statements" {
  description = "IAM policy statements granted to the function, as in a policy document: [{ Effect = \"Allow\", Action = [...], Resource = [...] }]."
  type        = any
  default     = []
}

variable "tags" {
  description = "Tags of every resource."
  type        = map(string)
  default     = {}
}

variable "cors_allow_origins" {
  description = "Origins allowed to call the API from a browser (\"*\" for any); each response names the one origin that called. Empty: no CORS preflight."
  type        = list(string)
  default     = ["*"]
}

variable "memory_size" {
  description = "Memory of the function in MB (CPU grows with it)."
  type        = number
  default     = 1024
}

variable "timeout" {
  description = "Timeout of the function in seconds."
  type        = number
  default     = 30
}

variable "reserved_concurrent_executions" {
  description = "Concurrency reserved for the function (-1: unreserved, shares the account's pool)."
  type        = number
  default     = -1
}

variable "log_retention_in_days" {
  description = "Retention of the function's and the API's log groups."
  type        = number
  default     = 365
}

variable "kms_key_arn" {
  description = "KMS key encrypting the log groups and the function's environment; null for AWS-owned keys."
  type        = string
  default     = null
}

variable "vpc_subnet_ids" {
  description = "Subnets to run the function in; empty: outside any VPC."
  type        = list(string)
  default     = []
}

variable "vpc_security_group_ids" {
  description = "Security groups of the function when it runs in vpc_subnet_ids."
  type        = list(string)
  default     = []
}

variable "lambda_web_adapter_layer_version" {
  description = "Version of the Lambda Web Adapter layer; null for the one in aws-facts.json (see https://github.com/aws/aws-lambda-web-adapter)."
  type        = number
  default     = null
}

variable "lambda_web_adapter_layer_arn" {
  description = "Full ARN of a Lambda Web Adapter layer, replacing the published one for the region and architecture."
  type        = string
  default     = null
}

variable "asset_bucket_name" {
  description = "Existing S3 bucket to upload the code bundle to (no 50 MB limit of direct uploads); null to upload it with the function."
  type        = string
  default     = null
}

variable "snap_start" {
  description = "SnapStart on published versions: API Gateway invokes the `live` alias, restored from a snapshot of the initialised function instead of starting it cold."
  type        = bool
  default     = true
}

variable "operation_options" {
  description = "Settings of one operation's function, by operation name (the route function's name), isolated pattern only: memory_size, timeout, reserved_concurrent_executions, env (merged over env), additional_iam_policy_statements (added to the module's)."
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
  description = "Operations served by an HTTP endpoint instead of a function, by operation name: { uri = \"https://...\", method = \"GET\" (default: the operation's) }."
  type = map(object({
    uri    = string
    method = optional(string)
  }))
  default = {}
}

variable "cognito_user_pool_arn" {
  description = "ARN of an existing Cognito user pool (auth Cognito); null to create one."
  type        = string
  default     = null
}

variable "cognito_user_pool_client_id" {
  description = "Id of an existing app client of the user pool (auth Cognito); null to create one."
  type        = string
  default     = null
}

variable "jwt_issuer" {
  description = "Issuer URL of the tokens the Lambda authorizer accepts (auth Custom: their iss claim); null: it refuses every request."
  type        = string
  default     = null
}

variable "jwt_audience" {
  description = "Audiences one of which a token must name (auth Custom: aud, or client_id for Cognito access tokens); empty: the authorizer refuses every request."
  type        = list(string)
  default     = []
}

variable "jwks_url" {
  description = "The issuer's key set (JWKS, auth Custom); null for <jwt_issuer>/.well-known/jwks.json."
  type        = string
  default     = null
}
