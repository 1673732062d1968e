"""Does the validator find the same violations and compute the same profile as the pandas baseline?

Compared, on the good file: row count; per column the count of values and of nulls, min and max, mean
and standard deviation (relative 1e-9), category frequencies; and the validator's 101 quantiles must
be within 0.5% in rank of the exact ones (measured against the data itself, read in full here). On
the bad file: per column, the number of bad cells the validator reports equals the number of rows
pandera fails, and the undeclared column is flagged by both.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.compute as pc
import pyarrow.csv as pacsv

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from domain.data.contract import DatasetContract, load_contract  # noqa: E402
from domain.data.validation.convert import read_type  # noqa: E402

PROBABILITIES = np.linspace(0.0, 1.0, 101)
MAX_RANK_ERROR = 0.005


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def rank_error(values: np.ndarray, quantiles: list[float]) -> float:
    """Largest distance between p and the interval of ranks the reported quantile has in the data."""
    ordered = np.sort(values)
    q = np.asarray(quantiles, dtype=np.float64)
    below = np.searchsorted(ordered, q, side="left") / len(ordered)
    at_or_below = np.searchsorted(ordered, q, side="right") / len(ordered)
    return float(np.maximum(0, np.maximum(below - PROBABILITIES, PROBABILITIES - at_or_below)).max())


def compare_profiles(
    path: Path, contract: DatasetContract, ours: dict[str, Any], theirs: dict[str, Any]
) -> dict[str, Any]:
    """Compare the validator's profile with the baseline's on the same (good) CSV file."""
    problems: list[str] = []
    if ours["rows"] != theirs["rows"]:
        problems.append(f"rows: {ours['rows']} != {theirs['rows']}")
    numeric = [c for c in contract.columns if c.type in ("integer", "float")]
    table = pacsv.read_csv(
        path,
        convert_options=pacsv.ConvertOptions(
            column_types={c.name: read_type(c) for c in numeric},
            include_columns=[c.name for c in numeric],
            null_values=contract.csv.null_values,
            strings_can_be_null=True,
        ),
    )
    worst = 0.0
    for column in contract.columns:
        mine, base = ours["columns"][column.name], theirs["columns"][column.name]
        for key in ("count", "nulls"):
            if mine[key] != base[key]:
                problems.append(f"{column.name}.{key}: {mine[key]} != {base[key]}")
        if column.type in ("integer", "float"):
            for key in ("min", "max", "mean", "std"):
                if not _close(mine[key], base[key]):
                    problems.append(f"{column.name}.{key}: {mine[key]} != {base[key]}")
            values = table.column(column.name)
            values = pc.drop_null(values).to_numpy() if values.null_count else values.to_numpy()
            error = rank_error(np.asarray(values, dtype=np.float64), mine["quantiles"])
            worst = max(worst, error)
            if error > MAX_RANK_ERROR:
                problems.append(f"{column.name}.quantiles: rank error {error:.4f}")
        else:
            # The validator lists declared categories that never occur with a count of 0; pandas does not.
            mine_counts = {k: v for k, v in mine["frequencies"].items() if v}
            base_counts = {k: v for k, v in base["frequencies"].items() if v}
            if mine_counts != base_counts:
                problems.append(f"{column.name}.frequencies differ")
    return {"agrees": not problems, "problems": problems, "max_quantile_rank_error": worst}


def compare_findings(
    contract: DatasetContract, ours: list[dict[str, Any]], theirs: dict[str, Any]
) -> dict[str, Any]:
    """Compare violations on the bad file: bad cells per column, and the undeclared column."""
    cells: dict[str, int] = {}
    for finding in ours:
        if finding["check"].startswith("value.") and finding["column"]:
            cells[finding["column"]] = cells.get(finding["column"], 0) + finding["count"]
    extra_ours = sorted(f["column"] for f in ours if f["check"] == "header.extra_column")
    extra_theirs = sorted(x.split(":", 1)[1] for x in theirs["frame"] if x.startswith("column_in_schema"))
    problems = [
        f"{name}: validator {cells.get(name, 0)} bad cells, baseline "
        f"{theirs['rows_per_column'].get(name, 0)} rows"
        for name in contract.column_names
        if cells.get(name, 0) != theirs["rows_per_column"].get(name, 0)
    ]
    if extra_ours != extra_theirs:
        problems.append(f"undeclared columns: validator {extra_ours}, baseline {extra_theirs}")
    return {
        "agrees": not problems and bool(cells),
        "problems": problems,
        "validator_bad_cells": cells,
        "baseline_bad_rows": theirs["rows_per_column"],
    }


def main() -> None:
    """``_agreement.py CSV VALIDATOR.json BASELINE.json VALIDATOR_BAD.json BASELINE_BAD.json``: "
    "print the verdict."""
    csv_path, *runs = sys.argv[1:]
    validator, baseline, validator_bad, baseline_bad = (
        json.loads(Path(p).read_text())["result"] for p in runs
    )
    contract = load_contract(ROOT / "contracts" / "churn.yaml")
    print(
        json.dumps(
            {
                "profile": compare_profiles(
                    Path(csv_path), contract, validator["profile"], baseline["profile"]
                ),
                "findings": compare_findings(contract, validator_bad["findings"], baseline_bad["failures"]),
            }
        )
    )


if __name__ == "__main__":
    main()
