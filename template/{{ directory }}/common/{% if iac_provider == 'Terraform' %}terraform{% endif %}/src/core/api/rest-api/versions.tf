terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 6.25.0 added `response_transfer_mode` to aws_api_gateway_integration (REST streaming).
      version = ">= 6.25.0"
    }
  }
}
