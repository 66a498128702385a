# Public bucket: the web app, served by S3's website endpoint.
locals {
  web_dir = "${path.module}/../web"

  # config.json is generated below, so a copy in web/ (for local testing) is not uploaded.
  web_files = setsubtract(fileset(local.web_dir, "**"), ["config.json"])

  # S3 returns the stored Content-Type, and browsers reject modules and stylesheets sent as octet-stream.
  mime_types = {
    ".css"         = "text/css; charset=utf-8"
    ".gif"         = "image/gif"
    ".html"        = "text/html; charset=utf-8"
    ".ico"         = "image/x-icon"
    ".jpeg"        = "image/jpeg"
    ".jpg"         = "image/jpeg"
    ".js"          = "text/javascript; charset=utf-8"
    ".json"        = "application/json"
    ".map"         = "application/json"
    ".mjs"         = "text/javascript; charset=utf-8"
    ".png"         = "image/png"
    ".svg"         = "image/svg+xml"
    ".txt"         = "text/plain; charset=utf-8"
    ".webmanifest" = "application/manifest+json"
    ".webp"        = "image/webp"
    ".woff"        = "font/woff"
    ".woff2"       = "font/woff2"
  }
}

resource "aws_s3_bucket" "website" {
  #checkov:skip=CKV_AWS_18:Access logging needs a second bucket that would fail the same check. The objects are public and rebuilt by Terraform.
  #checkov:skip=CKV_AWS_144:The site is rebuilt from web/ by Terraform, so a cross-region replica adds cost without a recovery benefit.
  #checkov:skip=CKV2_AWS_62:Nothing reacts to changes in this bucket, so event notifications would have no consumer.
  #checkov:skip=CKV_AWS_145:The objects are public, so a customer managed KMS key protects nothing. SSE-S3 encrypts them at rest.
  #checkov:skip=CKV2_AWS_6:The public access block below leaves bucket policies allowed, because the website is public through its bucket policy.
  #checkov:skip=CKV2_AWS_61:Versions are kept for rollback and the site is small; a lifecycle rule would only save cents.
  bucket        = local.public_bucket_name
  force_destroy = var.force_destroy_buckets
}

# The bucket policy below makes objects public. ACLs stay blocked and ignored.
resource "aws_s3_bucket_public_access_block" "website" {
  #checkov:skip=CKV_AWS_54:The website bucket is public by design, through its bucket policy.
  #checkov:skip=CKV_AWS_56:The website bucket is public by design, through its bucket policy.
  bucket = aws_s3_bucket.website.id

  block_public_acls       = true
  block_public_policy     = false
  ignore_public_acls      = true
  restrict_public_buckets = false
}

resource "aws_s3_bucket_ownership_controls" "website" {
  bucket = aws_s3_bucket.website.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "website" {
  bucket = aws_s3_bucket.website.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_versioning" "website" {
  bucket = aws_s3_bucket.website.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_website_configuration" "website" {
  bucket = aws_s3_bucket.website.id

  index_document {
    suffix = "index.html"
  }
}

resource "aws_s3_bucket_policy" "website" {
  bucket = aws_s3_bucket.website.id
  policy = data.aws_iam_policy_document.website_public_read.json

  # S3 rejects a public policy while the public access block still blocks it.
  depends_on = [aws_s3_bucket_public_access_block.website]
}

data "aws_iam_policy_document" "website_public_read" {
  statement {
    sid       = "PublicReadObjects"
    effect    = "Allow"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.website.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }
  }
}

resource "aws_s3_object" "web" {
  for_each = local.web_files

  bucket       = aws_s3_bucket.website.id
  key          = each.value
  source       = "${local.web_dir}/${each.value}"
  source_hash  = filemd5("${local.web_dir}/${each.value}")
  content_type = lookup(local.mime_types, lower(try(regex("\\.[^./]+$", each.value), "")), "application/octet-stream")

  depends_on = [aws_s3_bucket_server_side_encryption_configuration.website]
}

# The web app reads its settings from config.json next to index.html.
resource "aws_s3_object" "web_config" {
  bucket        = aws_s3_bucket.website.id
  key           = "config.json"
  content_type  = "application/json"
  cache_control = "no-cache"
  content = jsonencode({
    api_url              = local.api_url
    user_pool_client_id  = local.user_pool_client_id
    signup_requires_code = local.signup_requires_code
  })

  depends_on = [aws_s3_bucket_server_side_encryption_configuration.website]
}
