"""The drift monitor function on moto: captures in S3 and registered baselines in, reports and EMF out.

The statistics and the verdicts are the use case's (``tests/unit/test_monitor_*.py``); here the function
is wired: the schedule's event in, moto's S3 and SageMaker registry behind the adapters, the reports in
the data bucket, the metrics as embedded-metric-format lines with exactly the alarm's dimensions.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import numpy as np
import pytest

from domain.data.contract import DatasetContract
from domain.deployment.capture import capture_key, capture_record
from domain.monitoring.config import parse_monitoring_config
from domain.monitoring.request import DriftRequestError
from domain.names import capture_uri_prefix
from domain.training.config import parse_training_config
from spec.drift.baseline import build_baseline
from spec.drift.scores import Kind
from spec.profile import frequency_document, numeric_document, profile_document
from tests.monitor_support import register_version
from tests.moto_support import FakeLambdaContext, asset_handler, mocked_aws

ROOT = Path(__file__).resolve().parents[2]
BUCKET = "mlops-data"
DATASET = "shop"
ENDPOINT = "mlops-shop"
GROUP = "mlops-shop"
ENVIRONMENT = {
    "PROJECT": "mlops",
    "DATA_BUCKET": BUCKET,
    "KMS_KEY_ARN": "arn:aws:kms:us-east-1:123456789012:key/k",
    "POWERTOOLS_SERVICE_NAME": "drift-monitor",
    "POWERTOOLS_METRICS_NAMESPACE": "MLOpsPlatform",
    "POWERTOOLS_TRACE_DISABLED": "1",
}
SCHEDULED = datetime(2026, 12, 1, 11, 0, tzinfo=UTC)
NUMERIC = ["age", "income", "visits"]
CONTRACT = DatasetContract.model_validate(
    {
        "name": DATASET,
        "target": "churned",
        "columns": [
            {"name": "age", "type": "float"},
            {"name": "income", "type": "float"},
            {"name": "visits", "type": "float"},
            {"name": "plan", "type": "category", "categories": ["basic", "pro"]},
            {"name": "churned", "type": "boolean"},
        ],
    }
)


def _columns(rng: np.random.Generator, rows: int, shift: float = 0.0) -> dict[str, Any]:
    columns: dict[str, Any] = {name: rng.normal(50.0, 10.0, rows) + shift for name in NUMERIC}
    columns["plan"] = rng.choice(["basic", "pro"], rows, p=[0.7, 0.3]).tolist()
    columns["predicted_label"] = rng.choice(["false", "true"], rows, p=[0.8, 0.2]).tolist()
    return columns


def _put(key: str, body: bytes) -> str:
    boto3.client("s3").put_object(Bucket=BUCKET, Key=key, Body=body)
    return f"s3://{BUCKET}/{key}"


def _format1(columns: dict[str, Any], names: list[str]) -> bytes:
    documents: dict[str, Any] = {}
    for name in names:
        values = columns[name]
        if isinstance(values, np.ndarray):
            quantiles = np.quantile(values, np.linspace(0, 1, 101), method="inverted_cdf").tolist()
            documents[name] = numeric_document(
                "float", count=values.size, nulls=0, low=float(values.min()), high=float(values.max()),
                mean=float(values.mean()), std=float(values.std(ddof=1)), quantiles=quantiles, exact=True,
            )  # fmt: skip
        else:
            counts = {level: values.count(level) for level in sorted(set(values))}
            documents[name] = frequency_document("category", count=len(values), nulls=0, counts=counts)
    return json.dumps(profile_document(len(columns[names[0]]), documents)).encode()


def _serve(version: int, columns: dict[str, Any], rows: int, per_request: int = 50) -> None:
    """Captured CSV requests of ``per_request`` rows each, answered in JSON, in the window's hour."""
    at = SCHEDULED - timedelta(minutes=30)
    records = []
    for start in range(0, rows, per_request):
        body = "".join(
            ",".join([*(f"{columns[n][r]:.6f}" for n in NUMERIC), columns["plan"][r]]) + "\n"
            for r in range(start, min(rows, start + per_request))
        )
        labels = [
            columns["predicted_label"][r] == "true" for r in range(start, min(rows, start + per_request))
        ]
        answer = json.dumps({"predictions": [{"prediction": label} for label in labels]})
        record = capture_record(
            request=body.encode(), request_type="text/csv", response=answer.encode(),
            response_type="application/json", event_id=str(start), at=at,
        )  # fmt: skip
        records.append(json.dumps(record))
    key = capture_key(capture_uri_prefix(DATASET, version), ENDPOINT, "AllTraffic", at, f"v{version}")
    _put(key, "\n".join(records).encode())


