terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # Each API's module adds what it needs (REST APIs: >= 6.25.0, for response streaming).
      version = ">= 5.32.0, < 7.0.0"
    }
  }

  # State is local by default. For a team, keep it in S3: add a backend.tf such as
  #   terraform { backend "s3" { bucket = "..." key = "apis.tfstate" region = "..." use_lockfile = true } }
}
