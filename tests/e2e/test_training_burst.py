"""A burst of accepted versions in the local cloud: one training run at a time, then only the newest.

A module of its own, with its own deployment: the retraining policy's daily cap
(``retraining.max_runs_per_day``, 6 by default) counts every run the policy started in the last 24 hours,
so after the five runs of test_training_pipeline.py the burst's second run would rightly be held back by
the cap. The burst comes six hours on the local cloud's clock: the policy (a Lambda) and what Step
Functions and the catalog stamp are at that time, as on AWS they share one time; a run's end compared
with a version's acceptance would otherwise be six hours early (``localcloud.moto_times``).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest

from examples.churn import generate
from tests.e2e.conftest import DataPlane
from tests.e2e.training_support import accepted, runs

pytestmark = pytest.mark.slow


def test_a_burst_of_uploads_trains_one_at_a_time_and_then_only_the_newest(
    data_plane: DataPlane, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # Given three versions uploaded at once (one run of a dataset at a time, by default)
    folder = tmp_path_factory.mktemp("burst")
    bodies = [generate(3_000, seed, folder / f"{seed}.csv", "csv").read_bytes() for seed in (41, 42, 43)]
    versions = {hashlib.sha256(body).hexdigest() for body in bodies}
    before = {run["executionArn"] for run in runs(data_plane)}
    # six hours on the local cloud's clock, where the policy and the services it reads are
    burst_at = data_plane.cloud.clock.advance(timedelta(hours=6)) - timedelta(seconds=1)

    # When the data plane accepts them one after the other while the first one's run is in progress (each
    # awaited into the catalog: the policy is asked in acceptance order), and the runs they lead to end
    for seed, body in zip((41, 42, 43), bodies, strict=True):
        data_plane.client("s3").put_object(
            Bucket=data_plane.bucket, Key=f"incoming/churn/burst-{seed}.csv", Body=body
        )
        accepted(data_plane, hashlib.sha256(body).hexdigest())
    data_plane.cloud.wait_idle(timeout=600)

    # Then two runs, one after the other: the first version accepted, then the newest when it ended
    started = sorted(
        (run for run in runs(data_plane) if run["executionArn"] not in before),
        key=lambda run: run["startDate"],
    )
    table = data_plane.outputs["DecisionsTableName"]
    items = data_plane.client("dynamodb").query(
        TableName=table,
        KeyConditionExpression="dataset = :d AND begins_with(#r, :p)",
        ExpressionAttributeNames={"#r": "record"},
        ExpressionAttributeValues={":d": {"S": "churn"}, ":p": {"S": "decision#"}},
    )["Items"]
    decided = [
        (i["outcome"]["S"], i["trigger"]["M"]["kind"]["S"], i.get("dataset_version", {}).get("S"))
        for i in items
    ]
    burst = [d for d in decided if d[2] in versions]
    reasons = [i["reason"]["S"] for i in items]
    assert len(started) == 2, ([run["name"] for run in started], burst, reasons)
    assert started[1]["startDate"] >= started[0]["stopDate"]
    (superseded,) = [d for d in burst if d[0] == "superseded"]
    (after_run,) = [d for d in burst if d[:2] == ("started", "run_ended")]
    trained = {json.loads(run["input"])["dataset_version"] for run in started}
    assert superseded[2] not in trained and after_run[2] in trained
    assert trained | {superseded[2]} == versions
    # and the runs' dates are the clock's, on which the policy decided: the first run ended (the trigger
    # of the second start) after the versions that waited for it were accepted, and was decided on then
    for run in started:
        assert burst_at <= run["startDate"] <= run["stopDate"] <= data_plane.cloud.clock.now(), run["name"]
    at = {
        (i["outcome"]["S"], i["trigger"]["M"]["kind"]["S"], i.get("dataset_version", {}).get("S")): (
            datetime.fromisoformat(i["trigger"]["M"]["at"]["S"]).astimezone(UTC),
            datetime.fromisoformat(i["decided_at"]["S"]).astimezone(UTC),
        )
        for i in items
    }
    ended_at, decided_at = at[after_run]
    assert abs(ended_at - started[0]["stopDate"]) < timedelta(seconds=1)
    assert max(t for (_, kind, v), (t, _) in at.items() if kind == "accepted" and v in versions) < ended_at
    assert timedelta(0) <= decided_at - ended_at < timedelta(minutes=5)
