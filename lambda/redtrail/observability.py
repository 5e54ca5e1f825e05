"""The one logger, metrics and tracer of redtrail (Powertools)."""

from aws_lambda_powertools import Logger, Metrics, Tracer

from redtrail.metric_names import NAMESPACE, SERVICE

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
tracer = Tracer(service=SERVICE)
