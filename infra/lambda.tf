# Both functions: runtime, handler, timeout, memory and environment variable
# names come from stack.json. tests/infra checks the variable names.
locals {
  frontend = local.stack.functions.frontend
  backend  = local.stack.functions.backend

  frontend_environment = {
    BACKEND_FUNCTION_NAME   = aws_lambda_function.backend.function_name
    TEMPLATES_BUCKET        = aws_s3_bucket.private.id
    TEMPLATES_PREFIX        = local.stack.templates_prefix
    USER_POOL_ID            = local.user_pool_id
    USER_POOL_CLIENT_ID     = local.user_pool_client_id
    TOKEN_ISSUER            = local.token_issuer
    JWKS_URL                = local.jwks_url
    CORS_ALLOW_ORIGIN       = local.cors_allow_origin
    POWERTOOLS_SERVICE_NAME = local.function_names.frontend
    POWERTOOLS_LOG_LEVEL    = var.log_level
  }

  # Without Cognito, boto3's standard per-service endpoint variable sends the
  # frontend's cognito-idp calls to the local signer instead of LocalStack.
  frontend_endpoint_environment = local.use_cognito ? {} : {
    AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER = var.local_cognito_endpoint_url
  }

  backend_environment = {
    SURVEYS_TABLE           = aws_dynamodb_table.this["surveys"].name
    RESPONSES_TABLE         = aws_dynamodb_table.this["responses"].name
    NOTIFICATIONS_TOPIC_ARN = aws_sns_topic.this.arn
    POWERTOOLS_SERVICE_NAME = local.function_names.backend
    POWERTOOLS_LOG_LEVEL    = var.log_level
  }
}

# Terraform creates the log groups, so the roles need no logs:CreateLogGroup
# and the retention applies from the first invocation.
resource "aws_cloudwatch_log_group" "frontend" {
  #checkov:skip=CKV_AWS_158:Encrypted by CloudWatch Logs' own key. The logs hold request ids and error details, never tokens or passwords.
  #checkov:skip=CKV_AWS_338:Retention is the log_retention_days variable (30 days by default), enough to debug a request; raise it where a policy needs a year.
  name              = "/aws/lambda/${local.function_names.frontend}"
  retention_in_days = var.log_retention_days
}

resource "aws_cloudwatch_log_group" "backend" {
  #checkov:skip=CKV_AWS_158:Encrypted by CloudWatch Logs' own key. The logs hold request ids and error details, never tokens or passwords.
  #checkov:skip=CKV_AWS_338:Retention is the log_retention_days variable (30 days by default), enough to debug a request; raise it where a policy needs a year.
  name              = "/aws/lambda/${local.function_names.backend}"
  retention_in_days = var.log_retention_days
}

resource "aws_lambda_function" "frontend" {
  #checkov:skip=CKV_AWS_50:X-Ray tracing would need xray:PutTraceSegments beyond what the code calls. Logs carry the API Gateway request id instead.
  #checkov:skip=CKV_AWS_115:Reserved concurrency fails on accounts whose concurrency quota is 10 (new accounts). The API stage's throttling bounds the load.
  #checkov:skip=CKV_AWS_116:API Gateway invokes the function synchronously. A dead-letter queue only receives failed asynchronous invocations.
  #checkov:skip=CKV_AWS_117:The function calls only public AWS endpoints (Lambda, S3, Cognito). A VPC would need NAT or endpoints and protect nothing here.
  #checkov:skip=CKV_AWS_173:The variables hold resource names and URLs, no secret. Lambda encrypts them at rest with its AWS managed key.
  #checkov:skip=CKV_AWS_272:The zips are built from this repository by scripts/package.py. Code signing needs an AWS Signer profile and a signing step this project does not have.
  function_name    = local.function_names.frontend
  role             = aws_iam_role.frontend.arn
  runtime          = local.frontend.runtime
  handler          = local.frontend.handler
  timeout          = local.frontend.timeout_seconds
  memory_size      = local.frontend.memory_mb
  architectures    = ["x86_64"]
  filename         = local.package_paths.frontend
  source_code_hash = filebase64sha256(local.package_paths.frontend)

  environment {
    variables = merge(local.frontend_environment, local.frontend_endpoint_environment)
  }

  depends_on = [
    aws_cloudwatch_log_group.frontend,
    aws_iam_role_policy.frontend,
  ]

  lifecycle {
    precondition {
      condition = local.use_cognito || alltrue([
        for value in [var.local_jwks_issuer, var.local_jwks_url, var.local_user_pool_id, var.local_user_pool_client_id, var.local_cognito_endpoint_url] : value != ""
      ])
      error_message = "identity_provider = local_jwks needs local_jwks_issuer, local_jwks_url, local_user_pool_id, local_user_pool_client_id and local_cognito_endpoint_url; see env/localstack.tfvars."
    }
  }
}

resource "aws_lambda_function" "backend" {
  #checkov:skip=CKV_AWS_50:X-Ray tracing would need xray:PutTraceSegments beyond what the code calls. Logs carry the request id instead.
  #checkov:skip=CKV_AWS_115:Reserved concurrency fails on accounts whose concurrency quota is 10 (new accounts). Only the frontend invokes it, behind the API stage's throttling.
  #checkov:skip=CKV_AWS_116:The frontend invokes it synchronously (RequestResponse). A dead-letter queue only receives failed asynchronous invocations.
  #checkov:skip=CKV_AWS_117:The function calls only public AWS endpoints (DynamoDB, SNS). A VPC would need NAT or endpoints and protect nothing here.
  #checkov:skip=CKV_AWS_173:The variables hold resource names and an SNS topic ARN, no secret. Lambda encrypts them at rest with its AWS managed key.
  #checkov:skip=CKV_AWS_272:The zips are built from this repository by scripts/package.py. Code signing needs an AWS Signer profile and a signing step this project does not have.
  function_name    = local.function_names.backend
  role             = aws_iam_role.backend.arn
  runtime          = local.backend.runtime
  handler          = local.backend.handler
  timeout          = local.backend.timeout_seconds
  memory_size      = local.backend.memory_mb
  architectures    = ["x86_64"]
  filename         = local.package_paths.backend
  source_code_hash = filebase64sha256(local.package_paths.backend)

  environment {
    variables = local.backend_environment
  }

  depends_on = [
    aws_cloudwatch_log_group.backend,
    aws_iam_role_policy.backend,
  ]
}
