"""Backend Lambda function of the survey app: business rules, DynamoDB and SNS."""
