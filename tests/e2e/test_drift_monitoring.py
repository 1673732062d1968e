"""Drift monitoring end to end in the local cloud: a real-time endpoint's traffic, the monitor, its alarm.

The app is synthesized with short waits and a canary rollout on two instances (as the endpoint lifecycle's
tests do), with ``cdk.json``'s monitoring defaults for churn: a one-hour schedule and window, 200 rows at
least, the drift alarm on 2 of 3 windows. Traffic is drawn from examples/churn.py's generator, the
distribution the model versions are trained on; the monitor is invoked as ``mlops drift check`` does, or
by its schedule when the local cloud's clock is advanced (captures are timed by that clock). The tests run
in order on one platform: version 1 serves until the canary test deploys version 2.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from cli.main import app
from domain.monitoring.report import report_keys, reports_prefix
from examples.churn import DRIFTED, drifted
from tests.e2e.conftest import DataPlane, serving_platform
from tests.e2e.drift_support import (
    DATASET,
    DRIFT_ALARM,
    ENDPOINT,
    WINDOW_ROWS,
    Live,
    alarm_changes,
    iso,
    serving_version_1,
    traffic,
    without_histograms,
)

pytestmark = pytest.mark.slow

UNDRIFTED_WINDOWS = 50
CANARY_REQUEST_ROWS = 50


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DataPlane]:
    serving = {
        "instance_count": 2,  # a canary is at most half of the instances: one of two
        "rollout": {"strategy": "canary", "canary_percent": 50, "wait_seconds": 2, "bake_seconds": 12},
    }
    with serving_platform(tmp_path_factory, "drift", serving) as deployed:
        yield deployed


@pytest.fixture(scope="module")
def live(platform: DataPlane, registry: Any, tmp_path_factory: pytest.TempPathFactory) -> Live:
    """Version 1 trained, approved and serving."""
    data = tmp_path_factory.mktemp("drift-data")
    platform.train(data, seed=41)
    return serving_version_1(platform, registry, data, reason="e2e: drift")


@pytest.fixture(scope="module")
def alarm_events(platform: DataPlane) -> str:
    """A queue that gets the drift alarm's "CloudWatch Alarm State Change" events from the default bus."""
    return alarm_changes(platform, "drift-alarm-changes", [DRIFT_ALARM])


def test_many_windows_of_training_traffic_raise_no_alarm(live: Live) -> None:
    # Given 50 windows of traffic drawn from the training distribution, a few hundred rows each
    rows = traffic(UNDRIFTED_WINDOWS * WINDOW_ROWS, seed=500)
    started, first, verdicts = time.monotonic(), live.clock.now().replace(microsecond=0), []
    # When the monitor checks each window
    for index in range(UNDRIFTED_WINDOWS):
        since, until = live.window(rows.slice(index * WINDOW_ROWS, WINDOW_ROWS))
        summary = live.check(since, until)
        (version,) = summary["versions"]
        assert (version["version"], version["rows"]) == (1, WINDOW_ROWS), summary
        verdicts.append((summary["status"], version["drifted_features"], version["prediction_drift"]))
    took = time.monotonic() - started
    # Then none drifts, the Drift metric said so each time, and the drift alarm is OK
    drifting = [verdict for verdict in verdicts if verdict[0] != "no_drift"]
    print(f"\n{UNDRIFTED_WINDOWS} undrifted windows sent and checked in {took:.0f} s; drifting: {drifting}")
    assert drifting == []
    live.platform.cloud.wait_idle(timeout=60)
    points = live.datapoints("Drift", first, live.clock.now(), EndpointName=ENDPOINT)
    assert sum(p["SampleCount"] for p in points) >= UNDRIFTED_WINDOWS
    assert max(p["Maximum"] for p in points) == 0
    assert live.alarm()["StateValue"] == "OK"


