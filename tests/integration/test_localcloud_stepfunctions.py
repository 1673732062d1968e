"""Step Functions in the local cloud: the synthesized definitions run, SageMaker's .sync included.

The fixture app (``localcloud_fixtures/training_app.py``) is a training pipeline in miniature, built
with CDK's ``SageMakerCreateTrainingJob`` (``RUN_JOB``) and started by an EventBridge rule or by hand.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError

from localcloud import LocalCloud
from tests.integration.localcloud_fixtures import training_app
from tests.integration.localcloud_fixtures.support import eventually
from tests.integration.localcloud_fixtures.training_support import read_archive

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:Tried to parse:UserWarning")]

DATASET_KEY = f"{training_app.DATASET_PREFIX}v1/data.csv"


@dataclass(frozen=True)
class Pipeline:
    """The fixture app deployed, with one dataset version in its bucket."""

    cloud: LocalCloud
    outputs: dict[str, str]

    @property
    def sfn(self) -> Any:
        return self.cloud.client("stepfunctions")

    def start(self, name: str, **execution_input: str) -> str:
        """Start the pipeline by hand, as ``mlops`` does, and return the execution ARN."""
        response = self.sfn.start_execution(
            stateMachineArn=self.outputs["PipelineArn"], name=name, input=json.dumps(execution_input)
        )
        return str(response["executionArn"])

    def finished(self, execution_arn: str) -> dict[str, Any]:
        """Wait for the local cloud to settle, then describe the execution."""
        self.cloud.wait_idle(timeout=30)
        return dict(self.sfn.describe_execution(executionArn=execution_arn))

    def put_event(self, detail_type: str, detail: dict[str, str]) -> None:
        entries = [
            {
                "Source": training_app.EVENT_SOURCE,
                "DetailType": detail_type,
                "Detail": json.dumps(detail),
                "EventBusName": self.outputs["BusName"],
            }
        ]
        assert self.cloud.client("events").put_events(Entries=entries)["FailedEntryCount"] == 0


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    assembly = training_app.synthesize(tmp_path_factory.getbasetemp() / "localcloud-training.out")
    cloud = LocalCloud(work_dir=tmp_path_factory.mktemp("localcloud-stepfunctions")).start()
    try:
        outputs = cloud.deploy(assembly)[training_app.STACK]
        cloud.client("s3").put_object(
            Bucket=outputs["BucketName"], Key=DATASET_KEY, Body=b"age,churn\n31,0\n"
        )
        yield Pipeline(cloud, outputs)
    finally:
        cloud.stop()


def test_the_pipeline_trains_and_outputs_the_model_artifact(pipeline: Pipeline) -> None:
    # Given the synthesized pipeline, started by hand with a name derived from the dataset version
    execution_arn = pipeline.start("v1-manual", jobName="train-v1-manual", mode="fit", datasetVersion="v1")

    # When it has run
    described = pipeline.finished(execution_arn)

    # Then it succeeded, with the artifact of a training job that really ran
    assert described["status"] == "SUCCEEDED"
    output = json.loads(described["output"])
    bucket = pipeline.outputs["BucketName"]
    assert output == {
        "datasetVersion": "v1",
        "modelArtifact": f"s3://{bucket}/models/train-v1-manual/output/model.tar.gz",
        "status": "Completed",
    }
    model = read_archive(pipeline.cloud.client("s3"), output["modelArtifact"])
    assert json.loads(model["model.json"])["rows"] == 1


def test_the_training_task_outputs_describe_training_job_as_step_functions_does(pipeline: Pipeline) -> None:
    # Given a finished execution
    execution_arn = pipeline.start("v1-history", jobName="train-v1-history", mode="fit", datasetVersion="v1")
    pipeline.finished(execution_arn)

    # When its history is read
    events = pipeline.sfn.get_execution_history(executionArn=execution_arn)["events"]

    # Then the training task's result is the job's description, timestamps in epoch milliseconds
    (succeeded,) = [e for e in events if e["type"] == "TaskSucceeded"]
    details = succeeded["taskSucceededEventDetails"]
    assert (details["resourceType"], details["resource"]) == ("sagemaker", "createTrainingJob.sync")
    result = json.loads(details["output"])
    assert result["TrainingJobStatus"] == "Completed"
    assert isinstance(result["TrainingEndTime"], int)
    assert result["TrainingEndTime"] >= result["TrainingStartTime"] > 1_600_000_000_000


def test_a_failing_job_takes_the_catch_path_with_the_failure_reason(pipeline: Pipeline) -> None:
    # Given a run whose training script fails, writing why
    execution_arn = pipeline.start("v1-bad", jobName="train-v1-bad", mode="fail", datasetVersion="bad rows")

    # When it has run
    described = pipeline.finished(execution_arn)

    # Then the Catch routed States.TaskFailed to the Fail state, with the job's description as cause
    assert (described["status"], described["error"]) == ("FAILED", "TrainingFailed")
    cause = json.loads(described["cause"])
    assert cause["TrainingJobStatus"] == "Failed"
    assert cause["FailureReason"] == "AlgorithmError: bad rows"


def test_stopping_an_execution_stops_its_training_job(pipeline: Pipeline) -> None:
    # Given an execution waiting for a long training job
    execution_arn = pipeline.start(
        "v1-stopped", jobName="train-v1-stopped", mode="sleep", datasetVersion="v1"
    )
    sagemaker = pipeline.cloud.client("sagemaker")
    eventually(
        lambda: _secondary_status(sagemaker, "train-v1-stopped") == "Training",
    )

    # When the execution is stopped
    pipeline.sfn.stop_execution(executionArn=execution_arn)
    described = pipeline.finished(execution_arn)

    # Then the job was stopped too, as Step Functions stops the jobs of its .sync tasks
    assert described["status"] == "ABORTED"
    assert (
        sagemaker.describe_training_job(TrainingJobName="train-v1-stopped")["TrainingJobStatus"] == "Stopped"
    )


def _secondary_status(sagemaker: Any, name: str) -> str | None:
    try:
        return str(sagemaker.describe_training_job(TrainingJobName=name)["SecondaryStatus"])
    except ClientError:
        return None  # not created yet


def test_a_second_start_with_the_same_name_fails_like_aws(pipeline: Pipeline) -> None:
    # Given a run that finished
    execution_arn = pipeline.start("v1-once", jobName="train-v1-once", mode="fit", datasetVersion="v1")
    pipeline.finished(execution_arn)

    # When the same dataset version is started again by hand
    with pytest.raises(ClientError) as refused:
        pipeline.start("v1-once", jobName="train-v1-once", mode="fit", datasetVersion="v1")

    # Then Step Functions refuses it: no second training run
    assert refused.value.response["Error"]["Code"] == "ExecutionAlreadyExists"


def test_executions_are_named_as_aws_names_them(pipeline: Pipeline) -> None:
    # Given starts without a name, and with a name AWS refuses
    machine = pipeline.outputs["ProbeArn"]
    first = pipeline.sfn.start_execution(stateMachineArn=machine, input=json.dumps({"key": DATASET_KEY}))
    second = pipeline.sfn.start_execution(stateMachineArn=machine, input=json.dumps({"key": DATASET_KEY}))
    with pytest.raises(ClientError) as refused:
        pipeline.sfn.start_execution(stateMachineArn=machine, name="dataset v1/retry")

    # Then unnamed executions get distinct UUIDs, and the bad name is InvalidName
    names = [first["executionArn"].rsplit(":", 1)[-1], second["executionArn"].rsplit(":", 1)[-1]]
    assert names[0] != names[1]
    assert all(uuid.UUID(name) for name in names)
    assert refused.value.response["Error"]["Code"] == "InvalidName"
    pipeline.cloud.wait_idle(timeout=30)


def test_an_sdk_task_result_with_timestamps_can_be_described(pipeline: Pipeline) -> None:
    # Given a machine whose SDK task (s3:headObject) returns a timestamp
    execution_arn = pipeline.sfn.start_execution(
        stateMachineArn=pipeline.outputs["ProbeArn"], input=json.dumps({"key": DATASET_KEY})
    )["executionArn"]

    # When the execution is described
    described = pipeline.finished(execution_arn)

    # Then it succeeded and its output is JSON, the timestamp as ISO 8601 text
    assert described["status"] == "SUCCEEDED"
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", json.loads(described["output"])["LastModified"])


def test_a_dataset_version_accepted_event_starts_the_pipeline(pipeline: Pipeline) -> None:
    # Given the rule on the custom bus, whose target is the pipeline with an input transformer
    # When the event is put
    pipeline.put_event(training_app.ACCEPTED_DETAIL_TYPE, {"jobName": "train-v2-event", "version": "v2"})
    pipeline.cloud.wait_idle(timeout=30)

    # Then EventBridge started an execution (named with a UUID) with the transformed input, which trained
    executions = pipeline.sfn.list_executions(stateMachineArn=pipeline.outputs["PipelineArn"])["executions"]
    described = [pipeline.sfn.describe_execution(executionArn=e["executionArn"]) for e in executions]
    (started,) = [d for d in described if json.loads(d["input"]).get("jobName") == "train-v2-event"]
    assert uuid.UUID(started["name"])
    assert json.loads(started["input"]) == {
        "jobName": "train-v2-event",
        "datasetVersion": "v2",
        "mode": "fit",
    }
    assert started["status"] == "SUCCEEDED"


def test_a_target_whose_role_may_not_start_the_machine_is_not_delivered(pipeline: Pipeline) -> None:
    # Given a rule whose target role is not allowed states:StartExecution, with a dead-letter queue
    before = len(pipeline.sfn.list_executions(stateMachineArn=pipeline.outputs["PipelineArn"])["executions"])

    # When its event is put
    pipeline.put_event(training_app.UNGRANTED_DETAIL_TYPE, {"jobName": "never"})
    pipeline.cloud.wait_idle(timeout=30)

    # Then no execution started, and the event went to the dead-letter queue with EventBridge's reason
    after = len(pipeline.sfn.list_executions(stateMachineArn=pipeline.outputs["PipelineArn"])["executions"])
    assert after == before
    messages = pipeline.cloud.client("sqs").receive_message(
        QueueUrl=pipeline.outputs["DeadLetterQueueUrl"], MessageAttributeNames=["All"]
    )["Messages"]
    (message,) = messages
    assert message["MessageAttributes"]["ERROR_CODE"]["StringValue"] == "AccessDenied"
    assert json.loads(message["Body"])["detail"] == {"jobName": "never"}
