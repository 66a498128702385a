resource "aws_sns_topic" "this" {
  name = "${local.prefix}-${local.stack.topic.suffix}"

  # The AWS managed key's policy lets the account's principals use it through
  # SNS, so the backend's role needs no KMS permission to publish.
  kms_master_key_id = "alias/aws/sns"
}

resource "aws_sns_topic_subscription" "email" {
  count = var.notification_email == "" ? 0 : 1

  topic_arn = aws_sns_topic.this.arn
  protocol  = "email"
  endpoint  = var.notification_email
}
