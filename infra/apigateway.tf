# REST API defined by api/openapi.yaml: every operation is an AWS_PROXY
# integration to the frontend function, whose invoke ARN Terraform fills in.
locals {
  openapi_body = jsonencode(yamldecode(templatefile("${path.module}/../api/openapi.yaml", {
    frontend_invoke_arn = aws_lambda_function.frontend.invoke_arn
    cors_allow_origin   = local.cors_allow_origin
  })))
}

resource "aws_api_gateway_rest_api" "this" {
  name              = "${local.prefix}-${local.stack.api.suffix}"
  body              = local.openapi_body
  put_rest_api_mode = "overwrite"

  endpoint_configuration {
    types = ["REGIONAL"]
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_api_gateway_deployment" "this" {
  rest_api_id = aws_api_gateway_rest_api.this.id

  triggers = {
    redeployment = sha1(local.openapi_body)
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_cloudwatch_log_group" "api_access" {
  #checkov:skip=CKV_AWS_158:Encrypted by CloudWatch Logs' own key. Access logs hold request metadata, never bodies or tokens.
  #checkov:skip=CKV_AWS_338:Retention is the log_retention_days variable (30 days by default); raise it where a policy needs a year.
  count = var.api_access_logging ? 1 : 0

  name              = "/aws/apigateway/${local.prefix}-${local.stack.api.suffix}"
  retention_in_days = var.log_retention_days
}

resource "aws_api_gateway_stage" "this" {
  #checkov:skip=CKV_AWS_73:X-Ray tracing adds cost per request; the API Gateway request id in the frontend's logs ties a request to its log lines.
  #checkov:skip=CKV_AWS_76:Access logging is optional (variable api_access_logging) because it needs an account-level CloudWatch Logs role for API Gateway.
  #checkov:skip=CKV_AWS_120:Responses depend on the caller's token and change on every write, so a stage cache would serve stale or another user's data.
  #checkov:skip=CKV2_AWS_29:A WAF web ACL costs a monthly fee; the stage's throttling limits abuse for this app's size.
  #checkov:skip=CKV2_AWS_51:Browsers call the API directly, so API Gateway cannot require a client certificate.
  #checkov:skip=CKV2_AWS_4:Execution logging needs the same account-level CloudWatch Logs role; the frontend logs every request itself.
  rest_api_id   = aws_api_gateway_rest_api.this.id
  deployment_id = aws_api_gateway_deployment.this.id
  stage_name    = local.stack.api.stage

  dynamic "access_log_settings" {
    for_each = aws_cloudwatch_log_group.api_access

    content {
      destination_arn = access_log_settings.value.arn
      format = jsonencode({
        requestId      = "$context.requestId"
        requestTime    = "$context.requestTime"
        httpMethod     = "$context.httpMethod"
        resourcePath   = "$context.resourcePath"
        status         = "$context.status"
        responseLength = "$context.responseLength"
        latencyMs      = "$context.responseLatency"
        sourceIp       = "$context.identity.sourceIp"
      })
    }
  }
}

resource "aws_api_gateway_method_settings" "this" {
  #checkov:skip=CKV_AWS_225:Responses depend on the caller's token and change on every write, so caching stays off.
  rest_api_id = aws_api_gateway_rest_api.this.id
  stage_name  = aws_api_gateway_stage.this.stage_name
  method_path = "*/*"

  settings {
    throttling_rate_limit  = var.api_throttling_rate_limit
    throttling_burst_limit = var.api_throttling_burst_limit
    caching_enabled        = false
    metrics_enabled        = true
  }
}

# API Gateway may invoke the frontend, from this API only. The backend has no
# such permission: only the frontend's role can invoke it.
resource "aws_lambda_permission" "api_gateway" {
  statement_id  = "AllowApiGatewayInvoke"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.frontend.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_api_gateway_rest_api.this.execution_arn}/*"
}
