terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # Nothing here needs more than the first 5.x release; no streaming on HTTP APIs.
      version = ">= 5.0.0"
    }
  }
}
