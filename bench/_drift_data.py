"""The drift benchmark's data: a training table, a shifted and an undrifted window, and their captures.

Twenty features of the shapes real tabular data has: 15 numeric (normal, lognormal, integer counts,
uniform, exponential, beta, a bimodal mixture; four with missing values) and 5 categorical (3 to 50
categories with skewed shares, one with missing values), and a predicted label (``yes``/``no``) that
depends on a few of them, as a model's would. The windows are new draws from the same generator: the
undrifted one as it is, the shifted one with three features moved (:data:`SHIFTED`) by amounts both
Evidently's defaults (normed Wasserstein / Jensen-Shannon above 0.1) and ours flag.
"""

from __future__ import annotations

import io
import json
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from domain.data.contract import DatasetContract
from domain.deployment.capture import capture_key, capture_record
from domain.names import capture_uri_prefix

DATASET = "bench-drift"
ENDPOINT = f"mlops-{DATASET}"
PREDICTION = "predicted_label"
LABELS = ("no", "yes")
#: The shifted window's moved features, and how: a normal's mean by 0.5 standard deviations, a
#: lognormal scaled by 1.6 (normed Wasserstein about 0.7), a categorical's top share given to a rare
#: category (Jensen-Shannon distance about 0.3).
SHIFTED = ("num_normal_a", "num_lognormal_a", "cat_12")

Generator = Callable[[np.random.Generator, int], np.ndarray]


def _with_missing(share: float, draw: Generator) -> Generator:
    def generate(rng: np.random.Generator, rows: int) -> np.ndarray:
        values = draw(rng, rows).astype(np.float64)
        values[rng.random(rows) < share] = np.nan
        return values

    return generate


NUMERIC: dict[str, Generator] = {
    "num_normal_a": lambda rng, n: rng.normal(50.0, 10.0, n),
    "num_normal_b": lambda rng, n: rng.normal(0.0, 1.0, n),
    "num_normal_c": _with_missing(0.10, lambda rng, n: rng.normal(-3.0, 2.0, n)),
    "num_lognormal_a": lambda rng, n: rng.lognormal(3.0, 0.75, n),
    "num_lognormal_b": lambda rng, n: rng.lognormal(0.0, 1.2, n),
    "num_lognormal_c": _with_missing(0.05, lambda rng, n: rng.lognormal(8.0, 0.5, n)),
    "count_poisson_3": lambda rng, n: rng.poisson(3.0, n).astype(np.float64),
    "count_poisson_half": lambda rng, n: rng.poisson(0.5, n).astype(np.float64),
    "count_poisson_20": _with_missing(0.02, lambda rng, n: rng.poisson(20.0, n)),
    "count_negbin": lambda rng, n: rng.negative_binomial(2, 0.2, n).astype(np.float64),
    "num_uniform": lambda rng, n: rng.uniform(0.0, 100.0, n),
    "num_exponential": lambda rng, n: rng.exponential(2.0, n),
    "num_beta": lambda rng, n: rng.beta(2.0, 5.0, n),
    "num_bimodal": lambda rng, n: np.where(rng.random(n) < 0.3, rng.normal(-2, 0.5, n), rng.normal(3, 1, n)),
    "num_tenure": _with_missing(0.01, lambda rng, n: rng.integers(0, 72, n)),
}

#: Categorical features: their number of categories, Zipf-like shares, and their missing share.
CATEGORICAL: dict[str, tuple[int, float]] = {
    "cat_3": (3, 0.0),
    "cat_5": (5, 0.0),
    "cat_12": (12, 0.0),
    "cat_25": (25, 0.03),
    "cat_50": (50, 0.0),
}


def _shares(categories: int) -> np.ndarray:
    weights = 1.0 / np.arange(1, categories + 1) ** 0.9
    return np.asarray(weights / weights.sum())


def category_names(feature: str) -> list[str]:
    """The categories of a categorical feature, most frequent first."""
    return [f"{feature}_v{index:02d}" for index in range(CATEGORICAL[feature][0])]


