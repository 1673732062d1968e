"""SageMaker training jobs in the local cloud: the script runs as a local process, with SageMaker's contract.

The fixture script (``localcloud_fixtures/training_code/train.py``) reports what the container showed it
in the model it writes, so each test reads back, from S3 and the API, what SageMaker would show.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from localcloud import LocalCloud
from localcloud.sagemaker import isolation
from tests.integration.localcloud_fixtures.support import create_sagemaker_roles, eventually
from tests.integration.localcloud_fixtures.training_support import (
    SOURCE_KEY,
    read_archive,
    sourcedir_archive,
    training_job_request,
    training_log_lines,
)

pytestmark = pytest.mark.slow

BUCKET = "localcloud-training-tests"


@dataclass(frozen=True)
class Training:
    """A started local cloud with the fixture's code and data in its bucket."""

    cloud: LocalCloud

    @property
    def sagemaker(self) -> Any:
        return self.cloud.client("sagemaker")

    @property
    def s3(self) -> Any:
        return self.cloud.client("s3")

    def run(self, name: str, hyperparameters: dict[str, str], **extra: Any) -> dict[str, Any]:
        """Create a job, wait for everything to settle, and describe the job."""
        self.sagemaker.create_training_job(
            **training_job_request(name, bucket=BUCKET, hyperparameters=hyperparameters, **extra)
        )
        self.cloud.wait_idle(timeout=30)
        return dict(self.sagemaker.describe_training_job(TrainingJobName=name))


@pytest.fixture(scope="module")
def training(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Training]:
    cloud = LocalCloud(work_dir=tmp_path_factory.mktemp("localcloud-training")).start()
    create_sagemaker_roles(cloud)
    s3 = cloud.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key=SOURCE_KEY, Body=sourcedir_archive())
    s3.put_object(Bucket=BUCKET, Key="data/train/part-1.csv", Body=b"age,churn\n31,0\n45,1\n")
    s3.put_object(Bucket=BUCKET, Key="data/train/2026/part-2.csv", Body=b"age,churn\n28,0\n")
    yield Training(cloud)
    cloud.stop()


def test_a_job_runs_the_script_on_its_channels_and_uploads_the_model(training: Training) -> None:
    # Given a job whose script fits on the "train" channel for 3 epochs
    # When it runs to the end
    described = training.run("fit-1", {"mode": "fit", "epochs": "3"})

    # Then it completed, through SageMaker's stages, with the artifact where SageMaker puts it
    assert described["TrainingJobStatus"] == "Completed"
    assert described["SecondaryStatus"] == "Completed"
    assert [t["Status"] for t in described["SecondaryStatusTransitions"]] == [
        "Starting",
        "Downloading",
        "Training",
        "Uploading",
        "Completed",
    ]
    assert described["TrainingStartTime"] <= described["TrainingEndTime"]
    artifact = described["ModelArtifacts"]["S3ModelArtifacts"]
    assert artifact == f"s3://{BUCKET}/models/fit-1/output/model.tar.gz"
    # And the model archive holds what the script wrote in SM_MODEL_DIR, read from every channel file
    model = read_archive(training.s3, artifact)
    assert json.loads(model["model.json"]) == {"rows": 3, "columns": 2, "epochs": 3}
    seen = json.loads(model["environment.json"])
    assert seen["channel_files"] == ["2026/part-2.csv", "part-1.csv"]
    # And the output data dir became output.tar.gz beside it
    output = read_archive(training.s3, f"s3://{BUCKET}/models/fit-1/output/output.tar.gz")
    assert output["report.txt"] == b"trained on 3 rows\n"
    # And the metric definition picked the script's last value from its logs
    (metric,) = described["FinalMetricDataList"]
    assert (metric["MetricName"], metric["Value"]) == ("validation:accuracy", 0.753)


