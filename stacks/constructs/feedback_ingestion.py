"""Feedback ingestion: the function that joins labels uploaded under ``feedback/`` with their requests.

``lambdas/feedback_ingestion`` is invoked by an EventBridge rule on the data bucket's "Object Created"
events for ``feedback/`` keys (on the default bus, as dataset validation's rule). For a file of a dataset it
reads the file, the dataset's captures (``capture/<dataset>/``) and the labelled rows already kept
(``labels/<dataset>/``), writes the file's labelled rows and report under ``labels/<dataset>/<sha256>/`` (or
its refusal under ``quarantine/feedback/<dataset>/``, and an alert), and publishes the realized performance
as EMF log lines (no CloudWatch permission: the function's log group turns them into metrics).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from domain import names
from domain.data.contract import DatasetContract
from domain.declared import CONTRACTS_FILE, FEEDBACK_FILE, MONITORING_FILE, TRAINING_FILE
from domain.events import ObjectCreated
from domain.feedback.config import FeedbackConfig
from domain.feedback.labelled import QUARANTINE_PREFIX
from domain.monitoring.config import MonitoringConfig
from domain.training.config import TrainingConfig
from stacks.constructs.data_bucket import key_through_s3
from stacks.constructs.lambda_packaging import generated_json
from stacks.constructs.nag import cdk_grant_reasons
from stacks.constructs.platform_events import rule_pattern
from stacks.constructs.platform_function import Invocation, PlatformFunction, dead_letter_queue, rule_target

FOLDER = "feedback_ingestion"
FEEDBACK_PREFIX = "feedback/"


class FeedbackIngestion(Construct):
    """The feedback function, granted only what it reads and writes, and the rule that invokes it.

    Attributes
    ----------
    function
        The feedback function (``FeedbackIngestionFunctionName``).
    rule
        "Object Created" under ``feedback/`` in the data bucket.
    dead_letters
        What the rule could not deliver, and what the function failed on for good.
    errors_alarm
        The function failed (to the alert topic).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        contracts: dict[str, DatasetContract],
        training: dict[str, TrainingConfig],
        monitoring: dict[str, MonitoringConfig],
        feedback: dict[str, FeedbackConfig],
        project: str,
        data_bucket: s3.IBucket,
        alerts: sns.ITopic,
        key: kms.IKey,
        architecture: lambda_.Architecture,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dead_letters = dead_letter_queue(
            self, "DeadLetters", key=key, of="the feedback rule and the feedback ingestion function"
        )
        self.handler = PlatformFunction(
            self,
            "Function",
            folder=FOLDER,
            description="Joins a labels file under feedback/ with its captured requests; realized metrics.",
            key=key,
            architecture=architecture,
            log_retention=log_retention,
            generated_files={
                CONTRACTS_FILE: generated_json(contracts),
                TRAINING_FILE: generated_json(training),
                MONITORING_FILE: generated_json(monitoring),
                FEEDBACK_FILE: generated_json(feedback),
            },
            environment={
                "PROJECT": project,
                "DATA_BUCKET": data_bucket.bucket_name,
                "ALERTS_TOPIC_ARN": alerts.topic_arn,
            },
            invocation=Invocation.asynchronous("the feedback rule", self.dead_letters),
            # One vCPU; 100,000 labels against 100,000 captured rows join in about a second.
            memory_mb=1769,
            timeout=cdk.Duration.minutes(15),
        )
        self.function = self.handler.function
        self._grant(sorted(contracts), data_bucket, key)
        alerts.grant_publish(self.function)
        # SNS encrypts an alert with the topic's key as its publisher: CDK's grant names kms:GenerateDataKey*.
        grant_reasons = cdk_grant_reasons("publishing alerts to the encrypted topic")
        self.handler.acknowledge(actions={"kms:GenerateDataKey*": grant_reasons["kms:GenerateDataKey*"]})
        self.rule = events.Rule(
            self,
            "OnFeedback",
            description="Join every object created under feedback/ in the data bucket with its requests.",
            event_pattern=rule_pattern(
                ObjectCreated.KIND,
                {
                    "bucket": {"name": [data_bucket.bucket_name]},
                    "object": {"key": [{"prefix": FEEDBACK_PREFIX}]},
                },
            ),
            targets=[rule_target(self.function, self.dead_letters)],
        )
        # A file the function gives up on (captures it may not read, a write refused) has no report:
        # the person waiting for one is told by the alert topic, and the event waits in the queue.
        self.errors_alarm = cloudwatch.Alarm(
            self,
            "Errors",
            alarm_name=names.feedback_errors_alarm_name(project),
            alarm_description="The feedback ingestion function failed (not a refused file: a crash).",
            metric=self.function.metric_errors(period=cdk.Duration.minutes(5)),
            threshold=1,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.errors_alarm.add_alarm_action(cloudwatch_actions.SnsAction(alerts))

    def _grant(self, datasets: list[str], data_bucket: s3.IBucket, key: kms.IKey) -> None:
        """Read the datasets' feedback files and captures, read and write their labels, write refusals."""
        role = self.handler.role
        feedback = [names.feedback_prefix(d) + "*" for d in datasets]
        captures = [names.capture_prefix(d) + "*" for d in datasets]
        labels = [names.labels_prefix(d) + "*" for d in datasets]
        # A file under an undeclared dataset's folder is refused too, with its report beside the others.
        refusals = [f"{QUARANTINE_PREFIX}*"]
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[data_bucket.bucket_arn],
                # Listed: the captures' hour folders, the labels kept, and a report or alert marker
                # before it is read (a missing key is a 403 to a role that cannot list the bucket).
                conditions={"StringLike": {"s3:prefix": [*captures, *labels, *refusals]}},
            )
        )
        # The event names the file's version: reading it is GetObjectVersion.
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject", "s3:GetObjectVersion"],
                resources=[data_bucket.arn_for_objects(p) for p in feedback],
            )
        )
        reads = [data_bucket.arn_for_objects(p) for p in [*captures, *labels, *refusals]]
        role.add_to_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=reads))
        writes = [data_bucket.arn_for_objects(p) for p in [*labels, *refusals]]
        role.add_to_policy(iam.PolicyStatement(actions=["s3:PutObject"], resources=writes))
        role.add_to_policy(key_through_s3(self, key))
        self.handler.acknowledge(
            resources={
                **{
                    data_bucket.arn_for_objects(p): "A dataset's feedback files, any name a team gives them: "
                    "feedback/<dataset>/<file>."
                    for p in feedback
                },
                **{
                    data_bucket.arn_for_objects(p): "A dataset's captured requests, by version and hour: "
                    "capture/<dataset>/v<version>/<endpoint>/AllTraffic/<yyyy>/<mm>/<dd>/<hh>/."
                    for p in captures
                },
                **{
                    data_bucket.arn_for_objects(p): "A dataset's labelled rows and reports, one folder per "
                    "feedback file: labels/<dataset>/<sha256>/."
                    for p in labels
                },
                data_bucket.arn_for_objects(refusals[0]): "Refused feedback files' reports and their alert "
                "markers, one folder per file: quarantine/feedback/<dataset>/<sha256>/ (an undeclared "
                "dataset's too).",
            }
        )
