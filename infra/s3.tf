# Private bucket: survey templates, read by the frontend function only.
resource "aws_s3_bucket" "private" {
  #checkov:skip=CKV_AWS_18:Access logging needs a second bucket that would fail the same check. The only reader is the frontend role, whose calls CloudTrail can record.
  #checkov:skip=CKV_AWS_144:The templates are rebuilt from infra/templates by Terraform, so a cross-region replica adds cost without a recovery benefit.
  #checkov:skip=CKV2_AWS_62:Nothing reacts to changes in this bucket, so event notifications would have no consumer.
  #checkov:skip=CKV_AWS_145:Encrypted with SSE-S3 (below). A customer managed KMS key would add cost and a kms:Decrypt grant for templates that are not secret.
  bucket        = local.private_bucket_name
  force_destroy = var.force_destroy_buckets
}

resource "aws_s3_bucket_public_access_block" "private" {
  bucket = aws_s3_bucket.private.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "private" {
  bucket = aws_s3_bucket.private.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "private" {
  bucket = aws_s3_bucket.private.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_versioning" "private" {
  bucket = aws_s3_bucket.private.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "private" {
  bucket = aws_s3_bucket.private.id

  rule {
    id     = "expire-old-versions"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = 30
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.private]
}

resource "aws_s3_bucket_policy" "private" {
  bucket = aws_s3_bucket.private.id
  policy = data.aws_iam_policy_document.private_bucket.json

  depends_on = [aws_s3_bucket_public_access_block.private]
}

data "aws_iam_policy_document" "private_bucket" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.private.arn,
      "${aws_s3_bucket.private.arn}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

# Each infra/templates/<name>.json becomes templates/<name>.json.
resource "aws_s3_object" "template" {
  for_each = fileset("${path.module}/templates", "*.json")

  bucket       = aws_s3_bucket.private.id
  key          = "${local.stack.templates_prefix}${each.value}"
  source       = "${path.module}/templates/${each.value}"
  source_hash  = filemd5("${path.module}/templates/${each.value}")
  content_type = "application/json"

  depends_on = [aws_s3_bucket_server_side_encryption_configuration.private]
}
