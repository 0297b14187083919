terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # Kept in step with the REST API module, so both can live in one configuration.
      version = ">= 6.25.0"
    }
  }
}
