"""What a feedback file's reports say: the labels joined (``labels/.../report.json``) or the file refused.

Report of a file whose labels were joined::

    {"status": "labelled", "dataset", "sha256", "format", "source": {the upload}, "labelled_at",
     "captures": {"since", "until", "files", "rows_with_id"},
     "counts": {"rows", "matched", "unknown_ids", "duplicate_ids", "relabelled_ids", "captured_twice"},
     "examples": {"unknown_ids": [...], "duplicate_ids": [...], "relabelled_ids": [...],
                  "captured_twice": [...]} (at most 20 each, in the file's order),
     "versions": {"<model version>": labelled rows}, "rows_key": "labels/<d>/<sha>/rows.parquet",
     "performance": [{"model_version", "labelled_rows", "status", "metrics": [{"name", "value", "ci_low",
                      "ci_high", "floor", "below_floor", "reason"}]}] (when it is watched),
     "summary": "one line"}

``matched`` + ``unknown_ids`` is the number of distinct IDs in the file (``rows`` when no ID is labelled
twice: ``duplicate_ids`` counts the IDs labelled more than once, whose last label is kept). The refusal
report is the data plane's validation report of the file against the labels' contract
(``domain.data.validation.report``), with ``expected`` (the columns a feedback file holds) and ``source``.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from domain.data.contract import DatasetContract
from domain.feedback.join import Counted, Joined
from domain.feedback.labelled import INFERENCE_ID
from domain.monitoring.performance import VersionPerformance

__all__ = ["expected_columns", "labelled_report"]


def expected_columns(contract: DatasetContract) -> str:
    """What a feedback file of ``contract``'s dataset must hold, in one sentence."""
    target = contract.column(contract.target)
    kind = target.type + (f" (one of {', '.join(target.categories)})" if target.categories else "")
    return (
        f"a feedback file of {contract.name} is a CSV with a header or a Parquet file with exactly two "
        f"columns: {INFERENCE_ID} (text: the InferenceId the request was sent with) and {target.name} "
        f"({kind}, never empty: the label)"
    )


def labelled_report(
    *,
    dataset: str,
    sha256: str,
    fmt: str,
    source: dict[str, Any],
    labelled_at: datetime,
    since: datetime,
    until: datetime,
    capture_files: int,
    captured_rows: int,
    joined: Joined,
    rows_key: str,
    performance: list[VersionPerformance] | None,
) -> dict[str, Any]:
    """The report of a file whose labels were joined (see the module's description)."""
    cases = {
        "unknown_ids": joined.unknown,
        "duplicate_ids": joined.duplicate,
        "relabelled_ids": joined.relabelled,
        "captured_twice": joined.captured_twice,
    }
    report: dict[str, Any] = {
        "status": "labelled",
        "dataset": dataset,
        "sha256": sha256,
        "format": fmt,
        "source": source,
        "labelled_at": labelled_at.isoformat(),
        "captures": {
            "since": since.isoformat(),
            "until": until.isoformat(),
            "files": capture_files,
            "rows_with_id": captured_rows,
        },
        "counts": {"rows": joined.labels, "matched": joined.matched}
        | {name: case.count for name, case in cases.items()},
        "examples": {name: list(case.examples) for name, case in cases.items()},
        "versions": {str(version): rows for version, rows in sorted(joined.versions().items())},
        "rows_key": rows_key,
        "summary": _summary(joined, cases),
    }
    if performance is not None:
        report["performance"] = [_performance(result) for result in performance]
    return report


def _summary(joined: Joined, cases: dict[str, Counted]) -> str:
    text = f"{joined.matched} of {joined.labels} labels joined with their requests"
    noted = [f"{case.count} {name.replace('_', ' ')}" for name, case in cases.items() if case.count]
    return text + (f" ({', '.join(noted)})" if noted else "")


def _performance(result: VersionPerformance) -> dict[str, Any]:
    return {
        "model_version": result.model_version,
        "labelled_rows": result.labelled_rows,
        "status": result.status,
        "metrics": [
            {key: value for key, value in asdict(metric).items() if key != "computable"}
            for metric in result.metrics
        ],
    }
