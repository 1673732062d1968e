"""The feedback use case's records and ports: what it is given, what it returns, the adapters' shape.

:mod:`domain.feedback.ingest` is the use case; this is what it, its adapters, the handler and the CLI share.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, BinaryIO, Literal, Protocol

import pyarrow as pa

from domain.data.contract import DatasetContract
from domain.data.ingestion_model import Upload
from domain.monitoring.performance_config import PerformanceSettings
from domain.names import feedback_prefix
from domain.training.config import TrainingConfig

__all__ = [
    "FeedbackDataset",
    "FeedbackOutcome",
    "FeedbackStore",
    "LabelledRowsSource",
    "Status",
    "feedback_dataset",
]

Status = Literal["labelled", "rejected", "duplicate"]


class FeedbackStore(Protocol):
    """The data bucket: the feedback file read, the labelled rows and the reports written."""

    def opener(self, upload: Upload) -> Callable[[], BinaryIO]:
        """Opens the file's bytes (the version the event named); raises UploadMissingError."""
        ...

    def put(self, key: str, body: bytes, content_type: str) -> None:
        """Write (or overwrite) an object."""
        ...

    def put_if_absent(self, key: str, body: bytes | BinaryIO, content_type: str) -> bool:
        """Write an object unless one exists at ``key``; True if this call wrote it."""
        ...

    def read_json(self, key: str) -> dict[str, Any] | None:
        """The JSON object at ``key``, or None."""
        ...


class LabelledRowsSource(Protocol):
    """Every labelled row of a dataset, from all its accepted feedback files."""

    def labelled_rows(
        self,
        dataset: str,
        *,
        after: datetime | None,
        columns: tuple[str, ...] | None = None,
        committed_only: bool = False,
    ) -> pa.Table:
        """The rows of every label file (``after`` None), or of those written after ``after``;
        ``committed_only``: only the files whose report is written (their join finished)."""
        ...


@dataclass(frozen=True)
class FeedbackDataset:
    """What the use case needs to know of a declared dataset.

    Attributes
    ----------
    contract : DatasetContract
    training : TrainingConfig
        Resolved: the model's features and task.
    endpoint : str
        The endpoint that answers its requests (the metrics' dimension).
    lookback_days : int
    performance : PerformanceSettings
        Resolved ``monitoring.performance``; nothing is published when it is disabled.
    """

    contract: DatasetContract
    training: TrainingConfig
    endpoint: str
    lookback_days: int
    performance: PerformanceSettings


@dataclass(frozen=True)
class FeedbackOutcome:
    """What became of a feedback file."""

    status: Status
    dataset: str | None
    sha256: str | None
    report_key: str
    summary: str
    counts: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The outcome as the handler returns it."""
        return {
            "status": self.status,
            "dataset": self.dataset,
            "sha256": self.sha256,
            "report_key": self.report_key,
            "summary": self.summary,
            "counts": self.counts,
        }


def feedback_dataset(key: str) -> str | None:
    """The dataset a feedback file's key names (``feedback/<dataset>/<file>``), or None."""
    dataset, _, name = key.removeprefix("feedback/").partition("/")
    if not dataset or not name or key != feedback_prefix(dataset) + name:
        return None
    return dataset
