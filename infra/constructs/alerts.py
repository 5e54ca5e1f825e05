"""The alerts topic: one message per detected Redshift event, published by the function."""

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from redtrail.contracts.settings import AlertOptions, Env


class Alerts(Construct):
    """A KMS-encrypted, TLS-only topic the function publishes to (and only it), with an optional email."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        function: lambda_.Function,
        options: AlertOptions,
        alert_email: str | None,
    ) -> None:
        super().__init__(scope, construct_id)
        key = kms.Key(self, "TopicKey", enable_key_rotation=True, description="redtrail alerts topic")
        self.topic = sns.Topic(self, "Topic", master_key=key, enforce_ssl=True, display_name="redtrail alerts")
        # Not grant_publish: it grants kms:GenerateDataKey* (a wildcard); publishing needs exactly these.
        iam.Grant.add_to_principal(grantee=function, actions=["sns:Publish"], resource_arns=[self.topic.topic_arn])
        key.grant(function, "kms:Decrypt", "kms:GenerateDataKey")
        function.add_environment(Env.ALERT_TOPIC_ARN, self.topic.topic_arn)
        for name, value in options.environment().items():
            function.add_environment(name, value)
        if alert_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(alert_email))