@pytest.fixture
def handler(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    training = parse_training_config({}, contract=CONTRACT)
    monitoring = parse_monitoring_config({"max_feature_metrics": 2})
    generated = {
        "contracts.json": json.dumps({DATASET: CONTRACT.model_dump(mode="json")}),
        "training.json": json.dumps({DATASET: training.model_dump(mode="json")}),
        "monitoring.json": json.dumps({DATASET: monitoring.model_dump(mode="json")}),
    }
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    with mocked_aws(monkeypatch):
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        boto3.client("sagemaker").create_model_package_group(ModelPackageGroupName=GROUP)
        yield asset_handler("drift_monitor", tmp_path, generated)


def _single(value: Any) -> Any:
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def _emf(output: str) -> list[dict[str, Any]]:
    """Each EMF line: its namespace, dimension set, metric values and timestamp."""
    found = []
    for line in (json.loads(text) for text in output.splitlines() if '"_aws"' in text):
        (directive,) = line["_aws"]["CloudWatchMetrics"]
        (dimensions,) = directive["Dimensions"]
        found.append(
            {
                "namespace": directive["Namespace"],
                "dimensions": {name: line[name] for name in dimensions},
                # Powertools writes each value as a list of the datapoints of the line
                "metrics": {m["Name"]: _single(line[m["Name"]]) for m in directive["Metrics"]},
                "timestamp": line["_aws"]["Timestamp"],
            }
        )
    return found


def test_a_scheduled_check_writes_both_reports_and_publishes_the_alarm_s_metrics(
    handler: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given version 1 registered with a drift baseline, serving traffic with its numeric features shifted,
    # and version 2 registered before drift baselines (profiles only), serving undrifted traffic
    training = _columns(np.random.default_rng(0), 5_000)
    features: dict[str, tuple[Kind, Any]] = {n: ("numeric", training[n]) for n in NUMERIC}
    features["plan"] = ("categorical", training["plan"])
    predictions: dict[str, tuple[Kind, Any]] = {
        "predicted_label": ("categorical", training["predicted_label"])
    }
    baseline = build_baseline(features, predictions, sizes=(200, 1_000), samples=10)
    profiles = (
        _put("models/shop/inputs_profile.json", _format1(training, [*NUMERIC, "plan"])),
        _put("models/shop/predictions_profile.json", _format1(training, ["predicted_label"])),
    )
    constraints = _put("models/shop/v1/drift_baseline.json", baseline.to_json().encode())
    register_version(GROUP, statistics=profiles, constraints=constraints)
    register_version(GROUP, statistics=profiles, constraints=None)
    _serve(1, _columns(np.random.default_rng(1), 400, shift=15.0), 400)
    _serve(2, _columns(np.random.default_rng(2), 300), 300)

    # When the schedule invokes the monitor
    result = handler.handler(
        {"dataset": DATASET, "scheduled_time": "2026-12-01T11:00:00Z"}, FakeLambdaContext()
    )

    # Then both reports are in the data bucket, under the window's end
    folder = "monitoring/shop/reports/20261201T110000Z/"
    s3 = boto3.client("s3")
    stored = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="monitoring/")["Contents"]}
    assert stored == {folder + "report.json", folder + "report.html"}
    html = s3.get_object(Bucket=BUCKET, Key=folder + "report.html")
    assert html["ContentType"].startswith("text/html") and html["ServerSideEncryption"] == "aws:kms"
    document = json.loads(s3.get_object(Bucket=BUCKET, Key=folder + "report.json")["Body"].read())
    assert document["window"] == {"since": "2026-12-01T10:00:00Z", "until": "2026-12-01T11:00:00Z"}
    # and version 1 drifts on its shifted features, against its registered baseline
    version1, version2 = document["versions"]
    assert version1["status"] == "drift" and set(version1["drifted_features"]) == set(NUMERIC)
    assert version1["baseline"] == {"uri": f"s3://{BUCKET}/models/shop/v1/drift_baseline.json",
                                    "coarse": False, "ks_error_bound": baseline.ks_error_bound}  # fmt: skip
    # and version 2 gets a coarse report from its profiles
    assert version2["status"] == "no_drift" and version2["rows"] == 300
    assert version2["baseline"]["coarse"] and version2["baseline"]["ks_error_bound"] == 0.01
    assert "Coarse baseline" in html["Body"].read().decode()
    # and the function returns the summary with where the reports are
    assert result["status"] == "drift" and "histogram" not in json.dumps(result)
    assert result["report"]["html"] == f"s3://{BUCKET}/{folder}report.html"

    # and the metrics are EMF lines in MLOpsPlatform with exactly the alarm's dimensions, no service,
    # timestamped at the window's start (an hour before the scheduled time)
    # (the function's own DriftChecks count, by service, aside)
    lines = [line for line in _emf(capsys.readouterr().out) if "EndpointName" in line["dimensions"]]
    assert {line["namespace"] for line in lines} == {"MLOpsPlatform"}
    assert {line["timestamp"] for line in lines} == {int((SCHEDULED - timedelta(hours=1)).timestamp() * 1000)}
    assert all("service" not in line["dimensions"] for line in lines)
    by_dimensions = {tuple(sorted(line["dimensions"].items())): line["metrics"] for line in lines}
    endpoint = (("EndpointName", ENDPOINT),)
    assert by_dimensions[endpoint] == {"Drift": 1.0, "DriftedShare": 0.75}
    v1 = (*endpoint, ("ModelVersion", "1"))
    assert by_dimensions[v1]["Drift"] == 1.0 and by_dimensions[v1]["WindowRows"] == 400
    assert by_dimensions[(*endpoint, ("ModelVersion", "2"))]["Drift"] == 0.0
    assert "PredictionDrift" in by_dimensions[v1]
    per_feature = [d for d in by_dimensions if ("Feature" in dict(d))]
    assert len([d for d in per_feature if dict(d)["ModelVersion"] == "1"]) == 2  # max_feature_metrics


