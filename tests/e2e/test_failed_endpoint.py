"""A failed endpoint does not block the next deployment: SageMaker lets a Failed endpoint only be deleted,
so the workflow deletes it, waits until it is gone (the name is reused) and creates it again with the
newly approved version, and the deployment's records say so.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import DataPlane, serving_platform

pytestmark = pytest.mark.slow

ENDPOINT = "mlops-churn"


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DataPlane]:
    with serving_platform(tmp_path_factory, "failed-endpoint") as deployed:
        yield deployed


def _deployment(platform: DataPlane, version: int) -> dict[str, Any]:
    executions = platform.executions("DeploymentStateMachineArn")
    (execution,) = [e for e in executions if f"-v{version}-" in e["name"]]
    return execution


def test_a_failed_endpoint_is_replaced_by_the_next_approved_version(
    platform: DataPlane, registry: Any, tmp_path: Path
) -> None:
    # Given version 1, whose model cannot start (its archive is not a model), deployed: the endpoint fails
    platform.train(tmp_path, seed=61)
    url = registry.version("mlops-churn", 1).model_data_url
    bucket, key = url.removeprefix("s3://").split("/", 1)
    platform.client("s3").put_object(Bucket=bucket, Key=key, Body=b"not a model archive")
    registry.approve(registry.version("mlops-churn", 1).arn, reason="e2e: breaks", approver="e2e-test")
    platform.cloud.wait_idle(timeout=180)
    described = platform.client("sagemaker").describe_endpoint(EndpointName=ENDPOINT)
    assert described["EndpointStatus"] == "Failed"
    failed_config = described["EndpointConfigName"]
    assert _deployment(platform, 1)["status"] == "FAILED"
    assert registry.version("mlops-churn", 1).deployment_status == "failed"

    # When version 2 is approved
    platform.train(tmp_path, seed=62)
    registry.approve(registry.version("mlops-churn", 2).arn, reason="e2e: fixes", approver="e2e-test")
    platform.cloud.wait_idle(timeout=240)

    # Then the failed endpoint was deleted and created again, and serves version 2
    described = platform.client("sagemaker").describe_endpoint(EndpointName=ENDPOINT)
    assert described["EndpointStatus"] == "InService"
    assert described["EndpointConfigName"].startswith("mlops-churn-v2-")
    assert _deployment(platform, 2)["status"] == "SUCCEEDED"
    version = registry.version("mlops-churn", 2)
    assert version.deployment_status == "deployed"
    # (the registry's metadata keeps letters, digits and a few signs: no parentheses)
    assert f"the Failed endpoint was deleted and created again {failed_config} had failed" in (
        version.deployment_reason or ""
    )
    table = platform.client("dynamodb")
    records = [
        item
        for name in table.list_tables()["TableNames"]
        if "Deployments" in name
        for item in table.scan(TableName=name)["Items"]
        if item.get("version", {}).get("N") == "2"
    ]
    assert [r["replaced_failed_endpoint"]["M"]["endpoint_config"]["S"] for r in records] == [failed_config]
