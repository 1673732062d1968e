"""Serving end to end in the local cloud: approval → deployment → predictions, canary updates, rollbacks.

The app is synthesized with short waits (a two-second poll, a two-second canary step, a twelve-second
bake) so that a whole blue/green update fits in a test; everything else is ``cdk.json``'s.
"""

from __future__ import annotations

import io
import json
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pyarrow as pa
import pytest
from botocore.exceptions import ClientError

from examples.churn import request_csv
from tests.e2e.conftest import DataPlane, serving_platform
from tests.trained_model import churn_snapshot
from training.mlops_training.contract_io import Signature, feature_matrix

pytestmark = pytest.mark.slow

ENDPOINT = "mlops-churn"
WAIT_SECONDS, BAKE_SECONDS = 2, 12


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DataPlane]:
    serving = {
        "instance_count": 2,  # a canary is at most half of the instances: one of two
        "rollout": {
            "strategy": "canary",
            "canary_percent": 50,
            "wait_seconds": WAIT_SECONDS,
            "bake_seconds": BAKE_SECONDS,
        },
    }
    with serving_platform(tmp_path_factory, "serving", serving) as deployed:
        yield deployed


def _approve(platform: DataPlane, registry: Any, version: int) -> Any:
    arn = registry.version("mlops-churn", version).arn
    registry.approve(arn, reason=f"e2e: deploy version {version}", approver="e2e-test")
    return arn


def _deployments(platform: DataPlane) -> list[dict[str, Any]]:
    return platform.executions("DeploymentStateMachineArn")


def _endpoint(platform: DataPlane) -> dict[str, Any]:
    described: dict[str, Any] = platform.client("sagemaker").describe_endpoint(EndpointName=ENDPOINT)
    return described


def _invoke(platform: DataPlane, body: bytes, content_type: str) -> dict[str, Any]:
    response = platform.client("sagemaker-runtime").invoke_endpoint(
        EndpointName=ENDPOINT, ContentType=content_type, Accept="application/json", Body=body
    )
    answer: dict[str, Any] = json.loads(response["Body"].read())
    return answer


def _in_process(platform: DataPlane, registry: Any, version: int, rows: pa.Table, tmp_path: Path) -> Any:
    """What version ``version`` predicts for ``rows`` in this process, from its registered archive."""
    url = registry.version("mlops-churn", version).model_data_url
    bucket, key = url.removeprefix("s3://").split("/", 1)
    archive = platform.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    folder = tmp_path / f"model-{version}"
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    signature = Signature.from_dict(json.loads((folder / "model_signature.json").read_text()))
    pipeline = joblib.load(folder / "model.joblib")
    matrix = feature_matrix(rows, signature.features)
    return pipeline.predict(matrix).tolist(), pipeline.predict_proba(matrix)


@pytest.fixture(scope="module")
def rows() -> pa.Table:
    return churn_snapshot(150, seed=404).slice(0, 20)


def _csv(rows: pa.Table) -> bytes:
    return request_csv(rows.drop(["churned"]))


def test_an_approved_version_goes_live_and_answers_as_it_predicts_in_process(
    platform: DataPlane, registry: Any, rows: pa.Table, tmp_path: Path
) -> None:
    platform.train(tmp_path, seed=41)
    arn = _approve(platform, registry, 1)
    platform.cloud.wait_idle(timeout=180)

    (deployment,) = _deployments(platform)
    assert deployment["status"] == "SUCCEEDED", deployment.get("cause")
    endpoint = _endpoint(platform)
    assert endpoint["EndpointStatus"] == "InService"
    assert endpoint["EndpointConfigName"].startswith("mlops-churn-v1-")
    assert endpoint["DataCaptureConfig"]["EnableCapture"] is True
    labels, probabilities = _in_process(platform, registry, 1, rows, tmp_path)
    by_csv = _invoke(platform, _csv(rows), "text/csv")["predictions"]
    records = [{k: v for k, v in r.items() if k != "churned"} for r in rows.to_pylist()]
    by_json = _invoke(platform, json.dumps({"instances": records}).encode(), "application/json")[
        "predictions"
    ]
    for answer in (by_csv, by_json):
        assert [p["prediction"] for p in answer] == labels
        np.testing.assert_array_equal(
            [[p["probabilities"][c] for c in ("0", "1")] for p in answer], probabilities
        )
    version = registry.describe(arn)
    assert (version.deployment_status, version.deployment_endpoint) == ("deployed", ENDPOINT)


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b'[{"age": 40}]', "application/json", "missing field(s)"),
        (b"age,tenure_months\nforty,3\n", "text/csv", "'forty' is not a number"),
        (b'{"plan": "platinum"}', "application/json", "'platinum' is not one of the categories"),
        (b'{"shoe_size": 42}', "application/json", "not in the dataset's contract"),
    ],
    ids=["missing field", "wrong type", "unknown category", "extra field"],
)
def test_a_bad_payload_is_a_4xx_with_its_reason_and_the_endpoint_still_serves(
    platform: DataPlane, rows: pa.Table, body: bytes, content_type: str, message: str
) -> None:
    with pytest.raises(ClientError) as raised:
        _invoke(platform, body, content_type)

    response = raised.value.response
    assert response["Error"]["Code"] == "ModelError"
    assert response["OriginalStatusCode"] == 400
    assert message in response["OriginalMessage"]
    assert _invoke(platform, _csv(rows.slice(0, 1)), "text/csv")["predictions"]


