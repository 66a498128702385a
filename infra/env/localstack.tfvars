# tflocal apply -var-file=env/localstack.tfvars (docker-compose's terraform
# service runs it). LocalStack's free edition has no Cognito, so the local
# signer from docker/signer issues the tokens. The local_* values must match
# the signer service's SIGNER_* settings in docker-compose.yml; the URLs are
# as the Lambda containers reach the signer on the compose network.
identity_provider          = "local_jwks"
local_user_pool_id         = "us-east-1_LocalPool"
local_user_pool_client_id  = "localsignerwebclient000001"
local_jwks_issuer          = "http://signer:4571/us-east-1_LocalPool"
local_jwks_url             = "http://signer:4571/us-east-1_LocalPool/.well-known/jwks.json"
local_cognito_endpoint_url = "http://signer:4571"
local_signup_requires_code = false

# URLs in the outputs and the web app's config.json, as the browser on the host reaches LocalStack.
aws_endpoint_url          = "http://localhost:4566"
localstack_website_domain = "s3-website.localhost.localstack.cloud:4566"
cors_allow_origin         = "*"

# Throwaway stack: let `tflocal destroy` remove everything.
deletion_protection   = false
force_destroy_buckets = true
log_retention_days    = 1
