"""Frontend Lambda function: the API Gateway entry point of the survey API."""
