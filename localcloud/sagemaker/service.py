"""Plugs the training runner into moto's SageMaker API.

moto stores a training job and reports it ``Completed`` at once, with no artifact. Here
``CreateTrainingJob`` validates the request as SageMaker does (a unique name, the required fields,
string hyperparameters), keeps what moto drops (``Environment``, the request's ``MetricDefinitions``),
refuses a job past the account's instance quota (``quotas``) and, with IAM enforced, one whose role
SageMaker cannot assume (``roles``), leaves the job ``InProgress`` and hands it
to the runner; ``DescribeTrainingJob`` and ``ListTrainingJobs`` then report the job as the runner moves
it along. ``StopTrainingJob``, which moto
lacks, stops a running job.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

from moto.core.responses import ActionResult, EmptyResult
from moto.sagemaker.exceptions import ResourceInUseException, ValidationError
from moto.sagemaker.responses import SageMakerResponse
from moto.sagemaker.utils import arn_formatter

from localcloud.errors import SENSITIVE, constraint_failure, validation_errors
from localcloud.patches import Patch
from localcloud.sagemaker import roles, status
from localcloud.sagemaker.endpoints.requests import refuse_volume_key
from localcloud.sagemaker.quotas import TrainingQuotas, instances
from localcloud.sagemaker.runner import TrainingRunner
from localcloud.sagemaker.transfer import artifact_uri

_REQUIRED = ("AlgorithmSpecification", "RoleArn", "OutputDataConfig", "ResourceConfig", "StoppingCondition")


def patches(runner: TrainingRunner, quotas: TrainingQuotas | None = None) -> list[Patch]:
    """The replacement of ``CreateTrainingJob`` and the missing ``StopTrainingJob``."""
    create = SageMakerResponse.create_training_job
    quotas = quotas or TrainingQuotas()
    # From the quota check until the job is InProgress: two requests cannot both take the last instance.
    creating = threading.Lock()

    def create_training_job(response: SageMakerResponse) -> ActionResult:
        name = response._get_param("TrainingJobName")
        validate(response, name)
        backend = response.sagemaker_backend
        job_arn = arn_formatter("training-job", name, backend.account_id, backend.region_name)
        roles.check_role(runner.iam, response._get_param("RoleArn"), source_arn=job_arn)
        # moto writes made-up MetricDefinitions into the request's own dict: keep a copy of it first.
        algorithm = copy.deepcopy(response._get_param("AlgorithmSpecification"))
        with creating:
            quotas.check(response._get_param("ResourceConfig"), list(backend.training_jobs.values()))
            result = create(response)
            job = backend.training_jobs[name]
            status.prepare(
                job,
                algorithm_specification=algorithm,
                environment=response._get_param("Environment"),
                model_artifact=artifact_uri(job.output_data_config["S3OutputPath"], name, "model.tar.gz"),
            )
        runner.submit(job, metric_definitions=list(algorithm.get("MetricDefinitions") or []))
        return result

    def stop_training_job(response: SageMakerResponse) -> ActionResult:
        name = response._get_param("TrainingJobName")
        described = response.sagemaker_backend.describe_training_job(name)  # ValidationError if missing
        if described["TrainingJobStatus"] != "InProgress" or not runner.stop(described["TrainingJobArn"]):
            raise ValidationError(
                message=f"The request was rejected because the training job is in status "
                f"{described['TrainingJobStatus']}."
            )
        return EmptyResult()

    return [
        Patch(SageMakerResponse, "create_training_job", create_training_job),
        Patch(SageMakerResponse, "stop_training_job", stop_training_job),
    ]


def validate(response: SageMakerResponse, name: Any) -> None:
    """Refuse what SageMaker refuses before it creates a job (moto accepts anything)."""
    if not isinstance(name, str) or not name:
        raise ValidationError(message=_null("trainingJobName"))
    existing = response.sagemaker_backend.training_jobs.get(name)
    if existing is not None:
        # Names are unique per account and region, for good: a retried start never trains twice.
        raise ResourceInUseException(
            message=f"Training job names must be unique within an AWS account and region, and a training "
            f"job with this name already exists ({existing.arn})"
        )
    missing = [field for field in _REQUIRED if not response._get_param(field)]
    if missing:
        raise ValidationError(message=validation_errors([_null(_member(field)) for field in missing]))
    if not (response._get_param("OutputDataConfig") or {}).get("S3OutputPath"):
        raise ValidationError(message=validation_errors([_null("outputDataConfig.s3OutputPath")]))
    for key, value in (response._get_param("HyperParameters") or {}).items():
        if not isinstance(value, str):
            failure = constraint_failure(SENSITIVE, f"hyperParameters.{key}", "Member must be a string")
            raise ValidationError(message=validation_errors([failure]))
    resources = response._get_param("ResourceConfig") or {}
    if resources.get("VolumeKmsKeyId"):
        # ResourceConfig.VolumeKmsKeyId: "You can't request a VolumeKmsKeyId when using an instance type with
        # local storage", https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ResourceConfig.html
        refuse_volume_key("VolumeKmsKeyId", instances(resources))


def _member(field: str) -> str:
    """A request member as AWS's messages name it: ``RoleArn`` is ``roleArn``."""
    return field[0].lower() + field[1:]


def _null(where: str) -> str:
    return constraint_failure(None, where, "Member must not be null")