@dataclass(frozen=True)
class Table:
    """One table: numeric features as floats (NaN missing), categorical ones as codes (-1 missing)."""

    numeric: dict[str, np.ndarray]
    categorical: dict[str, np.ndarray]
    predicted: np.ndarray  # codes into LABELS

    @property
    def rows(self) -> int:
        """Rows of the table."""
        return int(self.predicted.size)

    def strings(self, feature: str) -> list[str | None]:
        """A categorical feature's values as text (None for missing), as a parsed request has them."""
        names = category_names(feature)
        return [names[code] if code >= 0 else None for code in self.categorical[feature].tolist()]

    def predicted_labels(self) -> list[str]:
        """The predicted labels as text."""
        return [LABELS[code] for code in self.predicted.tolist()]

    def arrow(self, *, with_prediction: bool = True) -> pa.Table:
        """The table in Arrow: categorical features as dictionary arrays of their names."""
        columns: dict[str, pa.Array] = {
            name: pa.array(values, mask=np.isnan(values)) for name, values in self.numeric.items()
        }
        for name, codes in self.categorical.items():
            indices = pa.array(np.where(codes < 0, 0, codes).astype(np.int32), mask=codes < 0)
            columns[name] = pa.DictionaryArray.from_arrays(indices, pa.array(category_names(name)))
        if with_prediction:
            columns[PREDICTION] = pa.DictionaryArray.from_arrays(
                pa.array(self.predicted.astype(np.int32)), pa.array(list(LABELS))
            )
        return pa.table(columns)


def generate(rows: int, seed: int, *, shifted: bool = False) -> Table:
    """``rows`` rows drawn from the benchmark's distribution (with :data:`SHIFTED` moved if ``shifted``)."""
    rng = np.random.default_rng(seed)
    numeric = {name: draw(rng, rows).astype(np.float64) for name, draw in NUMERIC.items()}
    categorical: dict[str, np.ndarray] = {}
    for name, (count, missing) in CATEGORICAL.items():
        shares = _shares(count)
        if shifted and name in SHIFTED:
            # the most frequent category gives most of its share to the eighth
            moved = shares[0] * 0.8
            shares = shares.copy()
            shares[0] -= moved
            shares[7] += moved
        codes = rng.choice(count, size=rows, p=shares).astype(np.int16)
        if missing:
            codes[rng.random(rows) < missing] = -1
        categorical[name] = codes
    if shifted:
        numeric["num_normal_a"] = numeric["num_normal_a"] + 5.0
        numeric["num_lognormal_a"] = numeric["num_lognormal_a"] * 1.6
    # The model's answer depends on features the shift leaves alone: the predictions do not drift.
    score = 0.8 * numeric["num_normal_b"] - 0.3 * numeric["count_poisson_3"] + rng.normal(0, 1, rows)
    predicted = (score > -0.5).astype(np.int8)
    return Table(numeric, categorical, predicted)


def write_parquet(table: Table, path: Path) -> Path:
    """The table's features (and predicted label) as a Parquet file, for Evidently's process."""
    pq.write_table(table.arrow(), path, compression="snappy")
    return path


#: Integer-valued features, declared as integers (the rest of the numeric ones are floats).
_INTEGERS = ("count_poisson_3", "count_poisson_half", "count_poisson_20", "count_negbin", "num_tenure")


def contract() -> DatasetContract:
    """The benchmark dataset's contract: the features in table order, then the target ``label``."""
    # Every feature may be missing, as in a contract written for live traffic.
    columns: list[dict[str, object]] = [
        {"name": name, "type": "integer" if name in _INTEGERS else "float", "nullable": True}
        for name in NUMERIC
    ]
    columns += [
        {"name": name, "type": "category", "categories": category_names(name), "nullable": True}
        for name in CATEGORICAL
    ]
    columns.append({"name": "label", "type": "category", "categories": list(LABELS)})
    return DatasetContract.model_validate({"name": DATASET, "target": "label", "columns": columns})


