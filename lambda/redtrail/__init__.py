"""redtrail: the Redshift part of a CloudTrail trail, in DynamoDB."""

__version__ = "0.1.0"