def test_a_version_missing_from_the_registry_is_reported_without_failing_the_check(
    handler: ModuleType,
) -> None:
    # Given traffic captured for a version the registry does not know
    _serve(7, _columns(np.random.default_rng(3), 250), 250)

    # When checked by hand over an explicit window
    result = handler.handler(
        {"dataset": DATASET, "since": "2026-12-01T10:00:00Z", "until": "2026-12-01T11:00:00Z"},
        FakeLambdaContext(),
    )

    # Then the version is reported as having no baseline, naming its model package
    (version,) = result["versions"]
    assert version["status"] == "no_baseline"
    assert "mlops-shop/7" in version["problem"]


@pytest.mark.parametrize(
    ("event", "said"),
    [
        ({"dataset": "nope"}, "not monitored"),
        (
            {"dataset": DATASET, "since": "2026-12-01T11:00:00Z", "until": "2026-12-01T10:00:00Z"},
            "must be before",
        ),
        ({"dataset": DATASET, "until": "yesterday"}, "not an ISO 8601 time"),
        ({"dataset": DATASET, "window": 5}, "unknown key"),
    ],
)
def test_a_bad_event_is_a_clear_error(handler: ModuleType, event: dict[str, Any], said: str) -> None:
    with pytest.raises(DriftRequestError, match=said):
        handler.handler(event, FakeLambdaContext())
