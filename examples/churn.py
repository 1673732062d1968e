"""Generate the demo customer-churn dataset described by ``contracts/churn.yaml``.

Deterministic for a given seed and row count, in bounded memory (rows are made in chunks whose
random streams are derived from ``(seed, chunk index)``), so the benchmark can make a 4 GB file the
same way as a unit test makes 200 rows. The target depends on the features through a logistic model
plus noise, so a model trained later has something real to learn (AUC about 0.8).

Usage::

    python examples/churn.py --rows 100000 --format csv --out churn.csv
    python examples/churn.py --rows 10000 --format csv --variant bad --out churn-bad.csv
    python examples/churn.py --demo examples/data        # good csv, csv.gz, parquet and bad files
"""

from __future__ import annotations

import argparse
import gzip
import io
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

Format = Literal["csv", "csv.gz", "parquet"]
Variant = Literal["good", "bad"]
FORMATS: tuple[Format, ...] = ("csv", "csv.gz", "parquet")
CHUNK_ROWS = 100_000
NULL_RATE = 0.01

CATEGORIES: dict[str, list[str]] = {
    "contract_type": ["month-to-month", "one-year", "two-year"],
    "payment_method": ["credit-card", "bank-transfer", "electronic-check", "mailed-check"],
    "region": ["north", "south", "east", "west", "central"],
    "plan": ["basic", "standard", "premium", "enterprise"],
    "acquisition_channel": ["web", "store", "partner", "phone", "referral"],
}
# The columns contracts/churn.yaml declares nullable; each gets about NULL_RATE nulls.
NULLABLE = (
    "total_charges",
    "avg_session_minutes",
    "days_since_last_login",
    "data_usage_gb",
    "satisfaction_score",
    "acquisition_channel",
)

# Where the bad variant puts its violations: (column, 0-based data row, value written in the file).
# Rows are fixed so tests and the README can point at them; they are spread over the file so that
# more than one batch sees violations.
BAD_CELLS: list[tuple[str, int, str]] = [
    ("age", 3, "forty-two"),  # value.type
    ("age", 11, "150"),  # value.range (max 110)
    ("monthly_charges", 7, "-12.5"),  # value.range (min 0)
    ("tenure_months", 5, ""),  # value.null (not nullable)
    ("plan", 9, "diamond"),  # value.category
    ("discount_pct", 13, "NaN"),  # value.nan_inf
    ("monthly_charges", 15, "inf"),  # value.nan_inf
    ("sessions_30d", 17, "12.5"),  # value.type (integer column)
]
BAD_EXTRA_COLUMN = "notes"  # header.extra_column (the contract rejects extra columns)
# What ``drifted`` moves: two numeric features and a categorical one. None of them enters the churn model
# below, so a model trained on this data keeps its predictions' distribution when they move.
DRIFTED = ("age", "data_usage_gb", "region")


