"""From a feedback file to labelled rows, or to a refusal: the ground truth's use case, free of AWS.

For a file created under ``feedback/<dataset>/``:

1. the file is checked (:mod:`.labels_file`); a file that cannot be read or fails its checks gets a report
   under ``quarantine/feedback/<dataset>/<sha256>/`` and an alert, once however often the event comes,
   and nothing is written under ``labels/``;
2. a file whose content was joined already (its report is there) is a duplicate: nothing more;
3. the dataset's captures of the last ``lookback_days`` are read, and joined with the labels by inference
   ID (:mod:`.join`);
4. the labelled rows are written (``labels/<dataset>/<sha256>/rows.parquet``), then the realized
   performance of the versions the file touched is computed on every labelled row of those versions and
   published, then the report is written: the report is the commit point. A failure before it leaves
   no report, and the event's retry does it all again (the rows are overwritten, not added to).

The file itself is only read, never modified or moved.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from domain.alerts import alert_subject
from domain.data.ingestion_model import Alerter, Upload, UploadMissingError, to_json, upload_report_name
from domain.data.quarantine import write_and_alert
from domain.data.validation import ValidationResult
from domain.feedback.join import captured_table, join_labels
from domain.feedback.labelled import (
    INFERENCE_ID,
    MODEL_VERSION,
    labelled_rows_key,
    labelled_schema,
    quarantine_report_key,
    report_key,
)
from domain.feedback.labels_file import LabelsFile, check_labels
from domain.feedback.model import (
    FeedbackDataset,
    FeedbackOutcome,
    FeedbackStore,
    LabelledRowsSource,
    feedback_dataset,
)
from domain.feedback.report import expected_columns, labelled_report
from domain.monitoring.captures import CaptureSource, read_window
from domain.monitoring.check import MetricsSink
from domain.monitoring.columns import CaptureSchema
from domain.monitoring.metrics import performance_metrics
from domain.monitoring.performance import VersionPerformance, dataset_performance

__all__ = [
    "FeedbackDataset",
    "FeedbackOutcome",
    "FeedbackStore",
    "LabelledRowsSource",
    "feedback_dataset",
    "ingest_feedback",
]

_PARQUET = "application/vnd.apache.parquet"


def ingest_feedback(
    upload: Upload,
    *,
    datasets: Mapping[str, FeedbackDataset],
    store: FeedbackStore,
    captures: CaptureSource,
    labels: LabelledRowsSource,
    alerter: Alerter,
    metrics: MetricsSink,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> FeedbackOutcome:
    """Check a feedback file, join its labels with their requests, record and publish (see the module).

    Parameters
    ----------
    upload : Upload
        The object created under ``feedback/``.
    datasets : mapping of str to FeedbackDataset
        The declared datasets.
    store, captures, labels, alerter, metrics
        The adapters (AWS in the Lambda, fakes in tests).
    now : callable
        The clock: the end of the captures' window and the labels' ``labelled_at``.

    Returns
    -------
    FeedbackOutcome
        ``labelled``, ``duplicate`` (this content was joined before) or ``rejected`` (the report says why).

    Raises
    ------
    Exception
        What the adapters raise (a capture that cannot be read, a write refused): the retry does it again.
    """
    dataset = feedback_dataset(upload.key)
    if dataset is None or dataset not in datasets:
        return _refuse_undeclared(upload, dataset, sorted(datasets), store, alerter, now())
    declared = datasets[dataset]
    try:
        checked = check_labels(store.opener(upload), declared.contract, size=upload.size)
    except UploadMissingError as missing:
        message = f"{upload.key} could not be read: {missing}"
        return _refuse(upload, dataset, None, _finding("upload.missing", message), store, alerter, now())
    if isinstance(checked, ValidationResult):
        report = checked.report | {"expected": expected_columns(declared.contract)}
        return _refuse(upload, dataset, checked.sha256, report, store, alerter, now())
    sha = str(checked.result.sha256)
    done = store.read_json(report_key(dataset, sha))
    if done is not None:
        first = (done.get("source") or {}).get("key")
        summary = f"{upload.key} has the same content as {first}, whose labels were joined already"
        return FeedbackOutcome("duplicate", dataset, sha, report_key(dataset, sha), summary)
    return _label(upload, declared, checked, store, captures, labels, metrics, now())


def _label(
    upload: Upload,
    declared: FeedbackDataset,
    checked: LabelsFile,
    store: FeedbackStore,
    captures: CaptureSource,
    labels: LabelledRowsSource,
    metrics: MetricsSink,
    at: datetime,
) -> FeedbackOutcome:
    contract, training = declared.contract, declared.training
    dataset, sha = contract.name, str(checked.result.sha256)
    since = at - timedelta(days=declared.lookback_days)
    schema = CaptureSchema.of(contract, training)
    window = read_window(captures, dataset, schema, since, at, probabilities=True)
    labelled = labelled_schema(contract, training.task)
    captured = captured_table(window, schema, labelled)
    # Committed files only: on a retry, this file's own rows (written before a failure, with no report)
    # are not labels "another file" gave before.
    before = labels.labelled_rows(dataset, after=None, columns=(INFERENCE_ID,), committed_only=True)
    joined = join_labels(
        checked.labels, captured, target=contract.target, labelled_at=at, schema=labelled,
        labelled_before=before.column(INFERENCE_ID) if before.num_rows else pa.array([], pa.string()),
    )  # fmt: skip
    rows_key = labelled_rows_key(dataset, sha)
    store.put(rows_key, _parquet(joined.rows), _PARQUET)
    touched = sorted(joined.versions())
    performance = _performance(declared, touched, labels, metrics, at)
    report = labelled_report(
        dataset=dataset, sha256=sha, fmt=checked.result.format, source=upload.describe(), labelled_at=at,
        since=since, until=at, capture_files=window.files, captured_rows=captured.num_rows, joined=joined,
        rows_key=rows_key, performance=performance,
    )  # fmt: skip
    key = report_key(dataset, sha)
    store.put_if_absent(key, to_json(report), "application/json")
    return FeedbackOutcome("labelled", dataset, sha, key, report["summary"], report["counts"])


def _performance(
    declared: FeedbackDataset,
    versions: list[int],
    labels: LabelledRowsSource,
    metrics: MetricsSink,
    at: datetime,
) -> list[VersionPerformance] | None:
    """Realized performance of ``versions`` on every label of theirs, published; None when not watched."""
    if not declared.performance.enabled or not versions:
        return None
    rows = labels.labelled_rows(declared.contract.name, after=None)
    touched = rows.filter(pc.is_in(rows.column(MODEL_VERSION), value_set=pa.array(versions, pa.int64())))
    results = dataset_performance(
        touched, contract=declared.contract, training=declared.training, settings=declared.performance
    )
    metrics.publish(performance_metrics(declared.endpoint, results), at)
    return results


def _parquet(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def _finding(check: str, message: str) -> dict[str, Any]:
    return {
        "status": "rejected",
        "findings": [{"check": check, "severity": "error", "column": None, "count": 1, "message": message,
                      "examples": []}],
        "summary": message,
    }  # fmt: skip


def _refuse_undeclared(
    upload: Upload,
    dataset: str | None,
    declared: list[str],
    store: FeedbackStore,
    alerter: Alerter,
    at: datetime,
) -> FeedbackOutcome:
    names = ", ".join(declared) or "none"
    if dataset is None:
        check, message = (
            "upload.no_dataset",
            f"{upload.key} is not under feedback/<dataset>/; datasets: {names}",
        )
    else:
        check = "upload.undeclared_dataset"
        message = f"dataset {dataset!r} is not declared; declared datasets: {names}: push under one of them"
    return _refuse(upload, dataset or "_unknown", None, _finding(check, message), store, alerter, at)


def _refuse(
    upload: Upload,
    dataset: str,
    sha256: str | None,
    report: dict[str, Any],
    store: FeedbackStore,
    alerter: Alerter,
    at: datetime,
) -> FeedbackOutcome:
    """Write the refusal report (keyed by the content, else by the upload) and alert, once."""
    key = quarantine_report_key(dataset, sha256 or upload_report_name(upload))
    summary = str(report.get("summary") or "refused")
    body = report | {"status": "rejected", "dataset": dataset, "source": upload.describe(),
                     "validated_at": at.isoformat()}  # fmt: skip
    write_and_alert(
        store,
        alerter,
        key,
        to_json(body),
        alert_subject("Feedback file refused", dataset),
        f"{upload.key} was refused: {summary}\nReport: s3://{upload.bucket}/{key}",
    )
    return FeedbackOutcome("rejected", dataset, sha256, key, summary)
