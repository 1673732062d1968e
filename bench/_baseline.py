"""The baseline a user would otherwise write: pandas.read_csv, a pandera schema with the contract's checks,
and the same profile computed with pandas. Benchmark-only: the platform never imports pandas.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from domain.data.contract import Column, DatasetContract

PROBABILITIES = np.linspace(0.0, 1.0, 101)


def _numbers(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series, errors="coerce")


def _column_schema(column: Column) -> pa.Column:
    checks: list[pa.Check] = []
    low, high = column.min, column.max
    if column.type == "integer":
        # Integers are checked value by value rather than coerced: coercing to int64 would fail on the
        # whole column for one bad cell, and would silently truncate 12.5 to 12.
        checks.append(pa.Check(lambda s: _numbers(s) % 1 == 0, name="integer"))
        if low is not None:
            checks.append(pa.Check(lambda s: ~(_numbers(s) < low), name=f"ge({low})"))
        if high is not None:
            checks.append(pa.Check(lambda s: ~(_numbers(s) > high), name=f"le({high})"))
        return pa.Column(None, checks=checks, nullable=column.nullable, coerce=False)
    if low is not None:
        checks.append(pa.Check.ge(low))
    if high is not None:
        checks.append(pa.Check.le(high))
    if column.type == "float" and not column.allow_nan_inf:
        checks.append(pa.Check(lambda s: ~np.isinf(s), name="not_infinite"))
    if column.type == "category":
        checks.append(pa.Check.isin(column.categories))
    dtype: Any = {"float": "float64", "boolean": "bool", "timestamp": "datetime64[ns, UTC]"}.get(
        column.type, "str"
    )
    return pa.Column(dtype, checks=checks, nullable=column.nullable, coerce=True)


def schema_for(contract: DatasetContract) -> pa.DataFrameSchema:
    """The pandera equivalent of the contract's column checks."""
    return pa.DataFrameSchema(
        {column.name: _column_schema(column) for column in contract.columns},
        strict=contract.extra_columns == "reject",
        coerce=True,
    )


def read(path: Path, contract: DatasetContract) -> pd.DataFrame:
    """Read CSV (or Parquet) the way a careful pandas user would: the contract's nulls, categories "
    "as category."""
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    dtypes = {c.name: "category" for c in contract.columns if c.type == "category"}
    return pd.read_csv(
        path,
        sep=contract.csv.delimiter,
        dtype=dtypes,
        na_values=contract.csv.null_values,
        keep_default_na=False,
        true_values=contract.csv.true_values,
        false_values=contract.csv.false_values,
    )


def failures(frame: pd.DataFrame, contract: DatasetContract) -> dict[str, Any]:
    """Run the schema lazily; count failing rows per column, and the frame-level failures (extra columns)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            schema_for(contract).validate(frame, lazy=True)
    except SchemaErrors as errors:
        cases = errors.failure_cases
        rows: dict[str, set[int]] = {}
        checks: dict[str, int] = {}
        frame_level: list[str] = []
        for column, check, index, case in zip(
            cases["column"], cases["check"], cases["index"], cases["failure_case"], strict=True
        ):
            if column is None or pd.isna(column):  # a frame-level failure, e.g. an undeclared column
                frame_level.append(f"{check}:{case}")
                continue
            checks[f"{column}:{check}"] = checks.get(f"{column}:{check}", 0) + 1
            if index is not None and not pd.isna(index):
                rows.setdefault(str(column), set()).add(int(index))
        return {
            "rows_per_column": {k: len(v) for k, v in rows.items()},
            "checks": checks,
            "frame": frame_level,
        }
    return {"rows_per_column": {}, "checks": {}, "frame": []}


def profile(frame: pd.DataFrame, contract: DatasetContract) -> dict[str, Any]:
    """The same statistics as the validator's profile, with pandas."""
    columns: dict[str, Any] = {}
    for column in contract.columns:
        if column.name not in frame:
            continue
        series = frame[column.name]
        entry: dict[str, Any] = {
            "type": column.type,
            "count": int(series.count()),
            "nulls": int(series.isna().sum()),
        }
        if column.type in ("integer", "float"):
            numbers = pd.to_numeric(series, errors="coerce").astype("float64")
            numbers = numbers[np.isfinite(numbers)]
            entry.update(
                min=float(numbers.min()),
                max=float(numbers.max()),
                mean=float(numbers.mean()),
                std=float(numbers.std()),
                quantiles=[float(q) for q in numbers.quantile(PROBABILITIES, interpolation="lower")],
            )
        else:
            entry["frequencies"] = {str(k): int(v) for k, v in series.value_counts().items()}
        columns[column.name] = entry
    return {"rows": len(frame), "columns": columns}


def run(path: Path, contract: DatasetContract) -> dict[str, Any]:
    """Read, validate and profile one file; return failures and profile."""
    frame = read(path, contract)
    return {"rows": len(frame), "failures": failures(frame, contract), "profile": profile(frame, contract)}
