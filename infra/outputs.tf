# The offline stack serves outputs with these same names at /_local/outputs,
# so tests and tools read either the same way.
output "api_url" {
  description = "Base URL of the API stage; routes such as /surveys are appended to it."
  value       = local.api_url
}

output "website_url" {
  description = "URL of the web app (the public bucket's S3 website endpoint)."
  value       = local.website_url
}

output "user_pool_id" {
  description = "Cognito user pool id, or the local signer's pool id with identity_provider = local_jwks."
  value       = local.user_pool_id
}

output "user_pool_client_id" {
  description = "Cognito app client id (no secret), or the local signer's client id with identity_provider = local_jwks."
  value       = local.user_pool_client_id
}

output "jwks_url" {
  description = "URL of the JSON Web Key Set that verifies the tokens."
  value       = local.jwks_url
}

output "token_issuer" {
  description = "iss claim of valid tokens."
  value       = local.token_issuer
}

output "surveys_table" {
  description = "Name of the DynamoDB surveys table."
  value       = aws_dynamodb_table.this["surveys"].name
}

output "responses_table" {
  description = "Name of the DynamoDB responses table."
  value       = aws_dynamodb_table.this["responses"].name
}

output "notifications_topic_arn" {
  description = "ARN of the SNS topic that receives survey deletion notifications."
  value       = aws_sns_topic.this.arn
}

output "public_bucket" {
  description = "Name of the public website bucket."
  value       = aws_s3_bucket.website.id
}

output "private_bucket" {
  description = "Name of the private bucket that holds the survey templates."
  value       = aws_s3_bucket.private.id
}

output "aws_endpoint_url" {
  description = "AWS endpoint for SDK clients: empty on AWS, the LocalStack endpoint on LocalStack."
  value       = var.aws_endpoint_url
}

output "region" {
  description = "AWS region of the stack."
  value       = local.region
}

output "frontend_function_name" {
  description = "Name of the frontend Lambda function (API Gateway's only integration)."
  value       = aws_lambda_function.frontend.function_name
}

output "backend_function_name" {
  description = "Name of the backend Lambda function (invoked by the frontend only)."
  value       = aws_lambda_function.backend.function_name
}
