"""Helpers shared by the local cloud's integration tests: synthesizing the fixture app, reading results.

The fixture app is synthesized in-process, once per test session (the first synth in a process costs
several seconds; later ones well under one), into the session's temporary folder.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from localcloud import LocalCloud
from tests.iam_roles import create_role

DATA_STACK = "LocalCloudFixtureData"
FUNCTIONS_STACK = "LocalCloudFixtureFunctions"
T = TypeVar("T")


def synthesize(outdir: Path) -> Path:
    """The fixture app's cloud assembly in ``outdir``, synthesized unless it is there already."""
    if (outdir / "manifest.json").is_file():
        return outdir
    os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    import aws_cdk as cdk

    from tests.integration.localcloud_fixtures import app as fixture_app

    app = cdk.App(outdir=str(outdir))
    fixture_app.build(app)
    app.synth()
    return outdir


@dataclass(frozen=True)
class Deployment:
    """A started local cloud with the fixture app deployed, and the app's outputs."""

    cloud: LocalCloud
    outputs: dict[str, dict[str, str]]

    @property
    def data(self) -> dict[str, str]:
        """Outputs of the data stack (bucket, table, topic, bus, key)."""
        return self.outputs[DATA_STACK]

    @property
    def functions(self) -> dict[str, str]:
        """Outputs of the functions stack (function names, state machine, custom resource)."""
        return self.outputs[FUNCTIONS_STACK]

    def recorded_events(self) -> list[dict[str, Any]]:
        """The events the recorder function stored, each with what it said about its runtime."""
        items = self.cloud.client("dynamodb").scan(TableName=self.data["TableName"])["Items"]
        records = [{name: next(iter(value.values())) for name, value in item.items()} for item in items]
        for record in records:
            record["event"] = json.loads(record["event"])
        return records

    def log_messages(self, function_name: str) -> list[str]:
        """Every line in the CloudWatch Logs group of ``function_name`` (``/aws/lambda/<name>``)."""
        logs = self.cloud.client("logs")
        group = f"/aws/lambda/{function_name}"
        messages: list[str] = []
        for stream in logs.describe_log_streams(logGroupName=group)["logStreams"]:
            events = logs.get_log_events(logGroupName=group, logStreamName=stream["logStreamName"])["events"]
            messages.extend(event["message"] for event in events)
        return messages


def one_stack_assembly(directory: Path, stack: str, template: dict[str, Any]) -> Path:
    """A cloud assembly of one hand-written stack template, in ``directory`` (created); return it."""
    directory.mkdir(parents=True)
    (directory / f"{stack}.template.json").write_text(json.dumps(template))
    artifact = {"type": "aws:cloudformation:stack", "properties": {"templateFile": f"{stack}.template.json"}}
    (directory / "manifest.json").write_text(json.dumps({"artifacts": {stack: artifact}}))
    return directory


def deploy_fixture(assembly: Path, work_dir: Path) -> Deployment:
    """Start a local cloud and deploy the fixture app into it."""
    cloud = LocalCloud(work_dir=work_dir, async_retry_delays=(0.05, 0.1)).start()
    try:
        return Deployment(cloud=cloud, outputs=cloud.deploy(assembly))
    except BaseException:
        cloud.stop()
        raise


def deployed_fixture(tmp_path_factory: Any, name: str) -> Iterator[Deployment]:
    """A test module's own local cloud with the fixture app deployed (one assembly for all), then stopped."""
    assembly = synthesize(tmp_path_factory.getbasetemp() / "localcloud-fixture.out")
    deployment = deploy_fixture(assembly, tmp_path_factory.mktemp(name))
    yield deployment
    deployment.cloud.stop()


def retrying_client(cloud: LocalCloud, service: str) -> Any:
    """A boto3 client on ``cloud`` that retries as the SDK does by default (a 5xx is retried; a 4xx is not).

    ``cloud.client`` never retries; this one shows, in ``ResponseMetadata.RetryAttempts``, whether an
    answer would have made an app's SDK try again.
    """
    return boto3.session.Session().client(
        service,
        endpoint_url=cloud.endpoint_url,
        region_name=cloud.region,
        aws_access_key_id=cloud.env()["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=cloud.env()["AWS_SECRET_ACCESS_KEY"],
        config=Config(retries={"max_attempts": 5, "mode": "standard"}),
    )


def eventually(probe: Callable[[], T | None], timeout: float = 10.0) -> T:
    """The first truthy value ``probe`` returns, polling until ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"nothing came within {timeout} s")
        time.sleep(0.05)


def refusal(call: Callable[[], Any]) -> tuple[int, str, str]:
    """Make a call that must be refused: its HTTP status, error code and message (fails if it is accepted)."""
    try:
        call()
    except ClientError as error:
        response: Any = error.response
        return (
            response["ResponseMetadata"]["HTTPStatusCode"],
            response["Error"]["Code"],
            response["Error"]["Message"],
        )
    raise AssertionError("the call was accepted")


def create_sagemaker_roles(cloud: LocalCloud) -> None:
    """The roles the fixtures' training jobs and models name (``role/training``, ``role/model``).

    SageMaker may assume them, they may use any bucket and key, and write their jobs' and endpoints'
    logs (SageMaker writes them as the role): what these tests check is not a role's scope
    (``test_localcloud_iam_roles`` checks that), but they must pass with IAM enforced.
    """
    anything = {"Effect": "Allow", "Action": ["s3:*", "kms:*"], "Resource": "*"}
    logs = {
        "Effect": "Allow",
        "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": "arn:aws:logs:*:*:log-group:/aws/sagemaker/*",
    }
    for name in ("training", "model"):
        create_role(cloud.client("iam"), name, trusts="sagemaker.amazonaws.com", statements=[anything, logs])


SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"


def register_model(
    cloud: LocalCloud, bucket: str, group: str, model_dir: Path, *, versions: int = 1
) -> list[str]:
    """A trained model's folder archived to ``s3://<bucket>/models/churn/model.tar.gz`` and registered as
    ``versions`` approved packages of ``group`` (the bucket is created): their ARNs."""
    from domain.training.registration import INFERENCE_ENVIRONMENT

    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        for path in sorted(model_dir.rglob("*")):
            tar.add(path, arcname=path.relative_to(model_dir).as_posix(), recursive=False)
    cloud.client("s3").create_bucket(Bucket=bucket)
    cloud.client("s3").put_object(Bucket=bucket, Key="models/churn/model.tar.gz", Body=archive.getvalue())
    sagemaker = cloud.client("sagemaker")
    sagemaker.create_model_package_group(ModelPackageGroupName=group)
    container = {
        "Image": SKLEARN_IMAGE,
        "ModelDataUrl": f"s3://{bucket}/models/churn/model.tar.gz",
        "Environment": dict(INFERENCE_ENVIRONMENT),
    }
    return [
        sagemaker.create_model_package(
            ModelPackageGroupName=group,
            ModelApprovalStatus="Approved",
            InferenceSpecification={
                "Containers": [container],
                "SupportedContentTypes": ["text/csv", "application/json"],
                "SupportedResponseMIMETypes": ["application/json"],
            },
        )["ModelPackageArn"]
        for _ in range(versions)
    ]
