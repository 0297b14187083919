variable "aws_region" {
  description = "AWS Region every API is deployed to."
  type        = string
  default     = "us-east-1"
}

variable "environment" {
  description = "Name of the environment (dev, staging, prod): suffixes resource names and tags every resource."
  type        = string
  default     = "dev"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,15}$", var.environment))
    error_message = "environment must be 1 to 16 lower-case letters, digits or hyphens, starting with a letter."
  }
}

variable "tags" {
  description = "Extra tags of every resource."
  type        = map(string)
  default     = {}
}

variable "manage_api_gateway_cloudwatch_role" {
  description = "Set the API Gateway account setting of this account and Region: the CloudWatch Logs role that REST API stages need for access logs. Once per account and Region, in one configuration only: destroying it resets the setting for every REST API there (see README.md)."
  type        = bool
  default     = false
}

variable "transaction_search" {
  description = "Turn CloudWatch Transaction Search on for this account and Region: X-Ray stores every span in CloudWatch Logs (aws/spans). Account-wide, so off by default; in one configuration only, and only while it is off (see README.md)."
  type        = bool
  default     = false
}

variable "transaction_search_indexing_percentage" {
  description = "With transaction_search, the percentage of spans also indexed as X-Ray trace summaries (1 is free)."
  type        = number
  default     = 1

  validation {
    condition     = var.transaction_search_indexing_percentage >= 0 && var.transaction_search_indexing_percentage <= 100
    error_message = "transaction_search_indexing_percentage is a percentage: 0 to 100."
  }
}
