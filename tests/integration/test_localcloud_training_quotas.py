"""Training jobs past the account's quotas and past what the machine holds, in the local cloud.

SageMaker refuses a job whose instances would pass the account's quota for its instance type
(``ResourceLimitExceeded``); the local cloud also runs no more jobs at once than it is told (here one),
the others waiting ``Starting`` in creation order.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from localcloud import LocalCloud
from localcloud.sagemaker.quotas import TrainingQuotas
from tests.iam_roles import create_role
from tests.integration.localcloud_fixtures.support import create_sagemaker_roles, eventually
from tests.integration.localcloud_fixtures.training_support import (
    SOURCE_KEY,
    sourcedir_archive,
    training_job_request,
)

pytestmark = pytest.mark.slow

BUCKET = "localcloud-quota-tests"
QUOTA = 2  # ml.m5.large instances for training job usage


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    local = LocalCloud(
        work_dir=tmp_path_factory.mktemp("localcloud-quotas"),
        training_quotas=TrainingQuotas(instance_types={"ml.m5.large": QUOTA}),
        training_concurrency=1,
    ).start()
    create_sagemaker_roles(local)
    s3 = local.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key=SOURCE_KEY, Body=sourcedir_archive())
    s3.put_object(Bucket=BUCKET, Key="data/train/part-1.csv", Body=b"age,churn\n31,0\n45,1\n")
    yield local
    local.stop()


def _create(cloud: LocalCloud, name: str, mode: str, **extra: Any) -> None:
    request = training_job_request(name, bucket=BUCKET, hyperparameters={"mode": mode}, **extra)
    cloud.client("sagemaker").create_training_job(**request)


def _described(cloud: LocalCloud, name: str) -> dict[str, Any]:
    return dict(cloud.client("sagemaker").describe_training_job(TrainingJobName=name))


def _stop_all(cloud: LocalCloud, *names: str) -> None:
    for name in names:
        if _described(cloud, name)["TrainingJobStatus"] == "InProgress":
            cloud.client("sagemaker").stop_training_job(TrainingJobName=name)
    cloud.wait_idle(timeout=30)


def test_a_job_past_the_instance_quota_is_refused_and_leaves_no_job(cloud: LocalCloud) -> None:
    # Given one job in progress on one ml.m5.large, of a quota of two
    _create(cloud, "quota-running", "sleep")

    # When a job asking for two more instances of that type is created
    with pytest.raises(ClientError) as refused:
        _create(
            cloud,
            "quota-refused",
            "fit",
            ResourceConfig={"InstanceCount": 2, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 10},
        )

    # Then SageMaker's error, naming the quota, the usage and the request, and no job was created
    error = refused.value.response
    assert error["Error"]["Code"] == "ResourceLimitExceeded"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Error"]["Message"].startswith(
        "The account-level service limit 'ml.m5.large for training job usage' is 2 Instances, with current "
        "utilization of 1 Instances and a request delta of 2 Instances. Please use AWS Service Quotas"
    )
    listed = cloud.client("sagemaker").list_training_jobs()["TrainingJobSummaries"]
    names = [job["TrainingJobName"] for job in listed]
    assert "quota-refused" not in names
    with pytest.raises(ClientError, match="ValidationException"):
        _described(cloud, "quota-refused")
    # And another instance type has a quota of its own
    _create(
        cloud,
        "quota-other-type",
        "fit",
        ResourceConfig={"InstanceCount": 2, "InstanceType": "ml.c5.xlarge", "VolumeSizeInGB": 10},
    )
    _stop_all(cloud, "quota-running", "quota-other-type")
    # And once the job ended its instance is free again
    _create(cloud, "quota-freed", "fit", ResourceConfig={"InstanceCount": 2, "InstanceType": "ml.m5.large"})
    cloud.wait_idle(timeout=30)
    assert _described(cloud, "quota-freed")["TrainingJobStatus"] == "Completed"


def test_past_the_machines_concurrency_a_job_waits_starting_then_runs(cloud: LocalCloud) -> None:
    # Given one job running, with room for one at a time
    _create(cloud, "first", "sleep", max_runtime_seconds=3)
    eventually(lambda: _described(cloud, "first")["SecondaryStatus"] == "Training")

    # When a second job is created
    _create(cloud, "second", "fit")

    # Then it waits InProgress/Starting, as SageMaker shows a job whose instances are being prepared
    waiting = _described(cloud, "second")
    assert (waiting["TrainingJobStatus"], waiting["SecondaryStatus"]) == ("InProgress", "Starting")
    (transition,) = waiting["SecondaryStatusTransitions"]
    assert transition["StatusMessage"] == "Preparing the instances for training"
    assert "TrainingStartTime" not in waiting
    # And it runs once the first has ended (here: stopped at its MaxRuntimeInSeconds), not before
    cloud.wait_idle(timeout=30)
    first, second = _described(cloud, "first"), _described(cloud, "second")
    assert first["SecondaryStatus"] == "MaxRuntimeExceeded"
    assert second["TrainingJobStatus"] == "Completed"
    assert second["TrainingStartTime"] >= first["TrainingEndTime"]


def test_a_job_stopped_while_it_waits_ends_stopped_without_running(cloud: LocalCloud) -> None:
    # Given a job running and one waiting for it
    _create(cloud, "busy", "sleep")
    _create(cloud, "queued", "fit")

    # When the waiting one is stopped
    cloud.client("sagemaker").stop_training_job(TrainingJobName="queued")

    # Then it is Stopped at once, through Stopping, and never ran
    queued = _described(cloud, "queued")
    assert (queued["TrainingJobStatus"], queued["SecondaryStatus"]) == ("Stopped", "Stopped")
    assert [t["Status"] for t in queued["SecondaryStatusTransitions"]] == ["Starting", "Stopping", "Stopped"]
    _stop_all(cloud, "busy")
    (run,) = [r for r in cloud.training_runs() if r.job_name == "queued"]
    assert run.exit_code is None


def test_the_sync_task_fails_with_sagemakers_error_past_the_quota(cloud: LocalCloud) -> None:
    # Given a state machine whose .sync task asks for more instances than the quota
    request = training_job_request("sync-over-quota", bucket=BUCKET, hyperparameters={"mode": "fit"})
    request["ResourceConfig"]["InstanceCount"] = QUOTA + 1
    definition = {
        "StartAt": "Train",
        "States": {
            "Train": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sagemaker:createTrainingJob.sync",
                "Parameters": request,
                "End": True,
            }
        },
    }
    # whose role may start and follow training jobs (what its scope is is not under test here)
    training = {"Effect": "Allow", "Action": ["sagemaker:*", "events:*", "iam:PassRole"], "Resource": "*"}
    role = create_role(cloud.client("iam"), "states", trusts="states.amazonaws.com", statements=[training])
    sfn = cloud.client("stepfunctions")
    machine = sfn.create_state_machine(name="over-quota", definition=json.dumps(definition), roleArn=role)[
        "stateMachineArn"
    ]

    # When it runs
    execution = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    cloud.wait_idle(timeout=30)

    # Then the task failed with SageMaker's error, as Step Functions names it
    described = sfn.describe_execution(executionArn=execution)
    assert described["status"] == "FAILED"
    assert described["error"] == "SageMaker.ResourceLimitExceededException"
    assert "for training job usage" in described["cause"]
