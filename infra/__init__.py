"""The redtrail CDK app: stack, constructs and settings."""
