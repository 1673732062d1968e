"""The platform: key, data bucket, dataset catalog, platform events, dataset validation, training.

Stateful resources are retained on stack deletion unless ``retain_data`` is false. Training and
serving (later stacks) consume what this stack exposes as attributes.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from domain.data.contract import DatasetContract
from domain.training.config import TrainingConfig
from stacks.config import PlatformConfig
from stacks.constructs.data_bucket import DataBucket
from stacks.constructs.dataset_catalog import DatasetCatalog
from stacks.constructs.dataset_validation import DatasetValidation
from stacks.constructs.encryption import PlatformKey
from stacks.constructs.model_deployment import ModelDeployment
from stacks.constructs.platform_events import PlatformEvents
from stacks.constructs.serving_api import ServingApi
from stacks.constructs.training_pipeline import TrainingPipeline

LOG_RETENTION = {
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    731: logs.RetentionDays.TWO_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}


def endpoint_output(dataset: str) -> str:
    """The stack output holding a dataset's endpoint name: ``EndpointName<Dataset>``."""
    return "EndpointName" + "".join(part.title() for part in dataset.split("-"))


class DataStack(cdk.Stack):
    """Uploads become validated, versioned datasets."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PlatformConfig,
        contracts: dict[str, DatasetContract],
        training: dict[str, TrainingConfig],
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        self.encryption = PlatformKey(
            self, "Encryption", alias=f"alias/{config.project}", retain=config.retain_data
        )
        key = self.encryption.key
        self.data = DataBucket(
            self,
            "Data",
            key=key,
            retain=config.retain_data,
            noncurrent_version_transition_days=config.noncurrent_version_transition_days,
            noncurrent_version_expiration_days=config.noncurrent_version_expiration_days,
            access_log_expiration_days=config.access_log_expiration_days,
        )
        self.catalog = DatasetCatalog(self, "Catalog", key=key, retain=config.retain_data)
        self.events = PlatformEvents(
            self, "Events", bus_name=f"{config.project}-platform", key=key, alert_emails=config.alert_emails
        )
        sizing = config.validation
        architecture = (
            lambda_.Architecture.ARM_64 if sizing.architecture == "arm64" else lambda_.Architecture.X86_64
        )
        self.validation = DatasetValidation(
            self,
            "DatasetValidation",
            contracts=contracts,
            data_bucket=self.data.bucket,
            catalog=self.catalog.table,
            bus=self.events.bus,
            alerts=self.events.alerts,
            key=key,
            memory_mb=sizing.memory_mb,
            timeout=cdk.Duration.minutes(sizing.timeout_minutes),
            ephemeral_storage_gb=sizing.ephemeral_storage_gb,
            architecture=architecture,
            log_retention=LOG_RETENTION[config.log_retention_days],
        )
        self.training = TrainingPipeline(
            self,
            "Training",
            project=config.project,
            contracts=contracts,
            training=training,
            settings=config.training,
            data_bucket=self.data.bucket,
            bus=self.events.bus,
            alerts=self.events.alerts,
            key=key,
            architecture=architecture,
            log_retention=LOG_RETENTION[config.log_retention_days],
        )
        self.deployment = ModelDeployment(
            self,
            "Deployment",
            project=config.project,
            serving={name: dataset.serving for name, dataset in config.datasets.items()},
            settings=config.deployment,
            data_bucket=self.data.bucket,
            alerts=self.events.alerts,
            key=key,
            image_repository_arn=self.training.job.image_repository_arn,
            architecture=architecture,
            log_retention=LOG_RETENTION[config.log_retention_days],
            retain=config.retain_data,
        )
        serving = {name: dataset.serving for name, dataset in config.datasets.items()}
        self.serving_api: ServingApi | None = None
        if any(c.mode == "serverless" for c in serving.values()):
            self.serving_api = ServingApi(
                self,
                "ServingApi",
                project=config.project,
                serving=serving,
                data_bucket=self.data.bucket,
                key=key,
                architecture=architecture,
                log_retention=LOG_RETENTION[config.log_retention_days],
            )
        outputs = {
            "DataBucketName": self.data.bucket.bucket_name,
            "CatalogTableName": self.catalog.table.table_name,
            "EventBusName": self.events.bus.event_bus_name,
            "AlertsTopicArn": self.events.alerts.topic_arn,
            "ValidationFunctionName": self.validation.function.function_name,
            "ValidationDeadLetterQueueUrl": self.validation.dead_letters.queue_url,
            "TrainingStateMachineArn": self.training.state_machine.state_machine_arn,
            "ModelPackageGroupPrefix": f"{config.project}-",
            "DeploymentStateMachineArn": self.deployment.state_machine.state_machine_arn,
            "DeploymentsTableName": self.deployment.table.table_name,
            **{endpoint_output(dataset): endpoint for dataset, endpoint in self.deployment.endpoints.items()},
        }
        if self.serving_api is not None:
            outputs["ServingApiUrl"] = self.serving_api.api.url
            outputs["ServingApiInvokePolicyArn"] = self.serving_api.invoke_policy.managed_policy_arn
        for name, value in outputs.items():
            cdk.CfnOutput(self, name, value=value)
