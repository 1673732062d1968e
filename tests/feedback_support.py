"""Fakes and builders shared by the feedback tests: a small dataset, its captured requests, the adapters."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from domain.data.contract import DatasetContract
from domain.data.ingestion_model import Upload, UploadMissingError
from domain.deployment.capture import capture_record
from domain.feedback.ingest import FeedbackDataset
from domain.monitoring.metrics import MetricPoint
from domain.monitoring.performance_config import PerformanceConfig, resolve_performance
from domain.names import capture_uri_prefix, labels_prefix
from domain.training.config import parse_training_config
from tests.monitor_support import FakeCaptureSource

DATASET = "shop"
ENDPOINT = "mlops-shop"
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
#: In signature order: age, income, signup, plan, active (note is a string column: not a feature).
HEADER = "inference_id,churned\n"


def contract() -> DatasetContract:
    """A dataset with a feature of each type, a string column the model does not take, a boolean target."""
    return DatasetContract.model_validate(
        {
            "name": DATASET,
            "target": "churned",
            "columns": [
                {"name": "age", "type": "integer", "min": 0, "max": 150},
                {"name": "income", "type": "float", "nullable": True},
                {"name": "signup", "type": "timestamp"},
                {"name": "plan", "type": "category", "categories": ["basic", "pro"]},
                {"name": "active", "type": "boolean", "nullable": True},
                {"name": "note", "type": "string", "nullable": True},
                {"name": "churned", "type": "boolean"},
            ],
        }
    )


def declared(
    *, min_labels: int = 2, floor: float = 0.8, lookback_days: int = 30, metric: str = "accuracy"
) -> FeedbackDataset:
    """The dataset as the feedback function knows it; ``metric`` (the gate's) watched with ``floor``."""
    shop = contract()
    training = parse_training_config({"gate": {"thresholds": {metric: {"min": floor}}}}, contract=shop)
    settings = resolve_performance(PerformanceConfig(min_labels=min_labels), training)
    return FeedbackDataset(shop, training, ENDPOINT, lookback_days, settings)


def request_row(index: int) -> str:
    """A CSV row of features (no header), different for each index."""
    return (
        f"{20 + index},{1000.5 + index},2026-11-0{1 + index % 9}T00:00:00Z,{['basic', 'pro'][index % 2]},true"
    )


def answer(*labels: bool, chances: Sequence[float] | None = None) -> bytes:
    """A JSON answer; with ``chances``, each row's probabilities (P(true) of each row)."""
    items: list[dict[str, Any]] = [{"prediction": label} for label in labels]
    for item, chance in zip(items, chances or (), strict=False):
        item["probabilities"] = {"false": round(1 - chance, 6), "true": chance}
    return json.dumps({"predictions": items}).encode()


def capture(
    source: FakeCaptureSource,
    requests: Sequence[tuple[str | None, Sequence[int], Sequence[bool]]],
    *,
    version: int = 1,
    at: datetime = NOW - timedelta(hours=1),
    unique: str = "a",
    chances: Mapping[str, Sequence[float]] | None = None,
) -> None:
    """One capture file of ``requests``: (inference ID, the rows' indexes, the predictions); ``chances``:
    by inference ID, the answer's P(true) of each row (the others answer without probabilities)."""
    records: list[dict[str, Any] | str] = [
        capture_record(
            request="\n".join(request_row(i) for i in rows).encode(),
            request_type="text/csv",
            response=answer(*predicted, chances=(chances or {}).get(inference_id or "")),
            response_type="application/json",
            event_id=f"e{n}",
            at=at + timedelta(seconds=n),
            inference_id=inference_id,
        )
        for n, (inference_id, rows, predicted) in enumerate(requests)
    ]
    source.put(capture_uri_prefix(DATASET, version), at, records, unique=unique)


@dataclass
class FakeBucket:
    """The data bucket: uploads people made, and what the platform wrote (only where it may write)."""

    uploads: dict[str, bytes] = field(default_factory=dict)
    objects: dict[str, bytes] = field(default_factory=dict)

    def opener(self, upload: Upload) -> Callable[[], BinaryIO]:
        if upload.key not in self.uploads:
            raise UploadMissingError(f"{upload.key} does not exist")
        return lambda: io.BytesIO(self.uploads[upload.key])

    def put(self, key: str, body: bytes, content_type: str) -> None:
        assert key.startswith(("labels/", "quarantine/feedback/")), f"the platform wrote {key}"
        self.objects[key] = body

    def put_if_absent(self, key: str, body: bytes | BinaryIO, content_type: str) -> bool:
        if key in self.objects:
            return False
        self.put(key, body if isinstance(body, bytes) else body.read(), content_type)
        return True

    def read_json(self, key: str) -> dict[str, Any] | None:
        return json.loads(self.objects[key]) if key in self.objects else None

    def labelled_rows(
        self,
        dataset: str,
        *,
        after: datetime | None,
        columns: tuple[str, ...] | None = None,
        committed_only: bool = False,
    ) -> pa.Table:
        tables = [
            pq.read_table(io.BytesIO(body), columns=list(columns) if columns else None)
            for key, body in sorted(self.objects.items())
            if key.startswith(labels_prefix(dataset))
            and key.endswith("/rows.parquet")
            and (not committed_only or key.removesuffix("rows.parquet") + "report.json" in self.objects)
        ]
        return pa.concat_tables(tables) if tables else pa.table({"inference_id": pa.array([], pa.string())})

    def json(self, key: str) -> dict[str, Any]:
        found = self.read_json(key)
        assert found is not None, f"nothing at {key}"
        return found

    def rows(self, key: str) -> pa.Table:
        return pq.read_table(io.BytesIO(self.objects[key]))


@dataclass
class FakeAlerts:
    sent: list[tuple[str, str]] = field(default_factory=list)

    def alert(self, subject: str, message: str) -> None:
        self.sent.append((subject, message))


@dataclass
class FakeMetrics:
    published: list[tuple[list[MetricPoint], datetime]] = field(default_factory=list)

    def publish(self, points: Sequence[MetricPoint], at: datetime) -> None:
        self.published.append((list(points), at))

    def named(self, name: str) -> dict[tuple[tuple[str, str], ...], float]:
        return {p.dimensions: p.value for points, _ in self.published for p in points if p.name == name}