def test_the_script_sees_sagemakers_container_contract(training: Training) -> None:
    # Given a job with hyperparameters, one of them JSON-encoded as the SageMaker SDK encodes them
    described = training.run("contract-1", {"mode": "fit", "epochs": "2", "message": '"hello"'})

    # When the script reports what it saw
    seen = json.loads(
        read_archive(training.s3, described["ModelArtifacts"]["S3ModelArtifacts"])["environment.json"]
    )

    # Then its arguments are the user hyperparameters, decoded and sorted, as the training toolkit passes them
    assert seen["argv"] == ["--epochs", "2", "--message", "hello", "--mode", "fit"]
    variables = seen["variables"]
    assert json.loads(variables["SM_HPS"]) == {"epochs": 2, "message": "hello", "mode": "fit"}
    # And the SM_* variables point into the job folder, laid out as /opt/ml
    job_dir = Path(variables["SM_MODEL_DIR"]).parent
    assert variables["SM_CHANNEL_TRAIN"] == str(job_dir / "input" / "data" / "train")
    assert variables["SM_OUTPUT_DATA_DIR"] == str(job_dir / "output" / "data")
    assert variables["MLOPS_FAILURE_FILE"] == str(job_dir / "output" / "failure")
    assert seen["cwd"] == str(job_dir / "code")
    assert json.loads(variables["SM_HOSTS"]) == ["algo-1"]
    assert variables["SM_CURRENT_HOST"] == "algo-1"
    assert json.loads(variables["SM_TRAINING_ENV"])["channel_input_dirs"] == {
        "train": variables["SM_CHANNEL_TRAIN"]
    }
    assert variables["TRAINING_JOB_NAME"] == "contract-1"
    # And the config files are SageMaker's: the hyperparameters as given, one host
    assert seen["hyperparameters_json"]["message"] == '"hello"'
    assert seen["resourceconfig_json"]["current_host"] == "algo-1"
    # And the SDK inside the job points at the local cloud
    assert variables["AWS_ENDPOINT_URL"] == training.cloud.endpoint_url
    # And its output went to CloudWatch Logs, as SageMaker ships it, written as the job's role
    assert "epoch=1 loss=0.5000" in training_log_lines(training.cloud.client("logs"), "contract-1")
    usage = training.cloud.iam.enforcer.usage().role(
        f"arn:aws:iam::{training.cloud.account_id}:role/training"
    )
    assert usage is not None
    written = {resource for action, resource in usage.used if action == "logs:PutLogEvents"}
    assert any(":log-group:/aws/sagemaker/TrainingJobs:log-stream:contract-1/" in arn for arn in written)


def test_a_network_isolated_job_gets_no_endpoint_and_no_credentials(training: Training) -> None:
    # Given a job with network isolation, as the platform's training jobs are, its code in a channel
    # When it runs
    described = training.run("isolated-1", {"mode": "fit"}, EnableNetworkIsolation=True, code_channel=True)

    # Then it trained on the code the channel delivered
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    seen = json.loads(
        read_archive(training.s3, described["ModelArtifacts"]["S3ModelArtifacts"])["environment.json"]
    )
    job_dir = Path(seen["variables"]["SM_MODEL_DIR"]).parent
    assert seen["variables"]["SM_MODULE_DIR"] == str(job_dir / "input" / "data" / "code" / "sourcedir.tar.gz")
    # And nothing in its environment lets the SDK reach an AWS API
    assert "AWS_ENDPOINT_URL" not in seen["variables"]
    assert "AWS_ACCESS_KEY_ID" not in seen["variables"]


def test_an_isolated_job_whose_code_is_on_s3_fails_as_the_toolkit_in_it_would(training: Training) -> None:
    # Given an isolated job whose sagemaker_submit_directory is on S3: the toolkit in the container
    # would download it, and an isolated container has no network
    # When it runs
    described = training.run("isolated-s3-code", {"mode": "fit"}, EnableNetworkIsolation=True)

    # Then it failed in the container, saying why and what to do; the host downloaded nothing for it
    assert described["TrainingJobStatus"] == "Failed"
    reason = described["FailureReason"]
    assert reason.startswith("AlgorithmError: ")
    assert "network-isolated" in reason and "reaches no network" in reason
    assert f"s3://{BUCKET}/{SOURCE_KEY}" in reason and "input channel" in reason
    assert [t["Status"] for t in described["SecondaryStatusTransitions"]] == [
        "Starting",
        "Downloading",
        "Training",
        "Failed",
    ]
    (run,) = [r for r in training.cloud.training_runs() if r.job_name == "isolated-s3-code"]
    assert run.exit_code is None
    assert not (Path(run.job_dir) / "code" / "train.py").exists()


