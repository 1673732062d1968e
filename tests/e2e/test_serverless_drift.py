"""A serverless endpoint is watched for drift through its capture path, end to end in the local cloud.

SageMaker captures nothing of a serverless endpoint's traffic; the platform's invocation API captures it
instead, under the version the endpoint runs, where a real-time endpoint's captures go, and the drift
monitor reads it from there. The app is cdk.json's with churn served serverless and the monitoring
defaults: a one-hour schedule and window, 200 rows at least.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from cli.main import app
from domain.monitoring.report import report_keys
from examples.churn import DRIFTED, chunks, drifted, plain, request_csv
from tests.e2e.conftest import SERVERLESS, DataPlane, serving_platform

pytestmark = pytest.mark.slow

DATASET, ENDPOINT = "churn", "mlops-churn"
SCHEDULE = timedelta(hours=1)  # cdk.json's default schedule, rate(1 hour), and window, 60 minutes
WINDOW_ROWS, PER_REQUEST = 300, 25


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DataPlane]:
    with serving_platform(tmp_path_factory, "serverless-drift", SERVERLESS) as deployed:
        yield deployed


@pytest.fixture(scope="module")
def serving(platform: DataPlane, registry: Any, tmp_path_factory: pytest.TempPathFactory) -> DataPlane:
    """Version 1 trained, approved and served serverless; the SDK pointed at the local cloud."""
    platform.train(tmp_path_factory.mktemp("serverless-drift-data"), seed=61)
    registry.approve(registry.version(ENDPOINT, 1).arn, reason="e2e: serverless drift", approver="e2e-test")
    platform.cloud.wait_idle(timeout=180)
    endpoint = platform.client("sagemaker").describe_endpoint(EndpointName=ENDPOINT)
    assert endpoint["EndpointStatus"] == "InService"
    return platform


def _traffic(rows: int, seed: int) -> pa.Table:
    """Request rows from the training distribution (the features, without the target)."""
    return pa.concat_tables(list(chunks(rows, seed=seed))).drop(["churned"])


def _send(platform: DataPlane, rows: pa.Table) -> int:
    """``rows`` through the invocation API, signed, in requests of PER_REQUEST rows, CSV and JSON by turns.

    Returns the number of requests, each answered with a prediction per row.
    """
    requests = 0
    for start in range(0, rows.num_rows, PER_REQUEST):
        chunk = rows.slice(start, PER_REQUEST)
        if requests % 2:
            body, content_type = (
                json.dumps({"instances": plain(chunk).to_pylist()}).encode(),
                "application/json",
            )
        else:
            body, content_type = request_csv(chunk), "text/csv"
        answer = platform.serving_api(DATASET, body, content_type=content_type)
        assert answer.status_code == 200, answer.text
        assert len(answer.json()["predictions"]) == chunk.num_rows
        requests += 1
    return requests


def _monitor_firings(platform: DataPlane) -> list[Any]:
    function = platform.outputs["DriftMonitorFunctionName"]
    return [f for f in platform.cloud.schedules() if f.target_arn.endswith(function)]


def _datapoints(platform: DataPlane, metric: str, at: datetime, statistic: str, **dims: str) -> list[float]:
    """``metric``'s ``statistic`` per minute around ``at`` (MLOpsPlatform, exactly ``dims``)."""
    answer = platform.client("cloudwatch").get_metric_statistics(
        Namespace="MLOpsPlatform",
        MetricName=metric,
        Dimensions=[{"Name": name, "Value": value} for name, value in dims.items()],
        StartTime=at - timedelta(minutes=1),
        EndTime=at + timedelta(minutes=1),
        Period=60,
        Statistics=[statistic],
    )
    return [point[statistic] for point in answer["Datapoints"]]


def test_the_schedule_reads_the_serverless_captures_of_the_version_that_answered(serving: DataPlane) -> None:
    # Given a window of traffic from the training distribution through the invocation API, and a request
    # the model refuses (captured too: the API captures what the endpoint answered, refusals included)
    requests = _send(serving, _traffic(WINDOW_ROWS, seed=62))
    refused = serving.serving_api(DATASET, b"age\nforty\n")
    assert refused.status_code == 400
    serving.cloud.wait_idle(timeout=60)
    captures = serving.keys(f"capture/{DATASET}/v1/{ENDPOINT}/AllTraffic/")
    assert len(captures) == requests + 1

    # When the clock reaches the monitor's next scheduled run (the schedule fired once when deployed)
    due = max(f.scheduled_time for f in _monitor_firings(serving)) + SCHEDULE
    serving.cloud.clock.advance(due - serving.cloud.clock.now())

    # Then that run read every capture of the window, scored the answered rows against version 1's
    # baseline, counted the refused request apart, and found no drift
    (firing,) = [f for f in _monitor_firings(serving) if f.scheduled_time == due]
    assert (firing.status, firing.result) == ("invoked", "succeeded"), firing
    report = serving.read_json(report_keys(DATASET, due).json)
    assert (report["endpoint"], report["status"], report["rows"]) == (ENDPOINT, "no_drift", WINDOW_ROWS)
    assert report["files"] == len(captures)
    assert report["skipped"] == {"refused": 1, "unreadable": 0, "unattributed": 0}
    (version,) = report["versions"]
    assert (version["version"], version["status"], version["rows"]) == (1, "no_drift", WINDOW_ROWS)
    assert version["drifted_features"] == [] and version["prediction_drift"] is False
    sagemaker = serving.client("sagemaker")
    (package,) = sagemaker.list_model_packages(ModelPackageGroupName=ENDPOINT)["ModelPackageSummaryList"]
    described = sagemaker.describe_model_package(ModelPackageName=package["ModelPackageArn"])
    baseline = described["DriftCheckBaselines"]["ModelDataQuality"]["Constraints"]["S3Uri"]
    assert (version["baseline"]["uri"], version["baseline"]["coarse"]) == (baseline, False)
    # and published the window's metrics (stamped at its start) for the endpoint and the version
    start = due - SCHEDULE
    assert _datapoints(serving, "WindowRows", start, "Sum", EndpointName=ENDPOINT, ModelVersion="1") == [
        WINDOW_ROWS
    ]
    assert _datapoints(serving, "Drift", start, "Maximum", EndpointName=ENDPOINT) == [0]


def test_drifted_serverless_traffic_is_flagged_by_a_check(serving: DataPlane) -> None:
    # Given a window of traffic with three features moved, through the invocation API (whose function
    # times its captures by the local cloud's clock, as the endpoints do)
    since = serving.cloud.clock.now().replace(microsecond=0)
    _send(serving, drifted(_traffic(WINDOW_ROWS, seed=63), seed=64))
    until = serving.cloud.clock.now().replace(microsecond=0) + timedelta(seconds=1)
    serving.cloud.wait_idle(timeout=60)

    # When a person checks that window
    window = ["--since", since.isoformat(), "--until", until.isoformat()]
    result = CliRunner().invoke(app, ["drift", "check", DATASET, *window, "--json"])

    # Then version 1's window drifted, in exactly the moved features
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert (summary["status"], summary["rows"]) == ("drift", WINDOW_ROWS)
    (version,) = summary["versions"]
    assert (version["version"], version["status"]) == (1, "drift")
    assert sorted(version["drifted_features"]) == sorted(DRIFTED)
