terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.32.0 added `logging_config` to aws_lambda_function.
      version = ">= 5.32.0"
    }
  }
}
