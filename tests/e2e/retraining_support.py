"""The retraining loop's tests: labelled traffic, alarm episodes and the policy's records, locally."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
from typer.testing import CliRunner

from adapters.catalog import DynamoDatasetCatalog
from cli.main import app
from domain.data.ingestion_model import DatasetVersion
from domain.names import performance_alarm_name
from examples.churn import chunks, concept_changed, drifted, request_csv
from tests.e2e.drift_support import DATASET, ENDPOINT, Live

PERFORMANCE_ALARM = performance_alarm_name(ENDPOINT)


@dataclass(frozen=True)
class Served:
    """Rows served one request each, with an inference ID: their features, IDs and true churn labels."""

    rows: pa.Table  # the features and ``churned`` (the outcome the generator drew)
    ids: list[str]

    def labels(self, start: int, count: int, *, concept_changed_: bool = False) -> str:
        """A labels file (CSV) of rows ``[start, start + count)``, true or after a change of concept."""
        part = self.rows.slice(start, count)
        changed = concept_changed(part, seed=start) if concept_changed_ else part
        churned = changed.column("churned")
        lines = ["inference_id,churned"]
        lines += [
            f"{i},{c}" for i, c in zip(self.ids[start : start + count], churned.to_pylist(), strict=True)
        ]
        return "\n".join(lines) + "\n"


def serve_with_ids(live: Live, rows: int, seed: int) -> Served:
    """``rows`` rows of drifted traffic, each its own request with an inference ID, answered in JSON.

    Drifted (``examples.churn.drifted``: ~80% of the rows in the north), so that labels after the change
    of concept there (``concept_changed``) are about most of them.
    """
    table = drifted(pa.concat_tables(list(chunks(rows, seed=seed))), seed=seed + 1)
    features = table.drop(["churned"])
    runtime = live.platform.client("sagemaker-runtime")
    ids = [f"e2e-{seed}-{index}" for index in range(rows)]
    for index, inference_id in enumerate(ids):
        answer = runtime.invoke_endpoint(
            EndpointName=ENDPOINT,
            ContentType="text/csv",
            Accept="application/json",
            Body=request_csv(features.slice(index, 1)),
            InferenceId=inference_id,
        )
        assert len(json.loads(answer["Body"].read())["predictions"]) == 1
    live.platform.cloud.wait_idle(timeout=120)  # the captures written
    return Served(rows=table, ids=ids)


def push_labels(mlops: CliRunner, folder: Path, name: str, text: str) -> dict[str, Any]:
    """``mlops feedback push`` of a labels file: its report (the push waits for it)."""
    path = folder / name
    path.write_text(text)
    pushed = mlops.invoke(app, ["feedback", "push", str(path), "--dataset", DATASET, "--json"])
    assert pushed.exit_code == 0, pushed.output
    report: dict[str, Any] = json.loads(pushed.stdout)["report"]
    return report


def decisions(mlops: CliRunner) -> list[dict[str, Any]]:
    """``mlops pipeline decisions --json`` of churn, oldest first."""
    listed = mlops.invoke(app, ["pipeline", "decisions", "--dataset", DATASET, "--limit", "500", "--json"])
    assert listed.exit_code == 0, listed.output
    found: list[dict[str, Any]] = json.loads(listed.stdout)
    return found[::-1]


def runs(mlops: CliRunner) -> list[dict[str, Any]]:
    """``mlops pipeline runs --json`` of churn, oldest first."""
    listed = mlops.invoke(app, ["pipeline", "runs", "--dataset", DATASET, "--json"])
    assert listed.exit_code == 0, listed.output
    found: list[dict[str, Any]] = json.loads(listed.stdout)
    return found[::-1]


def set_alarm(live: Live, name: str, state: str) -> None:
    """CloudWatch's SetAlarmState (which, as on AWS, sends the state change to the default bus), awaited."""
    live.platform.client("cloudwatch").set_alarm_state(
        AlarmName=name, StateValue=state, StateReason=f"e2e: an episode of {name} driven to {state}"
    )
    live.platform.cloud.wait_idle(timeout=120)


def alarm_state(live: Live, name: str) -> str:
    (alarm,) = live.platform.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return str(alarm["StateValue"])


def catalog_version(live: Live, version: str) -> DatasetVersion:
    """The catalog's record of churn's ``version`` (through the platform's adapter; the SDK points here)."""
    record = DynamoDatasetCatalog(live.platform.outputs["CatalogTableName"]).get(DATASET, version)
    assert record is not None, f"version {version} of {DATASET} is not in the catalog"
    return record