def _request_sizes(rng: np.random.Generator, rows: int) -> Iterator[tuple[int, int]]:
    start = 0
    while start < rows:
        size = min(int(rng.integers(1, 101)), rows - start)
        yield start, size
        start += size


def _csv_body(features: pa.Table) -> bytes:
    out = io.BytesIO()
    pacsv.write_csv(features, out, pacsv.WriteOptions(include_header=False))
    return out.getvalue()


def _json_body(features: pa.Table) -> bytes:
    return json.dumps({"instances": features.to_pylist()}, separators=(",", ":")).encode("utf-8")


def write_captures(
    table: Table, folder: Path, *, version: int = 1, start: datetime, seed: int, records_per_file: int = 1000
) -> dict[str, int]:
    """The table as SageMaker data-capture files under ``folder``, one request per record.

    Requests of 1 to 100 rows, every other one a headerless CSV body (the rest a JSON ``instances``
    body of objects), answered with the predicted labels as the endpoint answers; files of
    ``records_per_file`` records under ``capture/<dataset>/v<version>/<endpoint>/AllTraffic/yyyy/mm/dd/hh/``,
    one request per second of inference time from ``start``.

    Returns
    -------
    dict
        ``files``, ``records``, ``rows`` and ``bytes`` written.
    """
    rng = np.random.default_rng(seed)
    features = table.arrow(with_prediction=False)
    features = pa.table(
        {
            name: column.cast(column.type.value_type) if pa.types.is_dictionary(column.type) else column
            for name, column in zip(features.column_names, features.columns, strict=True)
        }
    )
    labels = table.predicted_labels()
    prefix = capture_uri_prefix(DATASET, version)
    lines: list[str] = []
    written = {"files": 0, "records": 0, "rows": 0, "bytes": 0}
    at = opened = start

    def flush() -> None:
        # named by the time it was started, as SageMaker names a capture file
        key = capture_key(prefix, ENDPOINT, "AllTraffic", opened, uuid.UUID(int=int(rng.integers(2**62))).hex)
        path = folder / key
        path.parent.mkdir(parents=True, exist_ok=True)
        text = "\n".join(lines) + "\n"
        path.write_text(text, encoding="utf-8")
        written["files"] += 1
        written["bytes"] += len(text)
        lines.clear()

    for number, (first, size) in enumerate(_request_sizes(rng, table.rows)):
        rows = features.slice(first, size)
        as_csv = number % 2 == 0
        body, content_type = (
            (_csv_body(rows), "text/csv") if as_csv else (_json_body(rows), "application/json")
        )
        answer = {"predictions": [{"prediction": label} for label in labels[first : first + size]]}
        record = capture_record(
            request=body,
            request_type=content_type,
            response=json.dumps(answer, separators=(",", ":")).encode("utf-8"),
            response_type="application/json",
            event_id=str(uuid.UUID(int=int(rng.integers(2**62)))),
            at=at,
        )
        lines.append(json.dumps(record, separators=(",", ":")))
        written["records"] += 1
        written["rows"] += size
        at += timedelta(seconds=1)
        if len(lines) >= records_per_file:
            flush()
            opened = at
    if lines:
        flush()
    return written


def column_checks(columns: Mapping[str, Any]) -> dict[str, Any]:
    """What a table's columns hold, to check a reading of them by: a numeric column's sum and missing
    values, a text column's count per value (``None`` counted as ``"None"``)."""
    checks: dict[str, Any] = {}
    for name, values in columns.items():
        if isinstance(values, np.ndarray):
            checks[name] = {"sum": float(np.nansum(values)), "missing": int(np.isnan(values).sum())}
        else:
            checks[name] = dict(Counter(map(str, values)))
    return checks


def window_start(now: datetime | None = None) -> datetime:
    """The start of the captured window: the top of the hour before ``now`` (UTC)."""
    moment = (now or datetime.now(UTC)).replace(minute=0, second=0, microsecond=0)
    return moment - timedelta(hours=1)