def _chunk(rows: int, start: int, seed: int) -> pa.Table:
    """Make ``rows`` rows starting at global row ``start`` (one random stream per chunk)."""
    rng = np.random.default_rng([seed, start // CHUNK_ROWS])
    n = rows
    contract_type = rng.choice(3, size=n, p=[0.55, 0.25, 0.20])
    payment = rng.choice(4, size=n, p=[0.35, 0.25, 0.25, 0.15])
    region = rng.choice(5, size=n)
    plan = rng.choice(4, size=n, p=[0.4, 0.35, 0.2, 0.05])
    channel = rng.choice(5, size=n, p=[0.4, 0.2, 0.15, 0.15, 0.1])

    age = np.clip(rng.normal(44, 14, n).round(), 18, 95).astype(np.int64)
    tenure = np.clip(rng.exponential(30, n).round() + 12 * contract_type, 0, 600).astype(np.int64)
    monthly = np.round(np.clip(rng.normal(40 + 25 * plan, 12, n), 5, None), 2)
    total = np.round(monthly * np.maximum(tenure, 1) * rng.uniform(0.9, 1.05, n), 2)
    support = rng.poisson(0.8 + 0.5 * (plan == 0), n).astype(np.int64)
    products = (1 + rng.poisson(0.7 + 0.4 * plan, n)).clip(1, 20).astype(np.int64)
    session = np.round(rng.gamma(2.0, 6.0, n), 2)
    sessions = rng.poisson(rng.gamma(2.0, 8.0, n)).astype(np.int64)
    last_login = np.minimum(rng.geometric(0.15, n) - 1, 3650).astype(np.int64)
    data_gb = np.round(rng.lognormal(1.5, 0.8, n), 3)
    late = rng.binomial(12, 0.05 + 0.05 * (payment == 2), n).astype(np.int64)
    discount = np.round(np.where(rng.random(n) < 0.3, rng.uniform(0, 30, n), 0.0), 1)
    satisfaction = np.round(np.clip(rng.normal(7 - 0.6 * support, 1.8, n), 0, 10), 1)
    referrals = rng.poisson(0.3, n).astype(np.int64)

    logit = (
        -1.2
        + 1.3 * (contract_type == 0)
        - 0.9 * (contract_type == 2)
        - 0.025 * np.minimum(tenure, 72)
        + 0.35 * support
        + 0.45 * late
        - 0.3 * (satisfaction - 7)
        + 0.01 * (monthly - 60)
        + 0.04 * np.minimum(last_login, 60)
        - 0.4 * (products - 1)
        - 0.03 * discount
        + 0.5 * (payment == 2)
        - 0.3 * referrals
        + rng.normal(0, 0.7, n)
    )
    churned = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int64)

    def nulls() -> np.ndarray:
        return rng.random(n) < NULL_RATE

    def category(name: str, codes: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
        return pa.DictionaryArray.from_arrays(
            pa.array(codes.astype(np.int32), mask=mask), pa.array(CATEGORIES[name])
        )

    columns: dict[str, pa.Array] = {
        "age": pa.array(age),
        "tenure_months": pa.array(tenure),
        "monthly_charges": pa.array(monthly),
        "total_charges": pa.array(total, mask=nulls()),
        "support_calls_90d": pa.array(support),
        "num_products": pa.array(products),
        "avg_session_minutes": pa.array(session, mask=nulls()),
        "sessions_30d": pa.array(sessions),
        "days_since_last_login": pa.array(last_login, mask=nulls()),
        "data_usage_gb": pa.array(data_gb, mask=nulls()),
        "late_payments_12m": pa.array(late),
        "discount_pct": pa.array(discount),
        "satisfaction_score": pa.array(satisfaction, mask=nulls()),
        "referrals": pa.array(referrals),
        "contract_type": category("contract_type", contract_type),
        "payment_method": category("payment_method", payment),
        "region": category("region", region),
        "plan": category("plan", plan),
        "acquisition_channel": category("acquisition_channel", channel, nulls()),
        "churned": pa.array(churned),
    }
    return pa.table(columns)


def _spoil(table: pa.Table, start: int) -> pa.Table:
    """Write the BAD_CELLS that fall in this chunk into it, as text, plus the extra column."""
    for name, row, value in BAD_CELLS:
        if not start <= row < start + table.num_rows:
            continue
        index = table.schema.get_field_index(name)
        cells = table.column(index).cast(pa.string()).to_pylist()
        cells[row - start] = None if value == "" else value
        table = table.set_column(index, name, pa.array(cells, pa.string()))
    notes = pa.array([f"note {start + i}" if i % 97 == 0 else None for i in range(table.num_rows)])
    return table.append_column(BAD_EXTRA_COLUMN, notes)


def chunks(rows: int, seed: int = 7, variant: Variant = "good") -> Iterator[pa.Table]:
    """Yield the dataset as Arrow tables of at most ``CHUNK_ROWS`` rows.

    Parameters
    ----------
    rows : int
        Total number of data rows.
    seed : int
        Random seed; the same (rows, seed, variant) always gives the same data.
    variant : {"good", "bad"}
        ``bad`` adds the violations listed in ``BAD_CELLS`` and an undeclared column.
    """
    for start in range(0, rows, CHUNK_ROWS):
        table = _chunk(min(CHUNK_ROWS, rows - start), start, seed)
        if variant == "bad":
            table = _spoil(table, start).cast(_bad_schema())
        yield table


def plain(table: pa.Table) -> pa.Table:
    """The table with its category columns as plain strings (what an app would send)."""
    return pa.table(
        {
            name: column.cast(pa.string()) if pa.types.is_dictionary(column.type) else column
            for name, column in zip(table.column_names, table.columns, strict=True)
        }
    )


def request_csv(table: pa.Table, *, header: bool = True) -> bytes:
    """Rows as the CSV body of a request to the endpoint (the columns as they are in ``table``)."""
    out = io.BytesIO()
    pacsv.write_csv(plain(table), out, pacsv.WriteOptions(include_header=header))
    return out.getvalue()


def drifted(table: pa.Table, seed: int) -> pa.Table:
    """``table`` with the ``DRIFTED`` features moved by amounts a drift monitor must flag.

    Age up 12 years (at most 110, the contract's bound), data usage tripled, and the region "north" for
    about 80% of the rows; the other columns as they are. For demos and tests of drift monitoring.
    """
    rng = np.random.default_rng(seed)
    age = pc.min_element_wise(pc.add(table.column("age"), 12), 110)
    usage = pc.multiply(table.column("data_usage_gb"), 3.0)
    region = pc.cast(table.column("region"), pa.string()).to_numpy(zero_copy_only=False)
    north = pa.array(np.where(rng.random(table.num_rows) < 0.8, "north", region), pa.string())
    for name, values in (("age", age), ("data_usage_gb", usage), ("region", north)):
        table = table.set_column(table.schema.get_field_index(name), name, values)
    return table


# Where ``concept_changed`` moves the target: a segment the drift moves traffic into (``drifted`` sends ~80%
# of the rows to the north region), so that drifted traffic carries the concept change with it.
CONCEPT_SEGMENT = ("region", "north")


def concept_changed(table: pa.Table, seed: int, *, churn_rate: float = 0.75) -> pa.Table:
    """``table`` with its ``churned`` redrawn in ``CONCEPT_SEGMENT``: a concept change the model has not seen.

    A rival's offer in the north: customers there churn with probability ``churn_rate`` whatever their
    contract, calls or charges, so that a model trained on the generator's data ranks them no better than
    chance and predicts "stays" for most of them (its realized roc_auc and accuracy on such rows fall well
    under 0.65). The other rows keep their ``churned``. Labels for demos and tests of realized
    performance and of retraining on labels.

    Parameters
    ----------
    table : pyarrow.Table
        Rows of the generator (``chunks``, ``drifted``), with ``churned`` and ``region``.
    seed : int
        Random seed (deterministic output).
    churn_rate : float
        The probability of churn in the segment.
    """
    column, value = CONCEPT_SEGMENT
    matches = pc.equal(pc.cast(table.column(column), pa.string()), value)
    segment = pc.fill_null(matches, False).to_numpy(zero_copy_only=False)
    draws = np.random.default_rng(seed).random(table.num_rows) < churn_rate
    churned = table.column("churned").to_numpy()
    changed = np.where(segment, draws.astype(np.int64), churned)
    return table.set_column(table.schema.get_field_index("churned"), "churned", pa.array(changed))


def _bad_schema() -> pa.Schema:
    # Every chunk of the bad variant must share one schema: spoiled columns are text in all of them.
    schema = _chunk(1, 0, 0).schema
    spoiled = {name for name, _, _ in BAD_CELLS}
    fields = [pa.field(f.name, pa.string()) if f.name in spoiled else f for f in schema]
    return pa.schema([*fields, pa.field(BAD_EXTRA_COLUMN, pa.string())])


def generate(
    rows: int, seed: int, path: str | Path, fmt: Format = "csv", *, variant: Variant = "good"
) -> Path:
    """Write the churn dataset to ``path``.

    Parameters
    ----------
    rows : int
        Number of data rows.
    seed : int
        Random seed (deterministic output).
    path : str or Path
        Output file; parent folders are created.
    fmt : {"csv", "csv.gz", "parquet"}
        File format. CSV has a header row, ``,`` delimiters and empty fields for nulls.
    variant : {"good", "bad"}
        ``bad`` writes deliberate violations (see ``BAD_CELLS``) for demos and tests.

    Returns
    -------
    Path
        The path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    schema = _bad_schema() if variant == "bad" else _chunk(1, 0, 0).schema
    if fmt == "parquet":
        with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
            for table in chunks(rows, seed, variant):
                writer.write_table(table, row_group_size=CHUNK_ROWS)
    elif fmt in ("csv", "csv.gz"):
        # No quoting: none of the values contains a delimiter, and this is how most tools write CSV.
        options = pacsv.WriteOptions(quoting_style="none")
        plain = tmp.with_name(tmp.name + ".csv")
        with pacsv.CSVWriter(plain, schema, write_options=options) as writer:
            for table in chunks(rows, seed, variant):
                writer.write_table(table)
        if fmt == "csv.gz":
            with plain.open("rb") as source, gzip.open(tmp, "wb", compresslevel=6) as target:
                shutil.copyfileobj(source, target, 1 << 20)
            plain.unlink()
        else:
            plain.replace(tmp)
    else:
        raise ValueError(f"unknown format {fmt!r}; use one of {FORMATS}")
    tmp.replace(path)  # atomic: a cached file is either complete or absent
    return path


def main(argv: list[str] | None = None) -> None:
    """Command line entry point (see the module docstring)."""
    parser = argparse.ArgumentParser(description="Generate the demo churn dataset.")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--format", choices=FORMATS, default="csv")
    parser.add_argument("--variant", choices=("good", "bad"), default="good")
    parser.add_argument("--out", type=Path, help="output file")
    parser.add_argument(
        "--demo",
        type=Path,
        metavar="DIR",
        help="write churn.csv, churn.csv.gz, churn.parquet and churn-bad.csv into DIR",
    )
    args = parser.parse_args(argv)
    if args.demo:
        for fmt in FORMATS:
            print(generate(args.rows, args.seed, args.demo / f"churn.{fmt}", fmt))
        print(generate(args.rows, args.seed, args.demo / "churn-bad.csv", "csv", variant="bad"))
        return
    if args.out is None:
        parser.error("give --out FILE or --demo DIR")
    print(generate(args.rows, args.seed, args.out, args.format, variant=args.variant))


if __name__ == "__main__":
    main()