def test_requests_and_answers_are_captured_for_the_drift_monitor(platform: DataPlane) -> None:
    platform.cloud.wait_idle(timeout=30)  # captures are flushed

    keys = platform.keys(f"capture/churn/v1/{ENDPOINT}/AllTraffic/")  # version 1's configuration
    assert keys and all(key.endswith(".jsonl") for key in keys)
    lines = [
        json.loads(line)
        for key in keys
        for line in platform.client("s3")
        .get_object(Bucket=platform.bucket, Key=key)["Body"]
        .read()
        .splitlines()
    ]
    modes = {line["captureData"]["endpointInput"]["observedContentType"] for line in lines}
    assert {"text/csv", "application/json"} <= modes
    assert all(line["captureData"]["endpointOutput"]["mode"] == "OUTPUT" for line in lines)


def test_mlops_endpoints_invoke_with_inference_ids_prints_them_and_the_captures_carry_them(
    platform: DataPlane, rows: pa.Table, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from cli.main import app

    # Given three rows, sent by the CLI as an app names its requests: one row each, a new UUID each
    platform.point_sdk_here(monkeypatch)
    request = tmp_path / "named.csv"
    request.write_bytes(_csv(rows.slice(0, 3)))

    invoked = CliRunner().invoke(
        app, ["endpoints", "invoke", "churn", "--file", str(request), "--inference-ids", "--json"]
    )

    # Then each row's ID is printed beside its prediction
    assert invoked.exit_code == 0, invoked.output
    printed = json.loads(invoked.stdout)["rows"]
    ids = [entry["inference_id"] for entry in printed]
    assert [entry["row"] for entry in printed] == [0, 1, 2] and len(set(ids)) == 3
    # and the endpoint's data capture holds each request, one row, under its ID
    platform.cloud.wait_idle(timeout=30)
    s3 = platform.client("s3")
    named = {
        line["eventMetadata"]["inferenceId"]: line
        for key in platform.keys(f"capture/churn/v1/{ENDPOINT}/AllTraffic/")
        for line in map(
            json.loads, s3.get_object(Bucket=platform.bucket, Key=key)["Body"].read().splitlines()
        )
        if "inferenceId" in line["eventMetadata"]
    }
    assert set(named) == set(ids)
    for entry in printed:
        captured = named[entry["inference_id"]]["captureData"]
        assert len(captured["endpointInput"]["data"].splitlines()) == 2  # the header and the row
        (answer,) = json.loads(captured["endpointOutput"]["data"])["predictions"]
        assert answer["prediction"] == entry["prediction"]


def test_a_second_approval_goes_through_the_canary_and_the_new_version_serves(
    platform: DataPlane, registry: Any, rows: pa.Table, tmp_path: Path
) -> None:
    platform.train(tmp_path, seed=42)
    _approve(platform, registry, 2)
    seen_updating = _watch_update(platform)
    platform.cloud.wait_idle(timeout=180)

    assert seen_updating
    assert _endpoint(platform)["EndpointConfigName"].startswith("mlops-churn-v2-")
    labels, _ = _in_process(platform, registry, 2, rows, tmp_path)
    assert [p["prediction"] for p in _invoke(platform, _csv(rows), "text/csv")["predictions"]] == labels
    assert registry.version("mlops-churn", 2).deployment_status == "deployed"
    replaced = registry.version("mlops-churn", 1)
    assert replaced.deployment_status == "replaced"
    assert replaced.deployment_reason == "replaced by version 2 on mlops-churn"


def test_an_alarm_during_the_bake_rolls_the_update_back_and_the_old_version_still_serves(
    platform: DataPlane, registry: Any, rows: pa.Table, tmp_path: Path
) -> None:
    platform.train(tmp_path, seed=43)
    platform.drain(platform.alerts, wait=0.2)
    _approve(platform, registry, 3)
    assert _watch_update(platform, until_baking=True)
    cloudwatch = platform.client("cloudwatch")
    alarm = f"{ENDPOINT}-invocation-5xx-errors"
    cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="e2e: errors during the bake")
    try:
        platform.cloud.wait_idle(timeout=180)
    finally:
        cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="OK", StateReason="e2e: over")

    assert _endpoint(platform)["EndpointConfigName"].startswith("mlops-churn-v2-")
    labels, _ = _in_process(platform, registry, 2, rows, tmp_path)
    assert [p["prediction"] for p in _invoke(platform, _csv(rows), "text/csv")["predictions"]] == labels
    rolled_back = registry.version("mlops-churn", 3)
    assert rolled_back.deployment_status == "rolled_back"
    assert alarm in (rolled_back.deployment_reason or "")
    latest = max(_deployments(platform), key=lambda d: d["startDate"])
    assert (latest["status"], latest["error"]) == ("FAILED", "DeploymentRolledBack")
    alerts = platform.drain(platform.alerts)
    assert any(alert.get("Subject") == "Deployment rolled back" for alert in alerts)


