"""From an upload to a dataset version or a rejection: the data plane's use case, free of AWS.

The storage, the catalog and the notifications sit behind the protocols below; the validation
Lambda passes AWS adapters, the unit tests pass in-memory fakes. The order of the writes is what
makes a failure half-way safe: the immutable snapshot objects first, then the catalog record (a
conditional write keyed on dataset and content hash: the commit point), then the announcement. A
retry after a crash finds the record and only finishes what is missing.

Everything before the first write (reading the upload, validating it, writing the report's JSON) is
deterministic or nearly so: if it fails, retrying the event would fail the same way, so the upload
gets a failure record and an alert instead, and the call returns (status ``failed``). So does a
validation that reaches its ``deadline`` (the function's time limit, less the time to write that
record): a retry would run out of time the same way. Only a failed write raises, for the function's
retry to finish it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import BinaryIO

from domain.data.contract import DatasetContract
from domain.data.ingestion_failures import UploadReadError, guard_reads
from domain.data.ingestion_model import (
    DATASETS_PREFIX,
    INCOMING_PREFIX,
    QUARANTINE_PREFIX,
    Catalog,
    DatasetStore,
    DatasetVersion,
    IngestionOutcome,
    Notifier,
    Status,
    Upload,
    UploadMissingError,
    failure_key,
    quarantine_key,
    snapshot_prefix,
    to_json,
    upload_report_name,
)
from domain.data.quarantine import record_failure, reject, reject_unvalidated
from domain.data.validation import ValidationResult, validate_dataset
from domain.deadline import Deadline

__all__ = [
    "DATASETS_PREFIX",
    "INCOMING_PREFIX",
    "QUARANTINE_PREFIX",
    "Catalog",
    "DatasetStore",
    "DatasetVersion",
    "Deadline",
    "IngestionOutcome",
    "Notifier",
    "Status",
    "Upload",
    "UploadMissingError",
    "failure_key",
    "ingest_upload",
    "quarantine_key",
    "snapshot_prefix",
    "upload_report_name",
]

READ_ATTEMPTS = 2  # a read that fails half-way (a dropped connection) is worth one more pass


@dataclass(frozen=True)
class _Verdict:
    """A validation result with everything the writes need, made before the first write."""

    result: ValidationResult
    previous: DatasetVersion | None
    report: bytes
    profile: bytes | None


def ingest_upload(
    upload: Upload,
    *,
    contracts: Mapping[str, DatasetContract],
    store: DatasetStore,
    catalog: Catalog,
    notifier: Notifier,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    deadline: Deadline | None = None,
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
    deadline
        When to stop reading the upload, leaving time to record why (the function's time limit):
        the upload then gets a failure record that says how far the validation got.

    Returns
    -------
    IngestionOutcome
        ``accepted`` with the new version, ``duplicate`` when this content is already a version of the
        dataset, ``rejected`` with the key of the report that says why, or ``failed`` with the key of
        the failure record when the upload could not be validated (``error`` says why).

    Raises
    ------
    Exception
        Only what a write raises (the store, the catalog, the notifier): a retry finishes the writes.
    """
    dataset = upload.dataset
    if dataset is None or dataset not in contracts:
        return reject_unvalidated(upload, contracts, store, notifier, now)
    contract = contracts[dataset]
    with tempfile.TemporaryFile(prefix="snapshot-", suffix=".parquet") as snapshot:
        try:
            verdict = _validate(upload, contract, store, catalog, snapshot, now, deadline)
        except UploadMissingError as missing:
            return reject_unvalidated(upload, contracts, store, notifier, now, missing=str(missing))
        except Exception as error:  # whatever it is, the upload gets a verdict and the event is done
            return record_failure(upload, dataset, error, store, notifier, now)
        if not verdict.result.accepted or verdict.result.sha256 is None:
            return reject(upload, dataset, verdict.result, verdict.report, store, notifier)
        return _accept(upload, contract, verdict, snapshot, store, catalog, notifier, now)


def _validate(
    upload: Upload,
    contract: DatasetContract,
    store: DatasetStore,
    catalog: Catalog,
    snapshot: BinaryIO,
    now: Callable[[], datetime],
    deadline: Deadline | None,
) -> _Verdict:
    """Validate the upload and prepare every body the writes need; nothing is written here."""
    opener = guard_reads(store.opener(upload), (UploadMissingError,))
    if deadline is not None:
        opener = deadline.watch(opener)  # outside the guard: running out of time is not a failed read
    previous = catalog.latest(contract.name)
    profile_key = snapshot_prefix(contract.name, previous.version) + "profile.json" if previous else None
    previous_profile = store.read_json(profile_key) if profile_key else None
    for attempt in range(1, READ_ATTEMPTS + 1):
        try:
            result = validate_dataset(
                opener, contract, size=upload.size, previous_profile=previous_profile, snapshot_sink=snapshot
            )
            break
        except UploadReadError:
            if attempt == READ_ATTEMPTS:
                raise
    report = {**result.report, "source": upload.describe(), "validated_at": now().isoformat()}
    profile = to_json(result.profile) if result.accepted else None
    return _Verdict(result, previous, to_json(report), profile)


def _accept(
    upload: Upload,
    contract: DatasetContract,
    verdict: _Verdict,
    snapshot: BinaryIO,
    store: DatasetStore,
    catalog: Catalog,
    notifier: Notifier,
    now: Callable[[], datetime],
) -> IngestionOutcome:
    result, previous = verdict.result, verdict.previous
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
        store.put_if_absent(prefix + "profile.json", verdict.profile or to_json(None), "application/json")
        store.put_if_absent(prefix + "report.json", verdict.report, "application/json")
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