def test_three_shifted_features_are_exactly_those_reported_and_the_alarm_fires(
    live: Live, alarm_events: str
) -> None:
    # Given a scheduled run over the traffic so far, and the drift alarm's N of M
    assert live.scheduled(None)["status"] in ("no_drift", "no_traffic")
    alarm = live.alarm()
    needed, periods = alarm["DatapointsToAlarm"], alarm["EvaluationPeriods"]
    live.platform.drain(live.platform.alerts, wait=0.2)
    live.platform.drain(alarm_events, wait=0.2)
    # (two numeric features and a categorical one, none in the generator's churn model, moved by amounts
    # that matter)
    moved = drifted(traffic(needed * WINDOW_ROWS, seed=600), seed=601)
    # When N windows of traffic with three features shifted are checked by the schedule
    for index in range(needed):
        assert live.alarm()["StateValue"] != "ALARM"  # fewer than N drifted windows so far
        report = live.scheduled(moved.slice(index * WINDOW_ROWS, WINDOW_ROWS))
        # Then each report names exactly those three features
        (version,) = report["versions"]
        assert (report["status"], version["rows"]) == ("drift", WINDOW_ROWS)
        assert sorted(version["drifted_features"]) == sorted(DRIFTED)
        assert {f["name"] for f in version["features"] if f["drifted"]} == set(DRIFTED)
    # and the drift alarm is in ALARM, the alert topic was told, and the state change reached EventBridge
    assert live.alarm()["StateValue"] == "ALARM"
    assert live.alerts("ALARM")
    changes = live.platform.drain(alarm_events, wait=2.0)
    assert [(c["detail"]["previousState"]["value"], c["detail"]["state"]["value"]) for c in changes] == [
        ("OK", "ALARM")
    ]
    # When undrifted windows follow, the alarm is back to OK within M of them
    calm = traffic(periods * WINDOW_ROWS, seed=602)
    for index in range(periods):
        assert live.scheduled(calm.slice(index * WINDOW_ROWS, WINDOW_ROWS))["status"] == "no_drift"
        if live.alarm()["StateValue"] == "OK":
            break
    assert live.alarm()["StateValue"] == "OK"
    assert live.alerts("OK")


def test_a_three_row_window_is_too_few_rows_and_publishes_no_drift(live: Live) -> None:
    # Given a window of three requests of one row each
    since, until = live.window(traffic(3, seed=700), per_request=1)
    # When the monitor checks it
    summary = live.check(since, until)
    # Then it says too few rows, and publishes the window's rows but no Drift datapoint
    (version,) = summary["versions"]
    assert (summary["status"], version["status"], version["rows"]) == ("too_few_rows", "too_few_rows", 3)
    assert version["drifted_features"] == []
    live.platform.cloud.wait_idle(timeout=60)
    rows = live.datapoints("WindowRows", since, until, EndpointName=ENDPOINT, ModelVersion="1")
    assert [p["Sum"] for p in rows] == [3]
    assert live.datapoints("Drift", since, until, EndpointName=ENDPOINT) == []
    assert live.datapoints("Drift", since, until, EndpointName=ENDPOINT, ModelVersion="1") == []


def _serve_through_the_rollout(live: Live, rows: pa.Table, timeout: float = 240.0) -> None:
    """Requests of CANARY_REQUEST_ROWS rows, one after another, until version 2 serves alone; 300 more."""
    sagemaker, deadline = live.platform.client("sagemaker"), time.monotonic() + timeout
    requests, updating = rows.num_rows // CANARY_REQUEST_ROWS, False
    index = 0
    while time.monotonic() < deadline:
        live.send(rows.slice((index % requests) * CANARY_REQUEST_ROWS, CANARY_REQUEST_ROWS))
        index += 1
        endpoint = sagemaker.describe_endpoint(EndpointName=ENDPOINT)
        updating = updating or endpoint["EndpointStatus"] == "Updating"
        if updating and endpoint["EndpointStatus"] == "InService":
            assert endpoint["EndpointConfigName"].startswith(f"{ENDPOINT}-v2-")
            live.send(rows.slice(0, WINDOW_ROWS), CANARY_REQUEST_ROWS)
            return
    raise AssertionError(f"version 2 did not finish rolling out in {timeout} s")


