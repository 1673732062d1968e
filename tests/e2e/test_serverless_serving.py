"""Serverless mode end to end in the local cloud: an approval deploys a serverless endpoint, and apps
invoke it through the platform's signed, throttled invocation API, which captures what SageMaker cannot.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from examples.churn import generate, request_csv
from tests.e2e.conftest import SERVERLESS, DataPlane, serving_platform
from tests.trained_model import churn_snapshot

pytestmark = pytest.mark.slow

ENDPOINT = "mlops-churn"


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DataPlane]:
    with serving_platform(tmp_path_factory, "serverless", SERVERLESS) as deployed:
        yield deployed


def test_an_approved_version_is_served_serverless_and_its_requests_are_captured(
    platform: DataPlane, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = generate(3_000, 51, tmp_path / "churn.csv", "csv").read_bytes()
    platform.upload("incoming/churn/churn.csv", body)
    runs = platform.client("stepfunctions").list_executions(
        stateMachineArn=platform.outputs["TrainingStateMachineArn"]
    )["executions"]
    assert [r["status"] for r in runs if hashlib.sha256(body).hexdigest()[:12] in r["name"]] == ["SUCCEEDED"]
    platform.point_sdk_here(monkeypatch)
    from adapters.registry import SageMakerModelRegistry

    registry = SageMakerModelRegistry()
    registry.approve(registry.version("mlops-churn", 1).arn, reason="e2e: serverless", approver="e2e-test")
    platform.cloud.wait_idle(timeout=180)

    endpoint = platform.client("sagemaker").describe_endpoint(EndpointName=ENDPOINT)
    config = platform.client("sagemaker").describe_endpoint_config(
        EndpointConfigName=endpoint["EndpointConfigName"]
    )
    assert endpoint["EndpointStatus"] == "InService"
    assert config["ProductionVariants"][0]["ServerlessConfig"] == {
        "MemorySizeInMB": 2048,
        "MaxConcurrency": 4,
    }
    assert not config.get("DataCaptureConfig")  # serverless endpoints cannot capture
    assert registry.version("mlops-churn", 1).deployment_status == "deployed"

    rows = churn_snapshot(150, seed=52).slice(0, 4).drop(["churned"])
    answer = platform.serving_api("churn", request_csv(rows))
    refused = platform.serving_api("churn", b"age\nforty\n")
    unsigned = platform.serving_api("churn", request_csv(rows), sign=False)

    assert answer.status_code == 200, answer.text
    assert len(answer.json()["predictions"]) == 4
    assert refused.status_code == 400
    assert "row 0, 'age': 'forty' is not a number" in refused.json()["problems"]
    assert unsigned.status_code == 403
    deadline = time.monotonic() + 10
    keys: list[str] = []
    while time.monotonic() < deadline and len(keys) < 2:
        keys = platform.keys(f"capture/churn/v1/{ENDPOINT}/AllTraffic/")  # version 1 answered
        time.sleep(0.2)
    captured = [
        json.loads(platform.client("s3").get_object(Bucket=platform.bucket, Key=key)["Body"].read())
        for key in keys
    ]
    inputs = sorted(c["captureData"]["endpointInput"]["data"] for c in captured)
    assert inputs == sorted([request_csv(rows).decode(), "age\nforty\n"])
