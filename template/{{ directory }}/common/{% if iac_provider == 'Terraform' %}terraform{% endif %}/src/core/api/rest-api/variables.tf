variable "name" {
  description = "Name of the REST API; also names its access log group."
  type        = string
}

variable "description" {
  description = "Description of the REST API."
  type        = string
  default     = null
}

variable "stage_name" {
  description = "Name of the stage the API is deployed to (part of the invoke URL)."
  type        = string
  default     = "prod"
}

variable "resource_paths" {
  description = "Paths the caller adds methods to (`/` always exists), such as \"/items/{item_id}\" or the greedy \"/{proxy+}\"; their parents are created too."
  type        = list(string)
  default     = ["/{proxy+}"]

  validation {
    condition = alltrue([
      for path in var.resource_paths : can(regex("^(/[^/]+){1,8}$", path))
    ])
    error_message = "Each of resource_paths must start with \"/\", have no empty segment and at most 8 segments (not \"/\" itself: it always exists)."
  }
}

variable "redeployment_trigger" {
  description = "A hash of methods and integrations the caller adds itself on resource_ids: a new value redeploys the stage (the routes' own redeploy it already)."
  type        = string
  default     = ""
}

variable "routes" {
  description = "The API's methods, by \"METHOD /path\" (ANY for every method; \"{param}\" and the greedy \"{proxy+}\" as segments): function, a key of lambda_functions, or http_uri and http_method of an HTTP endpoint (name: the operation it serves)."
  type = map(object({
    function    = optional(string)
    http_uri    = optional(string)
    http_method = optional(string)
    name        = optional(string)
  }))
  default = {}

  validation {
    condition = alltrue([
      for route, target in var.routes :
      can(regex("^(ANY|DELETE|GET|HEAD|OPTIONS|PATCH|POST|PUT) /([^/]+(/[^/]+){0,7})?$", route)) && (target.function == null) != (target.http_uri == null)
    ])
    error_message = "Each key of routes is \"METHOD /path\" (at most 8 segments) and each route names either a function or an http_uri."
  }
}

variable "lambda_functions" {
  description = "The functions routes name, by key: function_name and qualifier (alias) to let API Gateway invoke, alias_arn to invoke, invoke_source the stage/method/path it may be invoked for (\"*\" for any)."
  type = map(object({
    function_name = string
    qualifier     = string
    alias_arn     = string
    invoke_source = string
  }))
  default = {}
}

variable "authorization" {
  description = "Authorization of every method of routes: AWS_IAM, COGNITO_USER_POOLS, CUSTOM (with cognito_user_pool_arns or lambda_authorizer) or NONE."
  type        = string
  default     = "AWS_IAM"

  validation {
    condition     = contains(["AWS_IAM", "COGNITO_USER_POOLS", "CUSTOM", "NONE"], var.authorization)
    error_message = "authorization must be AWS_IAM, COGNITO_USER_POOLS, CUSTOM or NONE."
  }
}

variable "cognito_user_pool_arns" {
  description = "User pools of a Cognito authorizer; empty for none. Its id is the authorizer_id output."
  type        = list(string)
  default     = []
}

variable "lambda_authorizer" {
  description = "A Lambda authorizer (TOKEN: the Authorization header) for the methods to use (function_name, invoke_arn of its function, such as the lambda-authorizer module's; result_ttl_in_seconds, default 300); null for none. Its id is the authorizer_id output."
  type = object({
    function_name         = string
    invoke_arn            = string
    result_ttl_in_seconds = optional(number, 300)
  })
  default = null
}

variable "cors_allow_origins" {
  description = "Origins allowed to call the API from a browser (\"*\" for any). Empty disables CORS preflight."
  type        = list(string)
  default     = ["*"]
}

variable "cors_allow_methods" {
  description = "Methods browsers may use, answered to CORS preflight requests."
  type        = list(string)
  default     = ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"]
}

variable "cors_allow_headers" {
  description = "Request headers browsers may send, answered to CORS preflight requests."
  type        = list(string)
  default     = ["authorization", "content-type", "x-amz-content-sha256", "x-amz-date", "x-amz-security-token", "x-correlation-id"]
}

variable "cors_max_age_seconds" {
  description = "How long browsers may cache a preflight response."
  type        = number
  default     = 600
}

variable "log_retention_in_days" {
  description = "Retention of the access log group."
  type        = number
  default     = 365
}

variable "kms_key_arn" {
  description = "KMS key encrypting the access log group; null for CloudWatch Logs' own encryption."
  type        = string
  default     = null
}

variable "logging_level" {
  description = "Execution logging level of every method: OFF, ERROR or INFO."
  type        = string
  default     = "ERROR"

  validation {
    condition     = contains(["OFF", "ERROR", "INFO"], var.logging_level)
    error_message = "logging_level must be OFF, ERROR or INFO."
  }
}

variable "throttling_burst_limit" {
  description = "Burst limit of every method (-1: the account's limit)."
  type        = number
  default     = -1
}

variable "throttling_rate_limit" {
  description = "Steady requests per second of every method (-1: the account's limit)."
  type        = number
  default     = -1
}

variable "web_acl_enabled" {
  description = "Put a WAF web ACL in front of the stage: AWS managed rules for common threats (request body size only counted) and known bad inputs, with logs in CloudWatch."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags of every resource."
  type        = map(string)
  default     = {}
}