def test_traffic_served_by_two_versions_during_a_canary_is_split_by_version(live: Live) -> None:
    # Given version 2 trained while version 1 serves
    live.platform.train(live.data, seed=42)
    rows, before = traffic(80 * CANARY_REQUEST_ROWS, seed=800), live.served()
    # When version 2 is approved while traffic flows, through its canary (half to green) to the end
    live.registry.approve(live.registry.version(ENDPOINT, 2).arn, reason="e2e: canary", approver="e2e-test")
    since, until = live.around(lambda: _serve_through_the_rollout(live, rows))
    summary = live.check(since, until)
    # Then the canary ran, and the report has each version's rows, each scored against its own baseline
    (endpoint,) = [e for e in live.platform.cloud.endpoints() if e.name == ENDPOINT]
    assert endpoint.deployments[-1].shares[0] == 0.5
    after = live.served()
    served = {v: (after[v] - before.get(v, 0)) * CANARY_REQUEST_ROWS for v in after}
    versions = {v["version"]: v for v in summary["versions"]}
    assert {v: versions[v]["rows"] for v in versions} == served
    assert summary["rows"] == sum(served.values())
    live.platform.cloud.wait_idle(timeout=60)
    for version, count in served.items():  # and so do the metrics of each version
        points = live.datapoints("WindowRows", since, until, EndpointName=ENDPOINT, ModelVersion=str(version))
        assert [p["Sum"] for p in points] == [count]
    uris = {v: versions[v]["baseline"]["uri"] for v in versions}
    assert uris == {1: live.baseline_uri(1), 2: live.baseline_uri(2)}
    assert uris[1] != uris[2]
    for version in versions.values():  # each scored in full: at least min_rows (200) rows
        assert (version["rows"] >= 200, version["status"]) == (True, "no_drift"), version
        assert version["baseline"]["coarse"] is False


def test_the_reports_in_the_bucket_and_the_cli_agree_with_the_monitor(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a window of traffic
    since, until = live.window(traffic(WINDOW_ROWS, seed=900))
    live.platform.point_sdk_here(monkeypatch)
    mlops = CliRunner()
    # When a person checks it, reads the latest report and lists the alarms
    window = ["--since", iso(since), "--until", iso(until)]
    checked = mlops.invoke(app, ["drift", "check", DATASET, *window, "--json"])
    reported = mlops.invoke(app, ["drift", "report", DATASET, "--json"])
    listed = mlops.invoke(app, ["alarms", "list", "--dataset", DATASET, "--json"])
    # Then the check wrote report.json and report.html under monitoring/churn/reports/
    for result in (checked, reported, listed):
        assert result.exit_code == 0, result.output
    summary, keys, bucket = json.loads(checked.stdout), report_keys(DATASET, until), live.platform.bucket
    assert reports_prefix(DATASET) == "monitoring/churn/reports/"
    assert keys.json.startswith(reports_prefix(DATASET))
    where = summary.pop("report")
    assert where == {"json": f"s3://{bucket}/{keys.json}", "html": f"s3://{bucket}/{keys.html}"}
    assert (summary["status"], summary["rows"]) == ("no_drift", WINDOW_ROWS)
    # the report is the newest, and its JSON is the check's answer with histograms
    stored = live.platform.read_json(keys.json)
    assert json.loads(reported.stdout) == stored
    assert without_histograms(stored) == summary
    # the page is self-contained: every feature's histogram inline, nothing loaded from elsewhere
    page = live.platform.client("s3").get_object(Bucket=bucket, Key=keys.html)["Body"].read().decode()
    for loads in ("http://", "https://", "src=", "<script", "<link", "url(", "@import"):
        assert loads not in page
    features = [feature["name"] for feature in stored["versions"][0]["features"]]
    assert page.count("<svg") >= len(features)
    assert all(name in page for name in features)
    # and the drift alarm is listed in the state CloudWatch has it in
    (drift,) = [alarm for alarm in json.loads(listed.stdout) if alarm["name"] == DRIFT_ALARM]
    assert (drift["dataset"], drift["state"]) == (DATASET, live.alarm()["StateValue"])
