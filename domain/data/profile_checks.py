"""Statistical checks of a new dataset version against the profile of the previous accepted version.

These compare profiles only (no data), so they are pure and cheap. What each check means:

``drift.row_count_drop``
    The new version has fewer than ``(1 - max_drop_fraction)`` times the previous version's rows:
    often a partial export.
``drift.null_rate_spike``
    A column's share of nulls rose by more than ``max_increase`` (absolute: 0.05 means from 1% to
    more than 6%): often a broken join or a source system change.
``drift.new_categories``
    A ``category`` or ``boolean`` column has values the previous version never had, even if the
    contract allows them: a model trained on the previous version has never seen them. Free-text
    ``string`` columns are not checked, because their profile keeps only the most frequent values.

Each check's ``action`` in the contract makes its findings errors (``reject``), warnings (``warn``),
or turns it off (``off``). Columns absent from either profile, or whose type changed, are skipped.
"""

from __future__ import annotations

from typing import Any

from domain.data.contract import DatasetContract
from domain.data.validation import findings as f
from domain.data.validation.findings import Finding, Severity


def _severity(action: str) -> Severity:
    return "error" if action == "reject" else "warning"


def _null_rate(column: dict[str, Any]) -> float | None:
    count, nulls = column.get("count"), column.get("nulls")
    if not isinstance(count, int) or not isinstance(nulls, int) or count + nulls == 0:
        return None
    return nulls / (count + nulls)


def _row_count_drop(
    previous: dict[str, Any], current: dict[str, Any], contract: DatasetContract
) -> list[Finding]:
    rule = contract.checks.row_count_drop
    before, now = previous.get("rows"), current.get("rows")
    if rule.action == "off" or not isinstance(before, int) or not isinstance(now, int) or before <= 0:
        return []
    if now >= before * (1 - rule.max_drop_fraction):
        return []
    drop = 1 - now / before
    message = (
        f"This version has {now:,} rows, {drop:.0%} fewer than the previous accepted version ({before:,}); "
        f"the contract allows a drop of at most {rule.max_drop_fraction:.0%}. If rows are missing, upload "
        "the complete dataset; if the drop is expected, raise checks.row_count_drop.max_drop_fraction."
    )
    examples = [{"value": now, "previous": before}]
    return [Finding(f.DRIFT_ROW_COUNT_DROP, _severity(rule.action), None, before - now, message, examples)]


def _null_rate_spikes(
    previous: dict[str, Any], current: dict[str, Any], contract: DatasetContract
) -> list[Finding]:
    rule = contract.checks.null_rate_spike
    if rule.action == "off":
        return []
    result = []
    for name, before, now in _pairs(previous, current, contract):
        old, new = _null_rate(before), _null_rate(now)
        if old is None or new is None or new - old <= rule.max_increase:
            continue
        message = (
            f"The share of empty values in column {name!r} rose from {old:.1%} to {new:.1%} "
            f"(+{(new - old) * 100:.1f} points; the contract allows +{rule.max_increase * 100:.1f}). "
            "Check the export or join that produces this column."
        )
        examples = [{"value": round(new, 6), "previous": round(old, 6)}]
        severity = _severity(rule.action)
        result.append(Finding(f.DRIFT_NULL_RATE_SPIKE, severity, name, int(now["nulls"]), message, examples))
    return result


def _new_categories(
    previous: dict[str, Any], current: dict[str, Any], contract: DatasetContract
) -> list[Finding]:
    rule = contract.checks.new_categories
    if rule.action == "off":
        return []
    result = []
    for name, before, now in _pairs(previous, current, contract):
        if contract.column(name).type not in ("category", "boolean"):
            continue
        seen = {value for value, count in (before.get("frequencies") or {}).items() if count}
        new = {
            value: count
            for value, count in (now.get("frequencies") or {}).items()
            if count and value not in seen
        }
        if not new:
            continue
        ordered = sorted(new.items(), key=lambda item: -item[1])[:5]
        listed = ", ".join(f"{value!r} ({count:,} rows)" for value, count in ordered)
        message = (
            f"Column {name!r} has values the previous accepted version did not have: {listed}. Models "
            "trained on earlier versions have never seen them; retrain, or check where they come from."
        )
        examples = [{"value": value, "count": count} for value, count in ordered]
        severity = _severity(rule.action)
        result.append(Finding(f.DRIFT_NEW_CATEGORIES, severity, name, sum(new.values()), message, examples))
    return result


def _pairs(
    previous: dict[str, Any], current: dict[str, Any], contract: DatasetContract
) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    before_columns = previous.get("columns") or {}
    now_columns = current.get("columns") or {}
    pairs = []
    for name in contract.column_names:
        before, now = before_columns.get(name), now_columns.get(name)
        if isinstance(before, dict) and isinstance(now, dict) and before.get("type") == now.get("type"):
            pairs.append((name, before, now))
    return pairs


def compare_with_previous(
    previous_profile: dict[str, Any], current_profile: dict[str, Any], contract: DatasetContract
) -> list[Finding]:
    """Run the contract's statistical checks of a new version against the previous accepted one.

    Parameters
    ----------
    previous_profile : dict
        Profile of the previous accepted version (:mod:`domain.data.validation.profile` format).
    current_profile : dict
        Profile of the version being validated.
    contract : DatasetContract
        Gives the thresholds and actions (``contract.checks``).

    Returns
    -------
    list of Finding
        ``drift.row_count_drop``, ``drift.null_rate_spike`` and ``drift.new_categories`` findings,
        errors or warnings according to each check's action.
    """
    return (
        _row_count_drop(previous_profile, current_profile, contract)
        + _null_rate_spikes(previous_profile, current_profile, contract)
        + _new_categories(previous_profile, current_profile, contract)
    )
