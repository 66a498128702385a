variable "prefix" {
  description = "First part of every resource name (<prefix>-<suffix>). null uses default_prefix from stack.json."
  type        = string
  default     = null

  validation {
    # 30 characters keep the longest bucket name, <prefix>-private-<12-digit account id>, within S3's 63.
    condition     = var.prefix == null || can(regex("^[a-z][a-z0-9-]{0,28}[a-z0-9]$", var.prefix))
    error_message = "prefix must be 2 to 30 characters of lowercase letters, digits and hyphens, start with a letter and not end with a hyphen."
  }
}

variable "region" {
  description = "AWS region to deploy to. null uses default_region from stack.json."
  type        = string
  default     = null

  validation {
    condition     = var.region == null || can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must be an AWS region code such as eu-west-1."
  }
}

variable "tags" {
  description = "Tags added to every resource, on top of Project and ManagedBy."
  type        = map(string)
  default     = {}
}

variable "identity_provider" {
  description = "Token issuer the frontend trusts. cognito creates a Cognito user pool. local_jwks creates none and trusts the local signer named by the local_* variables, for LocalStack's free edition, which has no Cognito."
  type        = string
  default     = "cognito"

  validation {
    condition     = contains(["cognito", "local_jwks"], var.identity_provider)
    error_message = "identity_provider must be cognito or local_jwks."
  }
}

variable "local_jwks_issuer" {
  description = "With identity_provider = local_jwks: the iss claim of the local signer's tokens, compared as a string."
  type        = string
  default     = ""

  validation {
    condition     = var.local_jwks_issuer == "" || can(regex("^https?://", var.local_jwks_issuer))
    error_message = "local_jwks_issuer must be empty or an http(s) URL."
  }
}

variable "local_jwks_url" {
  description = "With identity_provider = local_jwks: the local signer's JWKS URL as the Lambda containers reach it."
  type        = string
  default     = ""

  validation {
    condition     = var.local_jwks_url == "" || can(regex("^https?://", var.local_jwks_url))
    error_message = "local_jwks_url must be empty or an http(s) URL."
  }
}

variable "local_user_pool_id" {
  description = "With identity_provider = local_jwks: the user pool id the local signer uses."
  type        = string
  default     = ""
}

variable "local_user_pool_client_id" {
  description = "With identity_provider = local_jwks: the app client id the local signer accepts."
  type        = string
  default     = ""
}

variable "local_cognito_endpoint_url" {
  description = "With identity_provider = local_jwks: the local signer's Cognito API endpoint as the Lambda containers reach it. The frontend gets it as boto3's AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER."
  type        = string
  default     = ""

  validation {
    condition     = var.local_cognito_endpoint_url == "" || can(regex("^https?://", var.local_cognito_endpoint_url))
    error_message = "local_cognito_endpoint_url must be empty or an http(s) URL."
  }
}

variable "local_signup_requires_code" {
  description = "With identity_provider = local_jwks: whether the local signer sends a confirmation code at sign-up (written to the website's config.json). Cognito always does."
  type        = bool
  default     = false
}

variable "aws_endpoint_url" {
  description = "AWS endpoint that clients on the host use, for example http://localhost:4566 for LocalStack. Empty on AWS. Changes the api_url and website_url outputs to LocalStack's URL forms."
  type        = string
  default     = ""

  validation {
    condition     = var.aws_endpoint_url == "" || can(regex("^https?://[^/]+$", var.aws_endpoint_url))
    error_message = "aws_endpoint_url must be empty or a scheme and host with an optional port, without a path, such as http://localhost:4566."
  }
}

variable "localstack_website_domain" {
  description = "With aws_endpoint_url set: host suffix and port of LocalStack's S3 website endpoint. website_url is http://<bucket>.<this value>."
  type        = string
  default     = "s3-website.localhost.localstack.cloud:4566"

  validation {
    condition     = can(regex("^[a-z0-9.-]+(:[0-9]{1,5})?$", var.localstack_website_domain))
    error_message = "localstack_website_domain must be a host name with an optional port, such as s3-website.localhost.localstack.cloud:4566."
  }
}

variable "cors_allow_origin" {
  description = "Value of Access-Control-Allow-Origin on every API response. null uses the website's S3 website origin, and \"*\" allows any origin."
  type        = string
  default     = null

  validation {
    condition     = var.cors_allow_origin == null || var.cors_allow_origin == "*" || can(regex("^https?://[^/]+$", var.cors_allow_origin))
    error_message = "cors_allow_origin must be null, \"*\" or an origin such as https://example.com (scheme and host, no path)."
  }
}

variable "deletion_protection" {
  description = "Protect the DynamoDB tables and the Cognito user pool from deletion. Turn off before `terraform destroy`."
  type        = bool
  default     = true
}

variable "force_destroy_buckets" {
  description = "Let `terraform destroy` delete the buckets with their objects and versions."
  type        = bool
  default     = false
}

variable "notification_email" {
  description = "Email address subscribed to the notifications topic, or empty for no subscription. AWS sends a confirmation link first."
  type        = string
  default     = ""

  validation {
    condition     = var.notification_email == "" || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.notification_email))
    error_message = "notification_email must be empty or an email address."
  }
}

variable "log_retention_days" {
  description = "Days CloudWatch Logs keeps the functions' logs (and the API access logs when enabled)."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a retention CloudWatch Logs accepts: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "log_level" {
  description = "POWERTOOLS_LOG_LEVEL of both functions."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR"], var.log_level)
    error_message = "log_level must be DEBUG, INFO, WARNING or ERROR."
  }
}

variable "api_throttling_rate_limit" {
  description = "Steady-state requests per second the API stage allows across all routes."
  type        = number
  default     = 50

  validation {
    condition     = var.api_throttling_rate_limit > 0
    error_message = "api_throttling_rate_limit must be greater than 0."
  }
}

variable "api_throttling_burst_limit" {
  description = "Requests the API stage allows in a burst above the rate limit."
  type        = number
  default     = 100

  validation {
    condition     = var.api_throttling_burst_limit > 0 && floor(var.api_throttling_burst_limit) == var.api_throttling_burst_limit
    error_message = "api_throttling_burst_limit must be a whole number greater than 0."
  }
}

variable "api_access_logging" {
  description = "Write API Gateway access logs to a CloudWatch log group. The account must already have API Gateway's CloudWatch Logs role set (a per-region account setting this configuration leaves alone)."
  type        = bool
  default     = false
}
