"""The validation result and its JSON report.

Report format
-------------
.. code-block:: text

    {"status": "accepted" | "rejected", "dataset": name, "contract_fingerprint": sha256 of the contract,
     "format": "csv" | "csv+gzip" | "parquet" | "unknown", "size_bytes": n, "sha256": hex or null,
     "rows": data rows read, "columns": [column names as read, in file order, at most
                                        limits.max_columns of them] or null,
     "findings": [{"check", "severity": "error" | "warning", "column", "count", "message",
                   "examples": [{"row" | "line" | "byte_offset": n, "value": ...}, ... at most 5]}],
     "summary": "one line"}

Any finding with severity "error" rejects the file. Examples locate the problem by ``row`` (1-based data
row, header excluded, counting rows skipped as malformed), ``line`` (1-based physical line, header
included) or ``byte_offset`` (in the decompressed text for gzip), with the offending ``value``; some
carry one more key: ``fields`` (rows.malformed: how many fields the row has), ``previous`` (drift
checks: the previous version's figure) or ``count`` (drift.new_categories: rows with that value).
Check ids are listed in :mod:`domain.data.validation.findings` and never change meaning.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.data.contract import DatasetContract
from domain.data.validation import findings as f
from domain.data.validation.findings import Finding
from domain.data.validation.header import as_listed

_ORDER = {check: index for index, check in enumerate(f.CHECK_IDS)}
_GROUPS = ("file", "header", "schema", "rows", "value", "drift")


@dataclass(frozen=True)
class ValidationResult:
    """The outcome of validating one upload against its contract.

    Attributes
    ----------
    accepted : bool
        No finding of severity "error".
    sha256 : str or None
        Hex SHA-256 of the raw bytes as uploaded (None only if the file could not be read in full).
    size_bytes : int
        Size of the upload (bytes read, or the announced size when rejected before reading).
    format : str
        "csv", "csv+gzip", "parquet" or "unknown".
    rows : int
        Data rows read (header excluded, malformed rows excluded).
    report : dict
        JSON-serializable report (see the module docstring).
    profile : dict or None
        JSON-serializable statistics profile (:mod:`domain.data.validation.profile`); None when the data
        could not be parsed.
    """

    accepted: bool
    sha256: str | None
    size_bytes: int
    format: str
    rows: int
    report: dict[str, Any]
    profile: dict[str, Any] | None

    @property
    def findings(self) -> list[dict[str, Any]]:
        """The report's findings."""
        findings: list[dict[str, Any]] = self.report["findings"]
        return findings

    def checks(self, severity: str | None = None) -> set[str]:
        """The ids of the checks that found something (optionally only of one severity)."""
        return {x["check"] for x in self.findings if severity is None or x["severity"] == severity}


def _summary(accepted: bool, rows: int, columns: int, findings: list[Finding]) -> str:
    errors = [x for x in findings if x.severity == "error"]
    warnings = [x for x in findings if x.severity == "warning"]
    shape = f"{rows:,} rows x {columns} columns"
    if accepted:
        tail = f", {len(warnings)} warning{'s' if len(warnings) != 1 else ''}" if warnings else ""
        return f"accepted: {shape}{tail}"
    first = errors[0]
    where = f" in column {first.column!r}" if first.column else ""
    more = f" (and {len(errors) - 1} more error{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
    return f"rejected: {first.check}{where}: {first.count:,} found{more}; {shape} read"


def _columns(header: list[str] | None, limit: int) -> list[str] | None:
    """The header as the report lists it: a header too wide or a "name" too long is cut (findings say so)."""
    if header is None:
        return None
    return [as_listed(name) for name in header[:limit]]


def build_result(
    contract: DatasetContract,
    *,
    fmt: str,
    size_bytes: int,
    sha256: str | None,
    rows: int,
    header: list[str] | None,
    findings: list[Finding],
    profile: dict[str, Any] | None,
) -> ValidationResult:
    """Decide acceptance and assemble the report.

    Findings are ordered by kind (file, header, rows, values, drift) and, for values, by the
    contract's column order, so that the first finding is the most fundamental one.
    """
    position = {name: index for index, name in enumerate(contract.column_names)}

    def key(finding: Finding) -> tuple[int, int, int]:
        group = finding.check.split(".")[0]
        return (
            _GROUPS.index(group) if group in _GROUPS else len(_GROUPS),
            position.get(finding.column or "", -1),
            _ORDER.get(finding.check, len(_ORDER)),
        )

    ordered = sorted(findings, key=key)
    accepted = not any(x.severity == "error" for x in ordered)
    report = {
        "status": "accepted" if accepted else "rejected",
        "dataset": contract.name,
        "contract_fingerprint": contract.fingerprint,
        "format": fmt,
        "size_bytes": size_bytes,
        "sha256": sha256,
        "rows": rows,
        "columns": _columns(header, contract.limits.max_columns),
        "findings": [x.to_dict() for x in ordered],
        "summary": _summary(accepted, rows, len(header or []), ordered),
    }
    return ValidationResult(
        accepted=accepted,
        sha256=sha256,
        size_bytes=size_bytes,
        format=fmt,
        rows=rows,
        report=report,
        profile=profile,
    )
