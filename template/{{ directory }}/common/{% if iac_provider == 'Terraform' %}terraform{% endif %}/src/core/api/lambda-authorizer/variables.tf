variable "name" {
  description = "Name of the function, its role and its log group."
  type        = string
}

variable "description" {
  description = "Description of the function."
  type        = string
  default     = "Lambda authorizer: JWTs of the configured issuer, deny by default"
}

variable "bundle_path" {
  description = "Zip of the code (the API's bundle, which holds common_runtime.authorizer)."
  type        = string
}

variable "s3_bucket" {
  description = "Bucket the bundle was uploaded to; null to upload it with the function."
  type        = string
  default     = null
}

variable "s3_key" {
  description = "Key of the uploaded bundle in s3_bucket."
  type        = string
  default     = null
}

variable "handler" {
  description = "The authorizer's handler in the bundle."
  type        = string
  default     = "common_runtime.authorizer.handler"
}

variable "runtime" {
  description = "Python runtime of the function (the bundle's version)."
  type        = string
}

variable "architecture" {
  description = "Processor architecture of the function (the bundle's wheels): arm64 or x86_64."
  type        = string
}

variable "jwt_issuer" {
  description = "Issuer URL the tokens must name (iss); null: every request is refused."
  type        = string
  default     = null
}

variable "jwt_audience" {
  description = "Audiences one of which a token must name (aud, or client_id for Cognito access tokens); empty: every request is refused."
  type        = list(string)
  default     = []
}

variable "jwks_url" {
  description = "The issuer's key set (JWKS); null for <jwt_issuer>/.well-known/jwks.json."
  type        = string
  default     = null
}

variable "memory_size" {
  description = "Memory of the function in MB."
  type        = number
  default     = 512
}

variable "timeout" {
  description = "Timeout of the function in seconds."
  type        = number
  default     = 10
}

variable "reserved_concurrent_executions" {
  description = "Concurrency reserved for the function (-1: unreserved)."
  type        = number
  default     = -1
}

variable "vpc_subnet_ids" {
  description = "Subnets to run the function in (they must reach the issuer's key set); empty: outside any VPC."
  type        = list(string)
  default     = []
}

variable "vpc_security_group_ids" {
  description = "Security groups of the function when it runs in vpc_subnet_ids."
  type        = list(string)
  default     = []
}

variable "log_retention_in_days" {
  description = "Retention of the function's log group."
  type        = number
  default     = 365
}

variable "kms_key_arn" {
  description = "KMS key encrypting the log group and the function's environment; null for AWS-owned keys."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags of every resource."
  type        = map(string)
  default     = {}
}
