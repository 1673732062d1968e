"""The deployed data plane in an in-process local cloud, shared by the end-to-end tests."""

from __future__ import annotations

import contextlib
import copy
import fcntl
import hashlib
import json
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from localcloud import LocalCloud, access_report, merge_outputs
from tests.conftest import ACCESS_SESSION, CloudAssembly
from tests.iam_roles import let_service_send


@dataclass
class DataPlane:
    """The deployed stack's outputs and clients, with helpers to wait for what the platform does."""

    cloud: LocalCloud
    outputs: dict[str, str]
    accepted_events: str  # an SQS queue that receives the bus's "Dataset Version Accepted" events
    alerts: str  # an SQS queue subscribed to the alert topic

    @property
    def bucket(self) -> str:
        return self.outputs["DataBucketName"]

    def client(self, service: str) -> Any:
        return self.cloud.client(service)

    def executions(self, machine_output: str) -> list[dict[str, Any]]:
        """Every execution of the state machine whose ARN is the output ``machine_output``, described.

        Newest first, as Step Functions lists them.
        """
        sfn = self.client("stepfunctions")
        listed = sfn.list_executions(stateMachineArn=self.outputs[machine_output])["executions"]
        return [sfn.describe_execution(executionArn=run["executionArn"]) for run in listed]

    def point_sdk_here(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Point this process's AWS SDK (the platform's adapters, the CLI) at the local cloud."""
        from adapters.aws import forget_clients

        for name, value in self.cloud.env().items():
            monkeypatch.setenv(name, value)
        forget_clients()  # clients made before were made for elsewhere (an earlier module's local cloud)

    def serving_api(
        self, dataset: str, body: bytes, *, content_type: str = "text/csv", sign: bool = True
    ) -> requests.Response:
        """POST ``body`` to the serverless invocation API's ``<dataset>/invocations``.

        SigV4-signed as an app allowed to invoke it (the account's administrator), unless ``sign`` is False.
        """
        url = self.cloud.local_url(self.outputs["ServingApiUrl"]) + f"{dataset}/invocations"
        headers = {"Content-Type": content_type, "Accept": "application/json"}
        if sign:
            environment = self.cloud.env()
            credentials = Credentials(environment["AWS_ACCESS_KEY_ID"], environment["AWS_SECRET_ACCESS_KEY"])
            request = AWSRequest(method="POST", url=url, data=body, headers=headers)
            SigV4Auth(credentials, "execute-api", self.cloud.region).add_auth(request)
            headers = dict(request.headers)
        return requests.post(url, data=body, headers=headers, timeout=60)

    def upload(self, key: str, body: bytes) -> dict[str, Any]:
        response: dict[str, Any] = self.client("s3").put_object(Bucket=self.bucket, Key=key, Body=body)
        self.cloud.wait_idle(timeout=120)
        return response

    def catalog(self, dataset: str) -> list[dict[str, Any]]:
        table = self.outputs["CatalogTableName"]
        items = self.client("dynamodb").query(
            TableName=table,
            KeyConditionExpression="dataset = :d",
            ExpressionAttributeValues={":d": {"S": dataset}},
        )["Items"]
        return [{key: next(iter(value.values())) for key, value in item.items()} for item in items]

    def read_json(self, key: str) -> Any:
        return json.loads(self.client("s3").get_object(Bucket=self.bucket, Key=key)["Body"].read())

    def keys(self, prefix: str) -> list[str]:
        listing = self.client("s3").list_objects_v2(Bucket=self.bucket, Prefix=prefix)
        return [item["Key"] for item in listing.get("Contents", [])]

    def train(self, folder: Path, seed: int) -> None:
        """Upload a churn dataset version; its training run registers a model version (waited for)."""
        from examples.churn import generate

        body = generate(3_000, seed, folder / f"churn-{seed}.csv", "csv").read_bytes()
        self.upload(f"incoming/churn/churn-{seed}.csv", body)
        runs = self.client("stepfunctions").list_executions(
            stateMachineArn=self.outputs["TrainingStateMachineArn"]
        )["executions"]
        (run,) = [r for r in runs if hashlib.sha256(body).hexdigest()[:12] in r["name"]]
        assert run["status"] == "SUCCEEDED"

    def drain(self, queue_url: str, wait: float = 1.0) -> list[Any]:
        messages: list[Any] = []
        deadline = time.monotonic() + wait
        sqs = self.client("sqs")
        while time.monotonic() < deadline:
            batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
            for message in batch:
                messages.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            if not batch and messages:
                break
            if not batch:
                time.sleep(0.1)
        return messages


@pytest.fixture(scope="module")
def registry(platform: DataPlane) -> Iterator[Any]:
    """The platform's registry adapter pointed at the module's ``platform`` (what `mlops models` uses)."""
    from adapters.aws import forget_clients

    patch = pytest.MonkeyPatch()
    platform.point_sdk_here(patch)
    from adapters.registry import SageMakerModelRegistry

    yield SageMakerModelRegistry()
    patch.undo()
    forget_clients()


@pytest.fixture(scope="module")  # moto's state is per process: one local cloud at a time
def data_plane(cloud_assembly: CloudAssembly) -> Iterator[DataPlane]:
    """The synthesized app deployed into a local cloud, with listeners on its bus and alert topic."""
    with deployed_platform(cloud_assembly.directory) as deployed:
        yield deployed


# Short waits, so that a whole deployment fits in a test (synth accepts them for an hour's timeout).
QUICK_DEPLOYMENTS = {"poll_seconds": 2, "lock_wait_seconds": 2, "timeout_minutes": 60}
# Churn served serverless, its invocation API throttled well above what a test sends.
SERVERLESS = {
    "mode": "serverless",
    "serverless": {"memory_mb": 2048, "max_concurrency": 4},
    "capture_api": {"rate_per_second": 50, "burst": 50},
}


@contextlib.contextmanager
def serving_platform(
    tmp_path_factory: pytest.TempPathFactory, name: str, serving: dict[str, Any] | None = None
) -> Iterator[DataPlane]:
    """cdk.json's app with quick deployments (and ``serving`` for churn), synthesized and deployed."""
    from stacks.app import build_app, cdk_json_context

    context = copy.deepcopy(cdk_json_context())
    context["mlops"]["deployment"] = dict(QUICK_DEPLOYMENTS)
    if serving is not None:
        context["mlops"]["datasets"]["churn"]["serving"] = serving
    outdir = tmp_path_factory.mktemp(f"{name}.out")
    build_app(context, outdir=str(outdir)).synth()
    with deployed_platform(outdir) as deployed:
        yield deployed


# How much longer than written every e2e wait may take: E2E_TIMEOUT_SCALE=3 gives a loaded machine three times
# the time. It scales only how long a test waits for the platform, never what it asserts once it is done.
TIMEOUT_SCALE_VARIABLE = "E2E_TIMEOUT_SCALE"


def timeout_scale() -> float:
    """The factor E2E_TIMEOUT_SCALE sets (default 1); a value that is not a number >= 1 fails here, named."""
    raw = os.environ.get(TIMEOUT_SCALE_VARIABLE, "1")
    try:
        scale = float(raw)
    except ValueError:
        scale = 0.0
    if not scale >= 1:  # also NaN
        raise ValueError(
            f"{TIMEOUT_SCALE_VARIABLE}={raw!r} is not a number >= 1: set it to how many times longer the e2e "
            "tests may wait (e.g. 2 on a loaded machine), or unset it"
        )
    return scale


def scaled(seconds: float) -> float:
    """``seconds`` of waiting, scaled by E2E_TIMEOUT_SCALE (for a test's own deadline)."""
    return seconds * timeout_scale()


class _PatientCloud(LocalCloud):
    """A local cloud whose ``wait_idle`` waits E2E_TIMEOUT_SCALE times the timeout each test gives it."""

    def wait_idle(self, timeout: float = 60.0) -> None:
        super().wait_idle(scaled(timeout))


# The session's local clouds (one per module) add up to one least-privilege report (`mlops local access`).
# The session's id is set by tests/conftest.py before the test workers start (see there).
_SESSION = os.environ[ACCESS_SESSION]


@contextlib.contextmanager
def deployed_platform(assembly: Path) -> Iterator[DataPlane]:
    """A cloud assembly deployed into a new local cloud, with listeners on its bus and alert topic.

    The local cloud enforces IAM, as AWS does: every role acts only as its policies allow. When it stops, what
    its roles used and never used is added to the session's saved report.
    """
    with _PatientCloud(enforce_iam=True) as cloud, _reporting_access(cloud):
        outputs = merge_outputs(cloud.deploy(assembly))
        sqs, events, sns = cloud.client("sqs"), cloud.client("events"), cloud.client("sns")
        accepted, accepted_arn = _queue(sqs, "accepted")
        rule = events.put_rule(
            Name="test-listener",
            EventBusName=outputs["EventBusName"],
            EventPattern=json.dumps({"source": ["mlops.data"], "detail-type": ["Dataset Version Accepted"]}),
        )
        let_service_send(sqs, accepted, service="events.amazonaws.com", source_arn=rule["RuleArn"])
        events.put_targets(
            Rule="test-listener",
            EventBusName=outputs["EventBusName"],
            Targets=[{"Id": "q", "Arn": accepted_arn}],
        )
        alerts, alerts_arn = _queue(sqs, "alerts")
        let_service_send(sqs, alerts, service="sns.amazonaws.com", source_arn=outputs["AlertsTopicArn"])
        sns.subscribe(TopicArn=outputs["AlertsTopicArn"], Protocol="sqs", Endpoint=alerts_arn)
        yield DataPlane(cloud=cloud, outputs=outputs, accepted_events=accepted, alerts=alerts)


def _queue(sqs: Any, purpose: str) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=f"{purpose}-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


@contextlib.contextmanager
def _reporting_access(cloud: LocalCloud) -> Iterator[None]:
    try:
        yield
    finally:
        path = access_report.tests_report_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        # Modules run in parallel workers (`make test`): one merges into the shared report at a time.
        with path.with_suffix(".lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            access_report.save_into(access_report.take(cloud), path, session=_SESSION)
