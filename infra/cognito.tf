# Only with identity_provider = cognito. With local_jwks the local signer
# issues the tokens and the local_* variables name it.
resource "aws_cognito_user_pool" "this" {
  count = local.use_cognito ? 1 : 0

  name                     = "${local.prefix}-${local.stack.user_pool.suffix}"
  username_attributes      = ["email"]
  auto_verified_attributes = ["email"]
  deletion_protection      = var.deletion_protection ? "ACTIVE" : "INACTIVE"

  username_configuration {
    case_sensitive = false
  }

  # The API contract's rule: at least 8 characters with an uppercase letter, a lowercase letter and a digit.
  password_policy {
    minimum_length                   = 8
    require_uppercase                = true
    require_lowercase                = true
    require_numbers                  = true
    require_symbols                  = false
    temporary_password_validity_days = 7
  }

  verification_message_template {
    default_email_option = "CONFIRM_WITH_CODE"
  }

  account_recovery_setting {
    recovery_mechanism {
      name     = "verified_email"
      priority = 1
    }
  }

  email_configuration {
    email_sending_account = "COGNITO_DEFAULT"
  }

  schema {
    name                = "email"
    attribute_data_type = "String"
    required            = true
    mutable             = true

    string_attribute_constraints {
      min_length = 3
      max_length = 254
    }
  }
}

resource "aws_cognito_user_pool_client" "this" {
  count = local.use_cognito ? 1 : 0

  name         = "${local.prefix}-${local.stack.user_pool.client_suffix}"
  user_pool_id = aws_cognito_user_pool.this[0].id

  # The frontend function calls InitiateAuth with USER_PASSWORD_AUTH and
  # REFRESH_TOKEN_AUTH. Without a secret it sends no SECRET_HASH, and the
  # client id is public anyway, in the web app's config.json.
  generate_secret     = false
  explicit_auth_flows = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]

  # Sign-in and confirmation errors do not tell whether an email is registered.
  prevent_user_existence_errors = "ENABLED"
  enable_token_revocation       = true

  access_token_validity  = 60
  id_token_validity      = 60
  refresh_token_validity = 30

  token_validity_units {
    access_token  = "minutes"
    id_token      = "minutes"
    refresh_token = "days"
  }
}
