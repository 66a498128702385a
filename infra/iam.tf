# One role per function. Each policy grants only the calls that function's
# code makes (tests/infra checks this against the code), on its own resources.
data "aws_iam_policy_document" "lambda_assume_role" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "frontend" {
  name               = "${local.function_names.frontend}-role"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume_role.json
}

resource "aws_iam_role" "backend" {
  name               = "${local.function_names.backend}-role"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume_role.json
}

# Cognito's SignUp, ConfirmSignUp, InitiateAuth and GetUser are public API
# calls (no IAM signature), so the frontend role has no cognito-idp action.
data "aws_iam_policy_document" "frontend" {
  statement {
    sid       = "InvokeBackend"
    actions   = ["lambda:InvokeFunction"]
    resources = [aws_lambda_function.backend.arn]
  }

  statement {
    sid       = "ReadTemplates"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.private.arn}/${local.stack.templates_prefix}*"]
  }

  # ListBucket also turns a missing template into 404 NoSuchKey instead of 403.
  statement {
    sid       = "ListTemplates"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.private.arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${local.stack.templates_prefix}*"]
    }
  }

  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.frontend.arn}:*"]
  }
}

data "aws_iam_policy_document" "backend" {
  # Transactions need no action of their own: each Put or Update inside
  # TransactWriteItems is authorized as PutItem or UpdateItem.
  statement {
    sid = "UseOwnTables"
    actions = [
      "dynamodb:BatchWriteItem",
      "dynamodb:DeleteItem",
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:Query",
      "dynamodb:UpdateItem",
    ]
    resources = flatten([
      for table in aws_dynamodb_table.this : [table.arn, "${table.arn}/index/*"]
    ])
  }

  statement {
    sid       = "PublishNotifications"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.this.arn]
  }

  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.backend.arn}:*"]
  }
}

resource "aws_iam_role_policy" "frontend" {
  name   = "${local.function_names.frontend}-policy"
  role   = aws_iam_role.frontend.id
  policy = data.aws_iam_policy_document.frontend.json
}

resource "aws_iam_role_policy" "backend" {
  name   = "${local.function_names.backend}-policy"
  role   = aws_iam_role.backend.id
  policy = data.aws_iam_policy_document.backend.json
}
