"""Dataset validation: the Lambda that turns an upload into a dataset version or a rejection report."""

from __future__ import annotations

import json

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from domain.data.contract import DatasetContract
from domain.data.ingestion_model import ALERTED_SUFFIX, FAILURE_FILE, alerted_key
from domain.declared import CONTRACTS_FILE
from domain.events import ObjectCreated
from stacks.constructs.data_bucket import DATASETS_PREFIX, INCOMING_PREFIX, QUARANTINE_PREFIX
from stacks.constructs.nag import cdk_grant_reasons
from stacks.constructs.platform_events import rule_pattern
from stacks.constructs.platform_function import Invocation, PlatformFunction, dead_letter_queue


class DatasetValidation(Construct):
    """Validates every object created under ``incoming/<dataset>/`` in the data bucket.

    EventBridge delivers "Object Created" events to the function asynchronously; two retries and a
    dead-letter queue catch what still fails. The function records every failure it lives through; an
    invocation that still fails after Lambda's retries (out of memory, a crashed runtime: no code of
    ours ran to the end) goes to its ``on_failure`` destination, ``failures``, which writes the upload's
    failure record from Lambda's invocation record. The contracts are generated into the function's
    asset, so the contracts deployed are the ones that synth validated.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        contracts: dict[str, DatasetContract],
        data_bucket: s3.IBucket,
        catalog: dynamodb.ITable,
        bus: events.IEventBus,
        alerts: sns.ITopic,
        key: kms.IKey,
        memory_mb: int,
        timeout: cdk.Duration,
        ephemeral_storage_gb: int,
        architecture: lambda_.Architecture,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        contracts_json = json.dumps(
            {name: contract.model_dump(mode="json") for name, contract in sorted(contracts.items())},
            indent=1,
            sort_keys=True,
        )
        self.dead_letters = dead_letter_queue(
            self,
            "DeadLetters",
            key=key,
            of="the upload rule, the validation function and the function that records its failures",
        )
        self.failures = self._failure_recorder(
            data_bucket=data_bucket, alerts=alerts, key=key, architecture=architecture,
            log_retention=log_retention,
        )  # fmt: skip
        self.handler = PlatformFunction(
            self,
            "Handler",
            folder="dataset_validation",
            description="Validates an upload against its dataset contract and records a dataset version.",
            key=key,
            architecture=architecture,
            log_retention=log_retention,
            generated_files={CONTRACTS_FILE: contracts_json},
            invocation=Invocation.asynchronous("the upload rule", self.dead_letters),
            environment={
                "DATA_BUCKET": data_bucket.bucket_name,
                "CATALOG_TABLE": catalog.table_name,
                "EVENT_BUS_NAME": bus.event_bus_name,
                "ALERTS_TOPIC_ARN": alerts.topic_arn,
            },
            memory_mb=memory_mb,
            timeout=timeout,
            ephemeral_storage_gb=ephemeral_storage_gb,
        )
        self.function = self.handler.function
        self.role = self.handler.role
        markers = f"{QUARANTINE_PREFIX}*{ALERTED_SUFFIX}"
        prefixes = {
            f"{INCOMING_PREFIX}*": "Uploads are read by prefix: their keys are data.",
            f"{DATASETS_PREFIX}*": "Dataset versions are read and written: datasets/<name>/<sha256>/.",
            f"{QUARANTINE_PREFIX}*": "Rejection reports are written by prefix: quarantine/<name>/<sha256>/.",
            markers: "The markers beside reports that say their alert was sent are read by suffix.",
        }
        data_bucket.grant_read(self.function, f"{INCOMING_PREFIX}*")
        data_bucket.grant_read(self.function, f"{DATASETS_PREFIX}*")
        data_bucket.grant_put(self.function, f"{DATASETS_PREFIX}*")
        data_bucket.grant_put(self.function, f"{QUARANTINE_PREFIX}*")
        # Reads the marker beside a report that says its alert was sent (domain.data.quarantine); List* from
        # the read grants makes a missing marker a 404, not a 403.
        data_bucket.grant_read(self.function, markers)
        self.handler.acknowledge(
            resources={data_bucket.arn_for_objects(p): reason for p, reason in prefixes.items()},
            actions=cdk_grant_reasons("through the bucket and catalog grants"),
        )
        catalog.grant_read_write_data(self.function)
        bus.grant_put_events_to(self.function)
        alerts.grant_publish(self.function)
        # A Lambda destination rather than the dead-letter queue: Lambda sends it the invocation record,
        # the original event and the runtime's error (the queue gets the event alone, the error cut to
        # a message attribute), and invokes it asynchronously, with retries and its own queue.
        self.function.configure_async_invoke(
            on_failure=destinations.LambdaDestination(self.failures.function),
            retry_attempts=2,
            max_event_age=cdk.Duration.hours(6),
        )
        self.handler.acknowledge(
            resources={
                f"{self.failures.function.function_arn}:*": "Lambda's destination grant: invoke the "
                "failure recorder (any version of that one function) with a failed invocation's record."
            }
        )

        self.rule = events.Rule(
            self,
            "OnUpload",
            description="Validate every object created under incoming/ in the data bucket.",
            event_pattern=rule_pattern(
                ObjectCreated.KIND,
                {
                    "bucket": {"name": [data_bucket.bucket_name]},
                    "object": {"key": [{"prefix": INCOMING_PREFIX}]},
                },
            ),
            targets=[
                targets.LambdaFunction(
                    self.function,
                    retry_attempts=2,
                    max_event_age=cdk.Duration.hours(6),
                    dead_letter_queue=self.dead_letters,
                )
            ],
        )
        self.errors_alarm = cloudwatch.Alarm(
            self,
            "Errors",
            alarm_description="The dataset validation function failed (not a rejected dataset: a crash).",
            metric=self.function.metric_errors(period=cdk.Duration.minutes(5)),
            threshold=1,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.errors_alarm.add_alarm_action(cloudwatch_actions.SnsAction(alerts))

    def _failure_recorder(
        self,
        *,
        data_bucket: s3.IBucket,
        alerts: sns.ITopic,
        key: kms.IKey,
        architecture: lambda_.Architecture,
        log_retention: logs.RetentionDays,
    ) -> PlatformFunction:
        """The function that writes the failure record of an upload whose validation function died."""
        recorder = PlatformFunction(
            self,
            "Failures",
            folder="validation_failure",
            description="Records an upload whose validation function failed for good (killed, out of memory)",
            key=key,
            architecture=architecture,
            log_retention=log_retention,
            invocation=Invocation.asynchronous(
                "the validation function's on-failure destination", self.dead_letters
            ),
            environment={"DATA_BUCKET": data_bucket.bucket_name, "ALERTS_TOPIC_ARN": alerts.topic_arn},
            memory_mb=256,
        )
        records = f"{QUARANTINE_PREFIX}*/{FAILURE_FILE}"
        markers = f"{QUARANTINE_PREFIX}*/{alerted_key(FAILURE_FILE)}"
        data_bucket.grant_put(recorder.function, records)
        # The marker that says a record's alert was sent: read (a retry alerts if it is missing), written.
        data_bucket.grant_read(recorder.function, markers)
        data_bucket.grant_put(recorder.function, markers)
        alerts.grant_publish(recorder.function)
        grant_reasons = cdk_grant_reasons("writing failure records and publishing alerts")
        recorder.acknowledge(
            resources={
                data_bucket.arn_for_objects(records): "Failure records only: quarantine/<dataset>/<upload>/"
                f"{FAILURE_FILE}, keyed by the upload.",
                data_bucket.arn_for_objects(markers): "The markers beside failure records that say their "
                "alert was sent.",
            },
            actions={
                action: grant_reasons[action]
                for action in (
                    "s3:Abort*",
                    "s3:GetObject*",
                    "s3:GetBucket*",
                    "s3:List*",
                    "kms:GenerateDataKey*",
                    "kms:ReEncrypt*",
                )
            },
        )
        return recorder
