"""The columns a file has against the ones its contract declares, for CSV headers and Parquet schemas.

A misspelled column shows up as one finding ("'tenure_months' is missing; the file has
'tenure_month'"), not as a missing plus an unexplained extra column; names with spaces around them
are one finding that says so. Findings stay few however wide the file: past a few, undeclared or
duplicated columns are listed in one finding, and a file over ``limits.max_columns`` is compared no
further.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from domain.data.contract import DatasetContract
from domain.data.validation import findings as f
from domain.data.validation.findings import MAX_EXAMPLES, Finding, error, json_value
from domain.data.validation.header import as_listed, delimiter_name, shown

MAX_EXTRA_FINDINGS = 10  # past this many undeclared (or duplicated) columns, one finding lists the first


@dataclass
class ColumnMatch:
    """How the columns of a file map onto the contract."""

    positions: dict[str, int] = field(default_factory=dict)  # declared name -> index in the file
    findings: list[Finding] = field(default_factory=list)

    @property
    def fatal(self) -> bool:
        """Whether a header problem rejects the file."""
        return any(finding.severity == "error" for finding in self.findings)


def _close_name(name: str, candidates: list[str]) -> str | None:
    lowered = {candidate.strip().lower(): candidate for candidate in candidates}
    if name.lower() in lowered:
        return lowered[name.lower()]
    matches = difflib.get_close_matches(name, candidates, n=1, cutoff=0.75)
    return matches[0] if matches else None


def match_columns(
    header: list[str], contract: DatasetContract, *, delimiter: str | None = None
) -> ColumnMatch:
    """Compare the file's column names with the contract's.

    Parameters
    ----------
    header : list of str
        Column names as read, in file order.
    contract : DatasetContract
    delimiter : str, optional
        The CSV delimiter, for advice about names with spaces around them (None for Parquet).

    Returns
    -------
    ColumnMatch
        Where each declared column is in the file (first occurrence), and the header findings:
        too many columns (alone: nothing else is compared), names with spaces around them, missing
        (with a close-name suggestion), extra (per ``extra_columns``) and duplicated columns.
    """
    match = ColumnMatch()
    first: dict[str, int] = {}
    duplicates: dict[str, list[int]] = {}
    for index, name in enumerate(header):
        if name in first:
            duplicates.setdefault(name, [first[name]]).append(index)
        else:
            first[name] = index
    declared = contract.column_names
    for name in declared:
        if name in first:
            match.positions[name] = first[name]
    if len(header) > contract.limits.max_columns:
        # A file this wide is read no further; comparing every name would only cost time and noise.
        match.findings.append(_too_many(len(header), contract.limits.max_columns))
        return match
    declared_names = set(declared)
    extra = [name for name in first if name not in declared_names]
    padded = _padded(declared, match.positions, extra)
    if padded:
        match.findings.append(_padded_finding(padded, first, delimiter))
    explained: set[str] = set(padded.values())
    for name in declared:
        if name in first or name in padded:
            continue
        close = _close_name(name, [e for e in extra if e not in explained])
        hint = ""
        if close is not None:
            explained.add(close)
            hint = f" The file has a column {shown(close)}: if that is it, rename it to {name!r}."
        message = f"Column {name!r} is declared in the contract but is not in the file.{hint}"
        examples = [{"line": 1, "value": json_value(close)}] if close else []
        match.findings.append(error(f.HEADER_MISSING_COLUMN, message, examples, column=name))
    match.findings.extend(_duplicates(duplicates))
    unexplained = [name for name in extra if name not in explained]
    if unexplained and contract.extra_columns != "ignore":
        match.findings.extend(_extra(unexplained, first, contract))
    return match


def _duplicates(duplicates: dict[str, list[int]]) -> list[Finding]:
    if len(duplicates) > MAX_EXTRA_FINDINGS:
        listed = ", ".join(
            f"{shown(name)} ({len(positions)} times)"
            for name, positions in list(duplicates.items())[:MAX_EXAMPLES]
        )
        message = (
            f"{len(duplicates):,} column names appear more than once in the header, among them {listed}; "
            "each column must appear once. Remove or rename the copies."
        )
        examples = [{"line": 1, "value": json_value(name)} for name in list(duplicates)[:MAX_EXAMPLES]]
        return [error(f.HEADER_DUPLICATE_COLUMN, message, examples, count=len(duplicates))]
    findings = []
    for name, positions in duplicates.items():
        where = ", ".join(str(p + 1) for p in positions[:MAX_EXAMPLES])
        more = f" and {len(positions) - MAX_EXAMPLES:,} more" if len(positions) > MAX_EXAMPLES else ""
        message = (
            f"Column {shown(name)} appears {len(positions)} times in the header (positions {where}{more}); "
            "each column must appear once. Remove or rename the copies."
        )
        examples = [{"line": 1, "value": json_value(name)}]
        findings.append(
            error(f.HEADER_DUPLICATE_COLUMN, message, examples, column=as_listed(name), count=len(positions))
        )
    return findings


def _too_many(columns: int, limit: int) -> Finding:
    message = (
        f"The file has {columns:,} columns, more than the contract's limit of {limit:,}. Check the "
        "delimiter, or raise limits.max_columns."
    )
    return error(f.HEADER_TOO_MANY_COLUMNS, message, [{"line": 1, "value": columns}], count=columns)


def _padded(declared: list[str], found: dict[str, int], extra: list[str]) -> dict[str, str]:
    """Declared names absent from the file but present with spaces around them (declared -> as read)."""
    stripped: dict[str, str] = {}
    for name in extra:
        trimmed = name.strip()
        if trimmed != name:
            stripped.setdefault(trimmed, name)
    return {name: stripped[name] for name in declared if name not in found and name in stripped}


def _padded_finding(padded: dict[str, str], first: dict[str, int], delimiter: str | None) -> Finding:
    shown_names = list(padded.items())[:MAX_EXAMPLES]
    more = f" and {len(padded) - MAX_EXAMPLES} more" if len(padded) > MAX_EXAMPLES else ""
    listed = ", ".join(f"{as_read!r} (position {first[as_read] + 1})" for _, as_read in shown_names)
    declared = ", ".join(repr(name) for name, _ in shown_names)
    if delimiter is not None:
        fix = (
            f"Remove the spaces around the delimiters ({delimiter_name(delimiter)}) in the header, and in "
            "the rows too: a category or text value keeps the spaces around it."
        )
    else:
        fix = "Write the file again with the columns named without the spaces."
    plural = "s" if len(padded) > 1 else ""
    message = (
        f"The header (line 1) has spaces around {len(padded)} column name{plural}: {listed}{more}. Column "
        f"names must match the contract exactly: {declared}{more}. {fix}"
    )
    examples = [{"line": 1, "value": as_read} for _, as_read in shown_names]
    return error(f.HEADER_PADDED_NAMES, message, examples, count=len(padded))


def _extra(unexplained: list[str], first: dict[str, int], contract: DatasetContract) -> list[Finding]:
    severity: f.Severity = "error" if contract.extra_columns == "reject" else "warning"
    consequence = (
        "The contract rejects undeclared columns: remove them from the file or declare them."
        if severity == "error"
        else "They are not kept in the dataset version."
    )
    if len(unexplained) > MAX_EXTRA_FINDINGS:
        listed = ", ".join(
            f"{shown(name)} (position {first[name] + 1})" for name in unexplained[:MAX_EXAMPLES]
        )
        count = f"{len(unexplained):,} columns are"
        message = f"{count} not declared in the contract, among them {listed}. {consequence}"
        examples = [{"line": 1, "value": json_value(name)} for name in unexplained[:MAX_EXAMPLES]]
        return [Finding(f.HEADER_EXTRA_COLUMN, severity, None, len(unexplained), message, examples)]
    findings = []
    for name in unexplained:
        where = f"{shown(name)} (position {first[name] + 1})"
        message = f"Column {where} is not declared in the contract. {consequence}"
        examples = [{"line": 1, "value": json_value(name)}]
        findings.append(Finding(f.HEADER_EXTRA_COLUMN, severity, as_listed(name), 1, message, examples))
    return findings
