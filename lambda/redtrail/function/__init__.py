"""The Lambda function: the handler, the SQS batch consumer and the one observability module."""