def _connection(training: Training, name: str, **extra: Any) -> dict[str, Any]:
    """Run the fixture's ``connect`` mode against the local cloud's own port; what the script saw."""
    described = training.run(name, {"mode": "connect", "message": training.cloud.endpoint_url}, **extra)
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    model = read_archive(training.s3, described["ModelArtifacts"]["S3ModelArtifacts"])
    return dict(json.loads(model["connection.json"]))


def test_an_isolated_script_reaches_nothing_not_even_the_local_cloud(training: Training) -> None:
    # Given an isolated job whose script opens a connection to the local cloud's port on loopback
    # When it runs
    seen = _connection(training, "isolated-connect", EnableNetworkIsolation=True, code_channel=True)

    # Then the connection failed as in an isolated container
    assert seen["reached"] is False
    assert "Network is unreachable" in seen["error"]
    (run,) = [r for r in training.cloud.training_runs() if r.job_name == "isolated-connect"]
    assert run.isolation == isolation.available().value


def test_where_no_network_namespace_can_be_made_the_guard_refuses_connections(
    training: Training, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a machine without unprivileged user namespaces (the fallback forced)
    monkeypatch.setattr(isolation, "available", lambda: isolation.Isolation.GUARD)

    # When an isolated script opens a connection to the local cloud
    seen = _connection(training, "guarded-connect", EnableNetworkIsolation=True, code_channel=True)

    # Then the guard refused it, as the namespace would
    assert seen["reached"] is False
    assert "Network is unreachable" in seen["error"]
    (run,) = [r for r in training.cloud.training_runs() if r.job_name == "guarded-connect"]
    assert run.isolation == "socket guard"


def test_a_script_that_is_not_isolated_reaches_the_local_cloud(training: Training) -> None:
    # Given a job without network isolation, the same script
    seen = _connection(training, "open-connect")

    # Then it reached the local cloud
    assert seen == {"reached": True, "error": None}
    (run,) = [r for r in training.cloud.training_runs() if r.job_name == "open-connect"]
    assert run.isolation is None


def test_an_isolated_job_is_stopped_and_logged_as_any_other(training: Training) -> None:
    # Given an isolated job that saves a checkpoint, logs, then sleeps past its MaxRuntimeInSeconds
    described = training.run(
        "isolated-sleep",
        {"mode": "sleep"},
        max_runtime_seconds=2,
        EnableNetworkIsolation=True,
        code_channel=True,
    )

    # Then the script itself got the signal: stopped for its runtime, the checkpoint uploaded, logs shipped
    assert (described["TrainingJobStatus"], described["SecondaryStatus"]) == ("Stopped", "MaxRuntimeExceeded")
    assert "checkpoint.json" in read_archive(training.s3, described["ModelArtifacts"]["S3ModelArtifacts"])
    assert "sleeping" in training_log_lines(training.cloud.client("logs"), "isolated-sleep")
    (run,) = [r for r in training.cloud.training_runs() if r.job_name == "isolated-sleep"]
    assert run.exit_code == -15  # SIGTERM reached the script's own process, not a wrapper


def test_a_script_that_writes_the_failure_file_fails_with_its_content(training: Training) -> None:
    # Given a script that writes why it gives up to the failure file, then exits 1
    # When it runs
    described = training.run("fail-1", {"mode": "fail", "message": "the label column is empty"})

    # Then the job failed, and says why in SageMaker's words
    assert described["TrainingJobStatus"] == "Failed"
    assert described["FailureReason"] == "AlgorithmError: the label column is empty"
    assert "model.tar.gz" not in json.dumps(
        training.s3.list_objects_v2(Bucket=BUCKET, Prefix="models/fail-1/")
    )


def test_a_script_that_crashes_fails_with_the_end_of_its_stderr(training: Training) -> None:
    # Given a script that raises, writing no failure file
    described = training.run("crash-1", {"mode": "crash", "message": "boom"})

    # Then the failure reason ends with the traceback's last line
    assert described["TrainingJobStatus"] == "Failed"
    assert described["FailureReason"].startswith("AlgorithmError: ExecuteUserScriptError:\nExitCode 1")
    assert "RuntimeError: the fixture crashed: boom" in described["FailureReason"]


def test_a_job_past_its_max_runtime_is_stopped_and_keeps_what_it_saved(training: Training) -> None:
    # Given a script that saves a checkpoint, then sleeps past MaxRuntimeInSeconds
    training.sagemaker.create_training_job(
        **training_job_request(
            "sleep-1", bucket=BUCKET, hyperparameters={"mode": "sleep"}, max_runtime_seconds=2
        )
    )

    # Then while it runs, the API shows it in progress
    assert (
        training.sagemaker.describe_training_job(TrainingJobName="sleep-1")["TrainingJobStatus"]
        == "InProgress"
    )
    listed = training.sagemaker.list_training_jobs(StatusEquals="InProgress")["TrainingJobSummaries"]
    assert "sleep-1" in [job["TrainingJobName"] for job in listed]

    # When the deadline passes
    training.cloud.wait_idle(timeout=30)

    # Then SageMaker's outcome: stopped for exceeding its runtime, the saved model uploaded all the same
    described = training.sagemaker.describe_training_job(TrainingJobName="sleep-1")
    assert (described["TrainingJobStatus"], described["SecondaryStatus"]) == ("Stopped", "MaxRuntimeExceeded")
    assert "checkpoint.json" in read_archive(training.s3, described["ModelArtifacts"]["S3ModelArtifacts"])


def test_stop_training_job_stops_a_running_job(training: Training) -> None:
    # Given a running job
    training.sagemaker.create_training_job(
        **training_job_request("stop-1", bucket=BUCKET, hyperparameters={"mode": "sleep"})
    )
    eventually(
        lambda: (
            training.sagemaker.describe_training_job(TrainingJobName="stop-1")["SecondaryStatus"]
            == "Training"
        )
    )

    # When it is stopped
    training.sagemaker.stop_training_job(TrainingJobName="stop-1")

    # Then it goes through Stopping to Stopped
    assert (
        training.sagemaker.describe_training_job(TrainingJobName="stop-1")["TrainingJobStatus"] == "Stopping"
    )
    training.cloud.wait_idle(timeout=30)
    described = training.sagemaker.describe_training_job(TrainingJobName="stop-1")
    assert (described["TrainingJobStatus"], described["SecondaryStatus"]) == ("Stopped", "Stopped")


def test_a_channel_with_no_data_fails_the_job_before_the_script_runs(training: Training) -> None:
    # Given a job whose channel points at an empty prefix
    request = training_job_request("empty-1", bucket=BUCKET, hyperparameters={"mode": "fit"})
    request["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] = f"s3://{BUCKET}/data/none"

    # When it runs
    training.sagemaker.create_training_job(**request)
    training.cloud.wait_idle(timeout=30)

    # Then it failed with SageMaker's client error, and the script never ran
    described = training.sagemaker.describe_training_job(TrainingJobName="empty-1")
    assert described["TrainingJobStatus"] == "Failed"
    assert described["FailureReason"].startswith("ClientError: No S3 objects found under S3 URL")
    (run,) = [r for r in training.cloud.training_runs() if r.job_name == "empty-1"]
    assert run.exit_code is None


def test_a_training_job_name_is_used_once(training: Training) -> None:
    # Given a job that ran
    training.run("once-1", {"mode": "fit"})

    # When another one is created with the same name
    with pytest.raises(ClientError) as refused:
        training.sagemaker.create_training_job(
            **training_job_request("once-1", bucket=BUCKET, hyperparameters={"mode": "fit"})
        )

    # Then SageMaker's answer: the name is in use (a retried start never trains twice)
    assert refused.value.response["Error"]["Code"] == "ResourceInUse"
