# The API's sign-in, by auth: Cognito gets a user pool and an app client, created here unless
# existing ones are passed in (cognito_user_pool_arn, cognito_user_pool_client_id); Custom gets
# the Lambda authorizer, whose code is the API's bundle (common_runtime.authorizer). IAM and
# None need nothing here: the gateway module checks SigV4 signatures or lets every caller in.

resource "aws_cognito_user_pool" "users" {
  count = var.auth == "Cognito" && var.cognito_user_pool_arn == null ? 1 : 0

  name                     = var.name
  username_attributes      = ["email"]
  auto_verified_attributes = ["email"]
  mfa_configuration        = "OPTIONAL"
  deletion_protection      = "ACTIVE"

  # Accounts are created by administrators; enable self sign-up deliberately if you need it.
  admin_create_user_config {
    allow_admin_create_user_only = true
  }

  password_policy {
    minimum_length                   = 12
    require_lowercase                = true
    require_uppercase                = true
    require_numbers                  = true
    require_symbols                  = true
    temporary_password_validity_days = 3
  }

  software_token_mfa_configuration {
    enabled = true
  }

  account_recovery_setting {
    recovery_mechanism {
      name     = "verified_email"
      priority = 1
    }
  }

  tags = var.tags
}

resource "aws_cognito_user_pool_client" "web" {
  count = var.auth == "Cognito" && var.cognito_user_pool_client_id == null ? 1 : 0

  name         = "${var.name}-web"
  user_pool_id = local.cognito_user_pool_id

  # A public client (browser or mobile app): no secret, SRP sign-in only.
  generate_secret               = false
  explicit_auth_flows           = ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
  prevent_user_existence_errors = "ENABLED"
  enable_token_revocation       = true
  supported_identity_providers  = ["COGNITO"]

  access_token_validity  = 60
  id_token_validity      = 60
  refresh_token_validity = 30

  token_validity_units {
    access_token  = "minutes"
    id_token      = "minutes"
    refresh_token = "days"
  }
}

locals {
  cognito_user_pool_arn = var.auth == "Cognito" ? coalesce(var.cognito_user_pool_arn, one(aws_cognito_user_pool.users[*].arn)) : null
  # arn:<partition>:cognito-idp:<region>:<account>:userpool/<id>
  cognito_user_pool_id        = var.auth == "Cognito" ? element(split("/", local.cognito_user_pool_arn), 1) : null
  cognito_user_pool_region    = var.auth == "Cognito" ? element(split(":", local.cognito_user_pool_arn), 3) : null
  cognito_user_pool_client_id = var.auth == "Cognito" ? coalesce(var.cognito_user_pool_client_id, one(aws_cognito_user_pool_client.web[*].id)) : null
}

# The Lambda authorizer verifies each request's bearer token, a JWT of jwt_issuer for one of
# jwt_audience (signature against the issuer's key set, expiry), and refuses every request
# until both are set. API Gateway caches its answer per token for five minutes.
module "authorizer" {
  source = "../lambda-authorizer"
  count  = var.auth == "Custom" ? 1 : 0

  name         = "${var.name}-authorizer"
  description  = "${var.service_name}: Lambda authorizer (JWTs of the configured issuer)"
  bundle_path  = var.bundle_path
  s3_bucket    = var.asset_bucket_name
  s3_key       = one(aws_s3_object.bundle[*].key)
  runtime      = var.runtime
  architecture = var.architecture
  jwt_issuer   = var.jwt_issuer
  jwt_audience = var.jwt_audience
  jwks_url     = var.jwks_url

  # Outside the API's VPC (vpc_subnet_ids): it fetches the issuer's keys from the internet.
  log_retention_in_days = var.log_retention_in_days
  kms_key_arn           = var.kms_key_arn
  tags                  = var.tags
}
