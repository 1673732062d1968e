"""The retraining policy: the training pipeline's only automatic entry.

``lambdas/retraining_policy`` decides every trigger (``domain.retraining``) and records each decision in
the foundation's decisions table. Its triggers: "Dataset Version Accepted" on the platform's bus; the
drift and performance alarms of each dataset whose retraining is enabled entering ALARM and the training
state machine's executions ending, on the default bus (where CloudWatch and Step Functions send their
events); each configured schedule; and the one-time deferral schedule the function itself sets when a
daily cap holds new data back (``scheduler:CreateSchedule``/``UpdateSchedule`` on that name only, passing
only the schedules' role).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from domain import names
from domain.data.contract import DatasetContract
from domain.declared import CONTRACTS_FILE, RETRAINING_ALARMS_FILE, RETRAINING_FILE
from domain.events import ENDED_STATUSES, AlarmStateChange, DatasetVersionAccepted, ExecutionStatusChange
from domain.retraining.config import RetrainingConfig
from domain.retraining.triggers import schedule_payload
from stacks.constructs.data_bucket import DATASETS_PREFIX
from stacks.constructs.lambda_packaging import generated_json
from stacks.constructs.nag import acknowledge, cdk_grant_reasons
from stacks.constructs.platform_events import rule_pattern
from stacks.constructs.platform_function import Invocation, PlatformFunction, dead_letter_queue, rule_target
from stacks.constructs.schedules import schedule_role
from stacks.constructs.workflow import grant_start_once

FOLDER = "retraining_policy"


def retraining_alarms(project: str, retraining: dict[str, RetrainingConfig]) -> dict[str, list[str]]:
    """The alarms the policy reacts to, by name: ``[dataset, trigger kind]`` (what the function reads)."""
    alarms: dict[str, list[str]] = {}
    for dataset, config in sorted(retraining.items()):
        if not config.enabled:
            continue
        endpoint = names.endpoint_name(project, dataset)
        if config.on_drift:
            alarms[names.drift_alarm_name(endpoint)] = [dataset, "drift_alarm"]
        if config.on_performance:
            alarms[names.performance_alarm_name(endpoint)] = [dataset, "performance_alarm"]
    return alarms


class RetrainingPolicy(Construct):
    """The policy function, its rules and schedules, granted exactly what it reads, writes and starts.

    Attributes
    ----------
    function
        The policy (``RetrainingPolicyFunctionName``).
    rules
        By trigger: ``accepted``, ``alarms`` (absent when no dataset retrains on an alarm), ``run_ended``.
    schedules
        Per dataset with a ``retraining.schedule``, its schedule.
    schedule_role
        The role the configured and the deferral schedules invoke the function as.
    dead_letters
        What a rule or a schedule could not deliver, and what the function failed on for good.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        project: str,
        contracts: dict[str, DatasetContract],
        retraining: dict[str, RetrainingConfig],
        state_machine: sfn.StateMachine,
        decisions: dynamodb.ITable,
        catalog: dynamodb.ITable,
        data_bucket: s3.IBucket,
        bus: events.IEventBus,
        alerts: sns.ITopic,
        key: kms.IKey,
        architecture: lambda_.Architecture,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dead_letters = dead_letter_queue(
            self, "DeadLetters", key=key, of="the retraining policy's rules, schedules and function"
        )
        self.schedule_role = self._schedule_role(key)
        alarms = retraining_alarms(project, retraining)
        self.handler = PlatformFunction(
            self,
            "Function",
            folder=FOLDER,
            description="Decides every training trigger under the dataset's retraining policy.",
            key=key,
            architecture=architecture,
            log_retention=log_retention,
            generated_files={
                CONTRACTS_FILE: generated_json(contracts),
                RETRAINING_FILE: generated_json(retraining),
                RETRAINING_ALARMS_FILE: generated_json(alarms),
            },
            environment={
                "PROJECT": project,
                "DATA_BUCKET": data_bucket.bucket_name,
                "STATE_MACHINE_ARN": state_machine.state_machine_arn,
                "DECISIONS_TABLE": decisions.table_name,
                "CATALOG_TABLE": catalog.table_name,
                "ALERTS_TOPIC_ARN": alerts.topic_arn,
                "KMS_KEY_ARN": key.key_arn,
                "SCHEDULE_ROLE_ARN": self.schedule_role.role_arn,
                "DEAD_LETTER_QUEUE_ARN": self.dead_letters.queue_arn,
            },
            invocation=Invocation.asynchronous("its rules and schedules", self.dead_letters),
            # Preparing a retraining upload reads a version's snapshot and the labels into memory.
            memory_mb=1769,
            timeout=cdk.Duration.minutes(5),
            wildcard_only_actions=("sagemaker:ListModelPackages",),  # the model in service
        )
        self.function = self.handler.function
        self.function.grant_invoke(self.schedule_role)
        acknowledge(
            self.schedule_role,
            resources={
                f"{self.function.function_arn}:*": "CDK's invoke grant: the retraining policy function, any "
                "version of it (the schedules invoke $LATEST)."
            },
        )
        self._grant(project, sorted(retraining), state_machine, decisions, catalog, data_bucket, alerts, key)

        target = rule_target(self.function, self.dead_letters)
        self.rules: dict[str, events.Rule] = {
            "accepted": events.Rule(
                self, "OnDatasetAccepted", description="Every accepted dataset version, to the policy.",
                event_bus=bus, event_pattern=rule_pattern(DatasetVersionAccepted.KIND), targets=[target],
            ),
            "run_ended": events.Rule(
                self, "OnRunEnded", description="A training run ended: a waiting version may start.",
                event_pattern=rule_pattern(ExecutionStatusChange.KIND, {
                    "stateMachineArn": [state_machine.state_machine_arn], "status": list(ENDED_STATUSES),
                }),
                targets=[target],
            ),
        }  # fmt: skip
        if alarms:
            self.rules["alarms"] = events.Rule(
                self, "OnAlarm", description="A drift or performance alarm entered ALARM.",
                event_pattern=rule_pattern(AlarmStateChange.KIND, {
                    "alarmName": sorted(alarms), "state": {"value": ["ALARM"]},
                }),
                targets=[target],
            )  # fmt: skip
        self.schedules = {
            dataset: self._schedule(project, dataset, config.schedule, key)
            for dataset, config in sorted(retraining.items())
            if config.enabled and config.schedule
        }

    def _grant(
        self,
        project: str,
        datasets: list[str],
        state_machine: sfn.StateMachine,
        decisions: dynamodb.ITable,
        catalog: dynamodb.ITable,
        data_bucket: s3.IBucket,
        alerts: sns.ITopic,
        key: kms.IKey,
    ) -> None:
        """Exactly what the function calls (``adapters.retraining``, ``adapters.retraining_platform``)."""
        stack = cdk.Stack.of(self)
        role = self.handler.role
        executions = grant_start_once(state_machine, role)
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["states:ListExecutions"], resources=[state_machine.state_machine_arn]
            )
        )
        # State and decisions: read, and put in one transaction (TransactWriteItems of Puts is PutItem).
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem"],
                resources=[decisions.table_arn],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(actions=["dynamodb:GetItem", "dynamodb:Query"], resources=[catalog.table_arn])
        )
        # Both tables and the data bucket are encrypted with the platform's key, used through them only.
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
                resources=[key.key_arn],
                conditions={
                    "StringEquals": {
                        "kms:ViaService": [
                            f"{service}.{stack.region}.{stack.url_suffix}" for service in ("dynamodb", "s3")
                        ]
                    }
                },
            )
        )
        labels = [names.labels_prefix(d) + "*" for d in datasets]
        snapshots = [f"{DATASETS_PREFIX}{d}/*" for d in datasets]
        uploads = [names.retraining_upload_prefix(d) + "*" for d in datasets]
        # The labels are listed and read; a version's source upload is read for the labels it holds, at the
        # exact object version it came from (GetObjectVersion). The policy's uploads are listed too: S3
        # answers a HeadObject of a missing key with 403 to a role that may not list it, and the preparation
        # asks whether a decision's upload is there (adapters.training_data).
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[data_bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [*labels, *uploads]}},
            )
        )
        reads = [data_bucket.arn_for_objects(p) for p in [*labels, *snapshots, *uploads]]
        role.add_to_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=reads))
        versions = [data_bucket.arn_for_objects(p) for p in uploads]
        role.add_to_policy(iam.PolicyStatement(actions=["s3:GetObjectVersion"], resources=versions))
        writes = [data_bucket.arn_for_objects(p) for p in uploads]
        role.add_to_policy(iam.PolicyStatement(actions=["s3:PutObject"], resources=writes))
        # The model in service: the endpoint's configuration names its version; the registry its data.
        endpoints = [
            stack.format_arn(
                service="sagemaker", resource="endpoint", resource_name=names.endpoint_name(project, d)
            )
            for d in datasets
        ]
        packages = [
            stack.format_arn(
                service="sagemaker",
                resource="model-package",
                resource_name=names.model_package_group(names.group_prefix(project), d) + "/*",
            )
            for d in datasets
        ]
        role.add_to_policy(iam.PolicyStatement(actions=["sagemaker:DescribeEndpoint"], resources=endpoints))
        role.add_to_policy(
            iam.PolicyStatement(actions=["sagemaker:DescribeModelPackage"], resources=packages)
        )
        alerts.grant_publish(role)
        # The deferral schedules, by name, passing only the schedules' role.
        deferrals = [
            stack.format_arn(
                service="scheduler",
                resource="schedule",
                resource_name=f"default/{names.deferral_schedule_name(project, d)}",
                arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME,
            )
            for d in datasets
        ]
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["scheduler:CreateSchedule", "scheduler:UpdateSchedule"], resources=deferrals
            )
        )
        self.schedule_role.grant_pass_role(role)
        self.handler.acknowledge(
            resources={
                executions: "It looks up this state machine's executions by name (running, ended, repeated).",
                **{
                    data_bucket.arn_for_objects(p): "A dataset's labelled rows: labels/<dataset>/<file sha>/."
                    for p in labels
                },
                **{
                    data_bucket.arn_for_objects(
                        p
                    ): "A dataset's accepted snapshots, the base of a retraining "
                    "upload: datasets/<dataset>/<sha256>/."
                    for p in snapshots
                },
                **{
                    data_bucket.arn_for_objects(p): "The uploads the policy prepares, named by decision: "
                    "incoming/<dataset>/retraining/<decision id>.parquet."
                    for p in uploads
                },
                **dict.fromkeys(packages, "The versions of the dataset's model package group (its lineage)."),
            },
            actions={"kms:GenerateDataKey*": cdk_grant_reasons("the alert topic's")["kms:GenerateDataKey*"]},
        )

    def _schedule_role(self, key: kms.IKey) -> iam.Role:
        """The schedules' execution role: EventBridge Scheduler, for this account's default group only."""
        role = schedule_role(
            self,
            "ScheduleRole",
            description="Invokes the retraining policy on its schedules (configured and deferral).",
        )
        # Scheduler decrypts the payload with this role; the dead-letter queue is encrypted with the key.
        key.grant(role, "kms:Decrypt", "kms:GenerateDataKey")
        # The deferral schedule (set at run time, no CDK target to grant it) sends to the same queue.
        role.add_to_policy(
            iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[self.dead_letters.queue_arn])
        )
        return role

    def _schedule(self, project: str, dataset: str, expression: str, key: kms.IKey) -> scheduler.Schedule:
        """The dataset's configured retraining schedule (``retraining.schedule``)."""
        target = scheduler_targets.LambdaInvoke(
            self.function,
            input=scheduler.ScheduleTargetInput.from_object(
                {**schedule_payload(dataset), "scheduled_time": scheduler.ContextAttribute.scheduled_time}
            ),
            dead_letter_queue=self.dead_letters,
            role=self.schedule_role,
            retry_attempts=2,
            max_event_age=cdk.Duration.hours(6),
        )
        return scheduler.Schedule(
            self,
            f"Schedule-{dataset}",
            schedule_name=names.retraining_schedule_name(project, dataset),
            schedule=scheduler.ScheduleExpression.expression(expression),
            target=target,
            key=key,
            description=f"Periodic retraining of {dataset}, under its policy's limits.",
        )
