terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 6.25.0 is the first release with `response_transfer_mode` on aws_api_gateway_integration,
      # which REST APIs need to stream responses.
      version = ">= 6.25.0, < 7.0.0"
    }
  }

  # State is local by default. For a team, keep it in S3: add a backend.tf such as
  #   terraform { backend "s3" { bucket = "..." key = "apis.tfstate" region = "..." use_lockfile = true } }
}
