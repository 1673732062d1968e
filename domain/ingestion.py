"""From an upload to a dataset version or a rejection: the data plane's use case, free of AWS.

The storage, the catalog and the notifications sit behind the protocols below; the validation
Lambda passes AWS adapters, the unit tests pass in-memory fakes. The order of the writes is what
makes a failure half-way safe: the immutable snapshot objects first, then the catalog record (a
conditional write keyed on dataset and content hash: the commit point), then the announcement. A
retry after a crash finds the record and only finishes what is missing.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, BinaryIO, Literal, Protocol

from domain.contract import DatasetContract
from domain.validation import ValidationResult, validate_dataset

INCOMING_PREFIX = "incoming/"
DATASETS_PREFIX = "datasets/"
QUARANTINE_PREFIX = "quarantine/"

Status = Literal["accepted", "rejected", "duplicate"]


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


class Notifier(Protocol):
    """The platform's event bus and alert topic."""

    def dataset_accepted(self, version: DatasetVersion) -> None:
        """Publish "Dataset Version Accepted"."""
        ...

    def alert(self, subject: str, message: str) -> None:
        """Tell people that something needs their attention."""
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


def ingest_upload(
    upload: Upload,
    *,
    contracts: Mapping[str, DatasetContract],
    store: DatasetStore,
    catalog: Catalog,
    notifier: Notifier,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> IngestionOutcome:
    """Validate an upload against its dataset's contract and record the result.

    Parameters
    ----------
    upload
        The object that was created.
    contracts
        The declared datasets' contracts, by name.
    store, catalog, notifier
        The adapters (AWS in the Lambda, fakes in tests).
    now
        The clock.

    Returns
    -------
    IngestionOutcome
        ``accepted`` with the new version, ``duplicate`` when this content is already a version of the
        dataset, or ``rejected`` with the key of the report that says why.
    """
    dataset = upload.dataset
    if dataset is None or dataset not in contracts:
        return _reject_unvalidated(upload, contracts, store, notifier, now)
    contract = contracts[dataset]
    try:
        opener = store.opener(upload)
        previous = catalog.latest(dataset)
        previous_profile = (
            store.read_json(snapshot_prefix(dataset, previous.version) + "profile.json") if previous else None
        )
        with tempfile.TemporaryFile(prefix="snapshot-", suffix=".parquet") as snapshot:
            result = validate_dataset(
                opener, contract, size=upload.size, previous_profile=previous_profile, snapshot_sink=snapshot
            )
            if not result.accepted or result.sha256 is None:
                return _reject(upload, dataset, result, store, notifier, now)
            return _accept(upload, contract, result, snapshot, previous, store, catalog, notifier, now)
    except UploadMissingError as missing:
        return _reject_unvalidated(upload, contracts, store, notifier, now, missing=str(missing))


def _accept(
    upload: Upload,
    contract: DatasetContract,
    result: ValidationResult,
    snapshot: BinaryIO,
    previous: DatasetVersion | None,
    store: DatasetStore,
    catalog: Catalog,
    notifier: Notifier,
    now: Callable[[], datetime],
) -> IngestionOutcome:
    dataset, version = contract.name, str(result.sha256)
    prefix = snapshot_prefix(dataset, version)
    existing = catalog.get(dataset, version)
    if existing is not None and existing.announced:
        return IngestionOutcome(
            "duplicate", dataset, version, None, f"{dataset} already has version {version[:12]}"
        )
    if existing is None:
        snapshot.seek(0)
        store.put_if_absent(prefix + "data.parquet", snapshot, "application/vnd.apache.parquet")
        store.put_if_absent(prefix + "profile.json", _json(result.profile), "application/json")
        report = {**result.report, "source": upload.describe(), "validated_at": now().isoformat()}
        store.put_if_absent(prefix + "report.json", _json(report), "application/json")
        record = DatasetVersion(
            dataset=dataset,
            version=version,
            accepted_at=now().isoformat(),
            rows=result.rows,
            size_bytes=result.size_bytes,
            format=result.format,
            snapshot_prefix=prefix,
            contract_fingerprint=contract.fingerprint,
            source=upload.describe(),
            previous_version=previous.version if previous and previous.version != version else None,
            warnings=sum(
                1 for finding in result.report.get("findings", []) if finding["severity"] == "warning"
            ),
        )
        if not catalog.add(record):
            existing = catalog.get(dataset, version)
            if existing is not None and existing.announced:
                return IngestionOutcome(
                    "duplicate", dataset, version, None, f"{dataset} already has {version[:12]}"
                )
        existing = existing or record
    notifier.dataset_accepted(existing)
    catalog.mark_announced(dataset, version)
    return IngestionOutcome(
        "accepted",
        dataset,
        version,
        prefix + "report.json",
        f"{dataset} version {version[:12]} accepted: {result.rows} rows",
        result.report.get("findings", []),
    )


def _reject(
    upload: Upload,
    dataset: str,
    result: ValidationResult,
    store: DatasetStore,
    notifier: Notifier,
    now: Callable[[], datetime],
) -> IngestionOutcome:
    name = result.sha256 or upload_report_name(upload)
    key = quarantine_key(dataset, name)
    report = {**result.report, "source": upload.describe(), "validated_at": now().isoformat()}
    summary = str(result.report.get("summary") or "rejected")
    if store.put_if_absent(key, _json(report), "application/json"):
        notifier.alert(
            f"Dataset upload rejected: {dataset}",
            f"{upload.key} was rejected: {summary}\nReport: s3://{upload.bucket}/{key}",
        )
    return IngestionOutcome(
        "rejected", dataset, result.sha256, key, summary, result.report.get("findings", [])
    )


def _reject_unvalidated(
    upload: Upload,
    contracts: Mapping[str, DatasetContract],
    store: DatasetStore,
    notifier: Notifier,
    now: Callable[[], datetime],
    missing: str | None = None,
) -> IngestionOutcome:
    """Reject what could not be validated at all: no dataset in the key, an undeclared one, a lost object."""
    dataset = upload.dataset
    declared = ", ".join(sorted(contracts)) or "none"
    if missing is not None:
        check, message = "upload.missing", f"{upload.key} could not be read: {missing}"
    elif dataset is None:
        check = "upload.no_dataset"
        message = f"{upload.key} is not under incoming/<dataset>/; declared datasets: {declared}"
    else:
        check = "upload.undeclared_dataset"
        message = (
            f"dataset {dataset!r} is not declared; declared datasets: {declared}. Add a contract under "
            "contracts/ and name it in cdk.json, or upload under one of the declared names."
        )
    report: dict[str, Any] = {
        "status": "rejected",
        "dataset": dataset,
        "findings": [{"check": check, "severity": "error", "column": None, "count": 1, "message": message,
                      "examples": []}],
        "summary": message,
        "source": upload.describe(),
        "validated_at": now().isoformat(),
    }  # fmt: skip
    key = quarantine_key(dataset or "_unknown", upload_report_name(upload))
    if store.put_if_absent(key, _json(report), "application/json"):
        notifier.alert(
            f"Dataset upload rejected: {dataset or upload.key}",
            f"{message}\nReport: s3://{upload.bucket}/{key}",
        )
    return IngestionOutcome("rejected", dataset, None, key, message, report["findings"])


def upload_report_name(upload: Upload) -> str:
    """A stable name for a report about an upload whose content hash is unknown."""
    identity = f"{upload.key}\0{upload.version_id or ''}\0{upload.etag or ''}"
    return "upload-" + hashlib.sha256(identity.encode()).hexdigest()[:32]


def _json(value: Any) -> bytes:
    return json.dumps(value, indent=1, sort_keys=True, default=str, allow_nan=False).encode()
