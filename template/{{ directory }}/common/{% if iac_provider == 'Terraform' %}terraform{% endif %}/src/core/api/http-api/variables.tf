variable "name" {
  description = "Name of the HTTP API; also names its access log group."
  type        = string
}

variable "description" {
  description = "Description of the HTTP API."
  type        = string
  default     = null
}

variable "jwt_issuer" {
  description = "Issuer URL of a JWT authorizer (for Cognito: https://cognito-idp.<region>.amazonaws.com/<user-pool-id>); null for none."
  type        = string
  default     = null
}

variable "jwt_audience" {
  description = "Audiences (for Cognito: app client ids) a JWT must carry."
  type        = list(string)
  default     = []
}

variable "lambda_authorizer" {
  description = "A Lambda authorizer (payload 2.0, simple responses) for the routes to use (function_name, invoke_arn of its function, such as the lambda-authorizer module's; result_ttl_in_seconds, default 300); null for none. Its id is the authorizer_id output."
  type = object({
    function_name         = string
    invoke_arn            = string
    result_ttl_in_seconds = optional(number, 300)
  })
  default = null
}

variable "routes" {
  description = "The API's routes, by route key \"METHOD /path\" (ANY for every method; \"{param}\" and the greedy \"{proxy+}\" as segments): function, a key of lambda_functions, or http_uri and http_method of an HTTP endpoint (name: the operation it serves)."
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
      can(regex("^(ANY|DELETE|GET|HEAD|OPTIONS|PATCH|POST|PUT) /", route)) && (target.function == null) != (target.http_uri == null)
    ])
    error_message = "Each key of routes is \"METHOD /path\" and each route names either a function or an http_uri."
  }
}

variable "lambda_functions" {
  description = "The functions routes name, by key: function_name and qualifier (alias) to let API Gateway invoke, invoke_arn of the alias, invoke_source the stage/method/path it may be invoked for (\"*\" for any)."
  type = map(object({
    function_name = string
    qualifier     = string
    invoke_arn    = string
    invoke_source = string
  }))
  default = {}
}

variable "authorization" {
  description = "Authorization of every route of routes: AWS_IAM, JWT (with jwt_issuer), CUSTOM (with lambda_authorizer) or NONE."
  type        = string
  default     = "AWS_IAM"

  validation {
    condition     = contains(["AWS_IAM", "JWT", "CUSTOM", "NONE"], var.authorization)
    error_message = "authorization must be AWS_IAM, JWT, CUSTOM or NONE."
  }
}

variable "cors_allow_origins" {
  description = "Origins allowed to call the API from a browser (\"*\" for any). Empty disables CORS."
  type        = list(string)
  default     = ["*"]
}

variable "cors_allow_methods" {
  description = "Methods browsers may use."
  type        = list(string)
  default     = ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"]
}

variable "cors_allow_headers" {
  description = "Request headers browsers may send."
  type        = list(string)
  default     = ["authorization", "content-type", "x-amz-content-sha256", "x-amz-date", "x-amz-security-token", "x-correlation-id"]
}

variable "cors_expose_headers" {
  description = "Response headers browsers may read."
  type        = list(string)
  default     = ["x-correlation-id"]
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

variable "throttling_burst_limit" {
  description = "Burst limit of every route; null for the account's limit."
  type        = number
  default     = null
}

variable "throttling_rate_limit" {
  description = "Steady requests per second of every route; null for the account's limit."
  type        = number
  default     = null
}

variable "tags" {
  description = "Tags of every resource."
  type        = map(string)
  default     = {}
}
