"""The data plane's records and ports: uploads, dataset versions, where things are kept, the adapters' shape.

:mod:`domain.data.ingestion` is the use case; this is what it, its adapters and the CLI share.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Literal, Protocol

FAILURE_FILE = "failure.json"
ALERTED_SUFFIX = ".alerted.json"  # beside a report or record: its alert was sent
INCOMING_PREFIX = "incoming/"
DATASETS_PREFIX = "datasets/"
QUARANTINE_PREFIX = "quarantine/"

Status = Literal["accepted", "rejected", "duplicate", "failed"]


class UploadMissingError(Exception):
    """The uploaded object (or the version named in the event) no longer exists."""


@dataclass(frozen=True)
class Upload:
    """An object created under ``incoming/``, as the storage event describes it."""

    bucket: str
    key: str
    version_id: str | None = None
    size: int | None = None
    etag: str | None = None
    requester: str | None = None
    event_id: str | None = None
    event_time: str | None = None

    @property
    def dataset(self) -> str | None:
        """The dataset named by the key (``incoming/<dataset>/...``), or None if the key names none."""
        parts = self.key.removeprefix(INCOMING_PREFIX).split("/", 1)
        if not self.key.startswith(INCOMING_PREFIX) or len(parts) < 2 or not parts[0] or not parts[1]:
            return None
        return parts[0]

    def describe(self) -> dict[str, Any]:
        """The upload as it appears in reports and catalog records."""
        return {
            "bucket": self.bucket,
            "key": self.key,
            "version_id": self.version_id,
            "size_bytes": self.size,
            "etag": self.etag,
            "requester": self.requester,
            "event_id": self.event_id,
            "event_time": self.event_time,
        }


@dataclass(frozen=True)
class DatasetVersion:
    """A catalog record: one accepted, content-addressed version of a dataset."""

    dataset: str
    version: str
    accepted_at: str
    rows: int
    size_bytes: int
    format: str
    snapshot_prefix: str
    contract_fingerprint: str
    source: dict[str, Any]
    previous_version: str | None = None
    warnings: int = 0
    announced: bool = False

    def to_item(self) -> dict[str, Any]:
        """A plain dict of the record (the catalog's item)."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> DatasetVersion:
        """The record from a catalog item."""
        values: dict[str, Any] = {name: item[name] for name in cls.__dataclass_fields__ if name in item}
        values["rows"] = int(values["rows"])
        values["size_bytes"] = int(values["size_bytes"])
        values["warnings"] = int(values.get("warnings") or 0)
        values["announced"] = bool(values.get("announced"))
        return cls(**values)


class DatasetStore(Protocol):
    """Where uploads are read and snapshots and reports are written (the data bucket)."""

    def opener(self, upload: Upload) -> Callable[[], BinaryIO]:
        """A function that opens the upload's bytes from the start; raises UploadMissingError."""
        ...

    def put_if_absent(self, key: str, body: bytes | BinaryIO, content_type: str) -> bool:
        """Write an object unless one exists at ``key``; True if this call wrote it."""
        ...

    def read_json(self, key: str) -> dict[str, Any] | None:
        """The JSON object at ``key``, or None if there is none."""
        ...


class Catalog(Protocol):
    """The dataset catalog."""

    def add(self, version: DatasetVersion) -> bool:
        """Record a version unless it exists; True if this call recorded it."""
        ...

    def get(self, dataset: str, version: str) -> DatasetVersion | None:
        """One version, or None."""
        ...

    def latest(self, dataset: str) -> DatasetVersion | None:
        """The most recently accepted version, or None."""
        ...

    def mark_announced(self, dataset: str, version: str) -> None:
        """Record that the version's "accepted" event was published."""
        ...


class Alerter(Protocol):
    """The platform's alert topic."""

    def alert(self, subject: str, message: str) -> None:
        """Tell people that something needs their attention."""
        ...


class Notifier(Alerter, Protocol):
    """The platform's event bus and alert topic."""

    def dataset_accepted(self, version: DatasetVersion) -> None:
        """Publish "Dataset Version Accepted"."""
        ...


@dataclass(frozen=True)
class IngestionOutcome:
    """What became of an upload."""

    status: Status
    dataset: str | None
    version: str | None
    report_key: str | None
    summary: str
    findings: list[dict[str, Any]] = field(default_factory=list)
    error: BaseException | None = field(default=None, compare=False)  # why it failed, for the log

    def as_dict(self) -> dict[str, Any]:
        """The outcome as the handler returns it."""
        return {
            "status": self.status,
            "dataset": self.dataset,
            "version": self.version,
            "report_key": self.report_key,
            "summary": self.summary,
        }


def snapshot_prefix(dataset: str, version: str) -> str:
    """Where a dataset version's immutable snapshot lives."""
    return f"{DATASETS_PREFIX}{dataset}/{version}/"


def quarantine_key(dataset: str, name: str) -> str:
    """Where a rejection report lives."""
    return f"{QUARANTINE_PREFIX}{dataset}/{name}/report.json"


def failure_key(dataset: str, name: str) -> str:
    """Where the record of an upload that could not be validated lives (``name``: the upload's)."""
    return f"{QUARANTINE_PREFIX}{dataset}/{name}/{FAILURE_FILE}"


def alerted_key(key: str) -> str:
    """Where the marker lives that says the alert about the report (or record) at ``key`` was sent."""
    return key.removesuffix(".json") + ALERTED_SUFFIX


def upload_report_name(upload: Upload) -> str:
    """A stable name for a report about an upload whose content hash is unknown."""
    identity = f"{upload.key}\0{upload.version_id or ''}\0{upload.etag or ''}"
    return "upload-" + hashlib.sha256(identity.encode()).hexdigest()[:32]


def to_json(value: Any) -> bytes:
    """JSON as the platform stores it: indented, sorted, no NaN."""
    return json.dumps(value, indent=1, sort_keys=True, default=str, allow_nan=False).encode()
