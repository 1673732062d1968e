"""The drift monitor: the function that scores an endpoint's captured traffic, and its schedules.

``lambdas/drift_monitor`` reads a window of a dataset's captures (``capture/<dataset>/v<version>/``),
scores each version's rows against that version's baseline from the registry, writes its report under
``monitoring/<dataset>/`` and publishes its metrics as EMF log lines (no CloudWatch permission: Lambda's
log group turns them into metrics). One EventBridge Scheduler schedule per monitored dataset invokes it
with ``{"dataset": ..., "scheduled_time": <aws.scheduler.scheduled-time>}``; ``mlops drift check``
invokes it by hand.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from constructs import Construct

from domain import names
from domain.data.contract import DatasetContract
from domain.declared import CONTRACTS_FILE, MONITORING_FILE, TRAINING_FILE
from domain.monitoring.config import MonitoringConfig
from domain.training.artifacts import run_prefix
from domain.training.config import TrainingConfig
from stacks.constructs.data_bucket import key_through_s3
from stacks.constructs.lambda_packaging import generated_json
from stacks.constructs.nag import acknowledge
from stacks.constructs.platform_function import Invocation, PlatformFunction, dead_letter_queue
from stacks.constructs.schedules import schedule_role

FOLDER = "drift_monitor"
# Where the gate puts a run's evaluation and the baseline files the registry points at
# (domain.training.verdict): runs/<dataset>/<run>/evaluation/.
_EVALUATION = "evaluation/"


def baselines_pattern(dataset: str) -> str:
    """The keys of every run's baselines of ``dataset``: the registered profiles and drift baselines."""
    return run_prefix(dataset, "*") + _EVALUATION + "*"


class DriftMonitor(Construct):
    """The monitor function, granted only what it reads and writes, and one schedule per monitored dataset.

    Attributes
    ----------
    function
        The monitor (``DriftMonitorFunctionName``).
    schedules
        Per dataset whose monitoring is enabled, its schedule.
    schedule_role
        The role the schedules invoke the function as (EventBridge Scheduler's execution role).
    dead_letters
        What a schedule could not deliver, and what the function failed on for good.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        project: str,
        contracts: dict[str, DatasetContract],
        training: dict[str, TrainingConfig],
        monitoring: dict[str, MonitoringConfig],
        data_bucket: s3.IBucket,
        key: kms.IKey,
        architecture: lambda_.Architecture,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dead_letters = dead_letter_queue(
            self, "DeadLetters", key=key, of="the drift schedules and the drift monitor function"
        )
        self.handler = PlatformFunction(
            self,
            "Function",
            folder=FOLDER,
            description="Scores a window of an endpoint's captured traffic against its versions' baselines.",
            key=key,
            architecture=architecture,
            log_retention=log_retention,
            generated_files={
                CONTRACTS_FILE: generated_json(contracts),
                TRAINING_FILE: generated_json(training),
                MONITORING_FILE: generated_json(monitoring),
            },
            environment={
                "PROJECT": project,
                "DATA_BUCKET": data_bucket.bucket_name,
                "KMS_KEY_ARN": key.key_arn,
            },
            invocation=Invocation.asynchronous("each dataset's drift schedule", self.dead_letters),
            # One vCPU; a window of 100,000 rows x 20 features is scored in about 250 MB.
            memory_mb=1769,
            timeout=cdk.Duration.minutes(15),
        )
        self.function = self.handler.function
        self._grant(project, sorted(monitoring), data_bucket, key)
        self.schedule_role = self._schedule_role(key)
        self.schedules = {
            dataset: self._schedule(dataset, config, key)
            for dataset, config in sorted(monitoring.items())
            if config.enabled
        }

    def _grant(self, project: str, datasets: list[str], data_bucket: s3.IBucket, key: kms.IKey) -> None:
        """Read the datasets' captures and baselines, write their reports, describe their model versions."""
        stack = cdk.Stack.of(self)
        role = self.handler.role
        captures = [names.capture_prefix(d) + "*" for d in datasets]
        reports = [names.monitoring_prefix(d) + "*" for d in datasets]
        baselines = [baselines_pattern(d) for d in datasets]
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[data_bucket.bucket_arn],
                # Only the captures are listed: a report is written under its window's end, never found.
                conditions={"StringLike": {"s3:prefix": captures}},
            )
        )
        reads = [data_bucket.arn_for_objects(p) for p in [*captures, *baselines]]
        role.add_to_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=reads))
        writes = [data_bucket.arn_for_objects(p) for p in reports]
        role.add_to_policy(iam.PolicyStatement(actions=["s3:PutObject"], resources=writes))
        role.add_to_policy(key_through_s3(self, key))
        # A version's baselines are found from its model package (DriftCheckBaselines).
        packages = [
            stack.format_arn(
                service="sagemaker",
                resource="model-package",
                resource_name=names.model_package_group(names.group_prefix(project), d) + "/*",
            )
            for d in datasets
        ]
        role.add_to_policy(
            iam.PolicyStatement(actions=["sagemaker:DescribeModelPackage"], resources=packages)
        )
        self.handler.acknowledge(
            resources={
                **{
                    data_bucket.arn_for_objects(p): "A dataset's captured requests, by version and hour: "
                    "capture/<dataset>/v<version>/<endpoint>/AllTraffic/<yyyy>/<mm>/<dd>/<hh>/."
                    for p in captures
                },
                **{
                    data_bucket.arn_for_objects(p): "The baselines a dataset's runs registered: "
                    "runs/<dataset>/<run>/evaluation/ (the run is known from the model package only)."
                    for p in baselines
                },
                **{
                    data_bucket.arn_for_objects(p): "A dataset's drift reports: monitoring/<dataset>/"
                    "reports/<window end>/."
                    for p in reports
                },
                **dict.fromkeys(packages, "The versions of the monitored datasets' model package groups."),
            }
        )

    def _schedule_role(self, key: kms.IKey) -> iam.Role:
        """The schedules' execution role: assumed by EventBridge Scheduler for this account's schedules only.

        The target grants it the invocation and the dead-letter queue, the schedule's key its decryption
        (``kms:Decrypt``); sending to the queue, encrypted with the same key, needs a data key too.
        """
        role = schedule_role(
            self, "ScheduleRole", description="Invokes the drift monitor on each dataset's schedule."
        )
        key.grant(role, "kms:GenerateDataKey")
        acknowledge(
            role,
            resources={
                f"{self.function.function_arn}:*": "CDK's invoke grant: the drift monitor function, any "
                "version of it (the schedules invoke $LATEST)."
            },
        )
        return role

    def _schedule(self, dataset: str, config: MonitoringConfig, key: kms.IKey) -> scheduler.Schedule:
        """The dataset's schedule: the monitor for the window that ends at each scheduled time."""
        target = scheduler_targets.LambdaInvoke(
            self.function,
            input=scheduler.ScheduleTargetInput.from_object(
                {"dataset": dataset, "scheduled_time": scheduler.ContextAttribute.scheduled_time}
            ),
            dead_letter_queue=self.dead_letters,
            role=self.schedule_role,
            retry_attempts=2,
            max_event_age=cdk.Duration.hours(6),
        )
        return scheduler.Schedule(
            self,
            f"Schedule-{dataset}",
            schedule=scheduler.ScheduleExpression.expression(config.schedule),
            target=target,
            key=key,
            description=f"Drift of {dataset}'s endpoint: the {config.window_minutes} minutes before each run",
        )
