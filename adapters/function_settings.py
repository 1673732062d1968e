"""Each Lambda function's environment, as a pydantic model: what its CDK construct sets, and nothing more.

A handler names its model once (``LambdaFunction(TrainingGateSettings, __file__)``) and reads it through
``function.settings()``; the field ``data_bucket`` is the variable ``DATA_BUCKET``
(``adapters.environment``). One model per function, not one for all: a variable is set only where it is
read (tests/infra/test_function_settings.py reads these models from each function's asset).
"""

from __future__ import annotations

from pydantic import BaseModel

__all__ = [
    "DatasetValidationSettings",
    "DeploymentFinishSettings",
    "DeploymentPrepareSettings",
    "DeploymentStartSettings",
    "DriftMonitorSettings",
    "FeedbackIngestionSettings",
    "ModelRegistrationSettings",
    "RetrainingPolicySettings",
    "ServingApiSettings",
    "TrainingGateSettings",
    "TrainingPrepareSettings",
    "ValidationFailureSettings",
]


class DatasetValidationSettings(BaseModel):
    """``dataset_validation``'s environment, set by the CDK construct ``DatasetValidation``."""

    data_bucket: str
    catalog_table: str
    event_bus_name: str
    alerts_topic_arn: str


class ValidationFailureSettings(BaseModel):
    """``validation_failure``'s environment, set by the CDK construct ``DatasetValidation``."""

    data_bucket: str
    alerts_topic_arn: str


class FeedbackIngestionSettings(BaseModel):
    """``feedback_ingestion``'s environment, set by the CDK construct ``FeedbackIngestion``."""

    project: str
    data_bucket: str
    alerts_topic_arn: str


class TrainingPrepareSettings(BaseModel):
    """``training_prepare``'s environment, set by the CDK construct ``TrainingPipeline``."""

    data_bucket: str
    model_package_group_prefix: str = ""


class TrainingGateSettings(BaseModel):
    """``training_gate``'s environment, set by the CDK construct ``TrainingPipeline``."""

    data_bucket: str


class ModelRegistrationSettings(BaseModel):
    """``model_registration``'s environment, set by the CDK construct ``TrainingPipeline``."""

    data_bucket: str
    model_package_group_prefix: str = ""
    inference_image_uri: str
    code_version: str


class DeploymentStartSettings(BaseModel):
    """``deployment_start``'s environment, set by the CDK construct ``ModelDeployment``."""

    project: str
    model_package_group_prefix: str
    state_machine_arn: str


class DeploymentPrepareSettings(BaseModel):
    """``deployment_prepare``'s environment, set by the CDK construct ``ModelDeployment``."""

    data_bucket: str
    deployments_table: str
    model_role_arn: str
    kms_key_arn: str


class DeploymentFinishSettings(BaseModel):
    """``deployment_finish``'s environment, set by the CDK construct ``ModelDeployment``."""

    deployments_table: str


class ServingApiSettings(BaseModel):
    """``serving_api``'s environment, set by the CDK construct ``ServingApi``."""

    project: str
    data_bucket: str
    kms_key_arn: str


class DriftMonitorSettings(BaseModel):
    """``drift_monitor``'s environment, set by the CDK construct ``DriftMonitor``.

    The registry's region and account are the function's own, read from its ARN at invocation.
    """

    project: str
    data_bucket: str
    kms_key_arn: str


class RetrainingPolicySettings(BaseModel):
    """``retraining_policy``'s environment, set by the CDK construct ``RetrainingPolicy``.

    The deferral schedule's target is the function itself, read from its ARN at invocation.
    """

    project: str
    data_bucket: str
    state_machine_arn: str
    decisions_table: str
    catalog_table: str
    alerts_topic_arn: str
    kms_key_arn: str
    schedule_role_arn: str
    dead_letter_queue_arn: str
