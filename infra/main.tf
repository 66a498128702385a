# Names, keys and function settings come from stack.json, which the offline
# stack (local/names.py) reads too, so both create the same resources.
locals {
  stack = jsondecode(file("${path.module}/stack.json"))

  prefix     = coalesce(var.prefix, local.stack.default_prefix)
  region     = coalesce(var.region, local.stack.default_region)
  account_id = data.aws_caller_identity.current.account_id

  tags = merge(
    {
      Project   = local.prefix
      ManagedBy = "terraform"
    },
    var.tags,
  )

  use_cognito = var.identity_provider == "cognito"

  # Bucket names are global, so they end in the account id.
  public_bucket_name  = "${local.prefix}-${local.stack.buckets.public.suffix}-${local.account_id}"
  private_bucket_name = "${local.prefix}-${local.stack.buckets.private.suffix}-${local.account_id}"

  function_names = {
    for key, function in local.stack.functions : key => "${local.prefix}-${function.suffix}"
  }

  # Zips built by scripts/package.py (`make package`).
  build_dir = "${path.module}/../build"
  package_paths = {
    for key, function in local.stack.functions : key => "${local.build_dir}/${function.package}.zip"
  }

  user_pool_id        = local.use_cognito ? aws_cognito_user_pool.this[0].id : var.local_user_pool_id
  user_pool_client_id = local.use_cognito ? aws_cognito_user_pool_client.this[0].id : var.local_user_pool_client_id
  # A Cognito pool's endpoint attribute is cognito-idp.<region>.amazonaws.com/<pool id>, the issuer without its scheme.
  token_issuer         = local.use_cognito ? "https://${aws_cognito_user_pool.this[0].endpoint}" : var.local_jwks_issuer
  jwks_url             = local.use_cognito ? "https://${aws_cognito_user_pool.this[0].endpoint}/.well-known/jwks.json" : var.local_jwks_url
  signup_requires_code = local.use_cognito ? true : var.local_signup_requires_code

  on_localstack = var.aws_endpoint_url != ""

  # S3 website endpoints serve plain HTTP only.
  website_url = (
    local.on_localstack
    ? "http://${aws_s3_bucket.website.bucket}.${var.localstack_website_domain}"
    : "http://${aws_s3_bucket_website_configuration.website.website_endpoint}"
  )
  cors_allow_origin = var.cors_allow_origin != null ? var.cors_allow_origin : local.website_url

  # LocalStack serves a REST API stage at <endpoint>/restapis/<api id>/<stage>/_user_request_.
  api_url = (
    local.on_localstack
    ? "${var.aws_endpoint_url}/restapis/${aws_api_gateway_rest_api.this.id}/${aws_api_gateway_stage.this.stage_name}/_user_request_"
    : aws_api_gateway_stage.this.invoke_url
  )
}

data "aws_caller_identity" "current" {}