def _watch_update(platform: DataPlane, *, until_baking: bool = False, timeout: float = 120.0) -> bool:
    """Wait until the endpoint is updating (and, if asked, past the canary step, into the bake)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _endpoint(platform)["EndpointStatus"] == "Updating":
            if until_baking:
                time.sleep(WAIT_SECONDS + 5)  # the green fleet starts, the canary step ends: the bake is on
            return True
        time.sleep(0.2)
    return False


def test_an_approval_during_a_deployment_waits_for_it_and_never_interleaves(
    platform: DataPlane, registry: Any, tmp_path: Path
) -> None:
    platform.train(tmp_path, seed=44)
    platform.train(tmp_path, seed=45)
    _approve(platform, registry, 4)
    assert _watch_update(platform)

    _approve(platform, registry, 5)  # while version 4 is rolling out
    platform.cloud.wait_idle(timeout=240)

    assert _endpoint(platform)["EndpointConfigName"].startswith("mlops-churn-v5-")
    assert registry.version("mlops-churn", 4).deployment_status == "replaced"
    assert registry.version("mlops-churn", 5).deployment_status == "deployed"
    sfn = platform.client("stepfunctions")
    fifth = next(d for d in _deployments(platform) if json.loads(d["input"])["version"] == 5)
    entered = [
        e["stateEnteredEventDetails"]["name"]
        for e in sfn.get_execution_history(executionArn=fifth["executionArn"], maxResults=1000)["events"]
        if "stateEnteredEventDetails" in e
    ]
    assert "WaitForEndpoint" in entered  # it waited for version 4's deployment to let go


def test_mlops_models_rollback_serves_an_earlier_version_again(
    platform: DataPlane, rows: pa.Table, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from cli.main import app

    platform.point_sdk_here(monkeypatch)
    runner = CliRunner()
    request = tmp_path / "rows.csv"
    request.write_bytes(_csv(rows.slice(0, 3)))

    rolled = runner.invoke(
        app, ["models", "rollback", "churn/4", "--reason", "v5 misbehaves", "--wait", "--json"]
    )
    shown = runner.invoke(app, ["endpoints", "show", "churn", "--json"])
    invoked = runner.invoke(app, ["endpoints", "invoke", "churn", "--file", str(request), "--json"])

    assert rolled.exit_code == 0, rolled.output
    result = json.loads(rolled.stdout)
    assert result["rejected"] == [5]
    assert result["outcome"]["status"] == "deployed"
    assert json.loads(shown.stdout)["version"] == 4
    assert len(json.loads(invoked.stdout)["predictions"]) == 3
