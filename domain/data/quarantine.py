"""Verdicts that make no dataset version: a rejection report, a rejection of what could not be validated
at all, and the record of an upload whose validation failed. Each is written once, and alerted.

The order makes a failure half-way safe (:func:`write_and_alert`): the report first, with a conditional
write (S3 stores an object whole or not at all, so the alert never points at a half-written or missing
report); then the alert; then a marker beside the report that says the alert was sent. A retry that
finds the report but no marker sends the alert, so a failure between the write and the alert (SNS
throttled, the function killed) loses no alert; a failure between the alert and the marker sends it
twice, the lesser evil. A report that is there with its marker is done: a duplicate event alerts no more.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from domain.alerts import alert_subject
from domain.data.contract import DatasetContract
from domain.data.ingestion_failures import StoppedInvocation, describe_failure, describe_stopped
from domain.data.ingestion_model import (
    Alerter,
    DatasetStore,
    IngestionOutcome,
    Notifier,
    Upload,
    alerted_key,
    failure_key,
    quarantine_key,
    to_json,
    upload_report_name,
)
from domain.data.validation import ValidationResult


def record_failure(
    upload: Upload,
    dataset: str,
    error: Exception,
    store: DatasetStore,
    notifier: Alerter,
    now: Callable[[], datetime],
) -> IngestionOutcome:
    """Record that the upload could not be validated, and alert (once, however often this runs)."""
    failure = describe_failure(error, upload.size)
    key = _write_failure(upload, dataset, failure, store, notifier, now)
    return IngestionOutcome("failed", dataset, None, key, failure["summary"], [], error)


def record_stopped(
    upload: Upload,
    stopped: StoppedInvocation,
    store: DatasetStore,
    notifier: Alerter,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> IngestionOutcome:
    """Record that the validation function stopped on the upload (killed, out of memory...), and alert.

    Parameters
    ----------
    upload
        The upload of the event the function failed on.
    stopped
        How the function's invocations on the upload ended.
    store, notifier, now
        Where the record goes, who is alerted, the clock.
    """
    dataset = upload.dataset or "_unknown"
    failure = describe_stopped(stopped)
    key = _write_failure(upload, dataset, failure, store, notifier, now)
    return IngestionOutcome("failed", dataset, None, key, failure["summary"])


def _write_failure(
    upload: Upload,
    dataset: str,
    failure: Mapping[str, Any],
    store: DatasetStore,
    notifier: Alerter,
    now: Callable[[], datetime],
) -> str:
    """Write ``failure.json`` unless there is one, alert if this call wrote it; return its key."""
    key = failure_key(dataset, upload_report_name(upload))
    record = {
        "status": "failed",
        "dataset": dataset,
        "summary": failure["summary"],
        "error": {name: failure[name] for name in ("kind", "type", "where")},
        "findings": [],
        "source": upload.describe(),
        "failed_at": now().isoformat(),
    }
    write_and_alert(
        store,
        notifier,
        key,
        to_json(record),
        alert_subject("Dataset upload could not be validated", dataset),
        f"{upload.key} {failure['summary']}\nRecord: s3://{upload.bucket}/{key}",
    )
    return key


def write_and_alert(
    store: DatasetStore, notifier: Alerter, key: str, report: bytes, subject: str, message: str
) -> None:
    """Write the report at ``key`` unless it is there, then alert unless its marker says it was sent."""
    marker = alerted_key(key)
    # A report this call wrote has had no alert yet: only a report found in place needs the marker read.
    if not store.put_if_absent(key, report, "application/json") and store.read_json(marker) is not None:
        return
    notifier.alert(subject, message)
    store.put_if_absent(marker, to_json({"report": key, "subject": subject}), "application/json")


def reject(
    upload: Upload,
    dataset: str,
    result: ValidationResult,
    report: bytes,
    store: DatasetStore,
    notifier: Notifier,
) -> IngestionOutcome:
    """Write the rejection report (``report``: its JSON) and alert, once."""
    name = result.sha256 or upload_report_name(upload)
    key = quarantine_key(dataset, name)
    summary = str(result.report.get("summary") or "rejected")
    write_and_alert(
        store,
        notifier,
        key,
        report,
        alert_subject("Dataset upload rejected", dataset),
        f"{upload.key} was rejected: {summary}\nReport: s3://{upload.bucket}/{key}",
    )
    return IngestionOutcome(
        "rejected", dataset, result.sha256, key, summary, result.report.get("findings", [])
    )


def reject_unvalidated(
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
    write_and_alert(
        store,
        notifier,
        key,
        to_json(report),
        alert_subject("Dataset upload rejected", dataset or upload.key),
        f"{message}\nReport: s3://{upload.bucket}/{key}",
    )
    return IngestionOutcome("rejected", dataset, None, key, message, report["findings"])
