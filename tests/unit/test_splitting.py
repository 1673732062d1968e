"""The split: the same rows in the same split every time, usable splits or a clear reason why not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from domain.data.contract import DatasetContract, parse_contract
from domain.data.validation.convert import snapshot_schema
from domain.training.config import TrainingConfig, parse_training_config
from domain.training.splitting import SPLITS, SplitError, _fnv1a, assign_splits, split_batches


def make_contract(target: dict[str, Any] | None = None) -> DatasetContract:
    return parse_contract(
        {
            "name": "accounts",
            "target": "y",
            "columns": [
                {"name": "id", "type": "string", "nullable": True},
                {"name": "x", "type": "float", "nullable": True},
                {"name": "kind", "type": "category", "categories": ["a", "b", "c"]},
                target or {"name": "y", "type": "integer", "min": 0, "max": 1, "nullable": True},
            ],
        }
    )


def make_table(rows: int, seed: int = 0, contract: DatasetContract | None = None, **columns: Any) -> pa.Table:
    rng = np.random.default_rng(seed)
    data: dict[str, Any] = {
        "id": [f"customer-{i}" for i in range(rows)],
        "x": rng.normal(size=rows),
        "kind": rng.choice(["a", "b", "c"], rows),
        "y": rng.integers(0, 2, rows),
    }
    data.update(columns)
    return pa.table(data).cast(snapshot_schema(contract or make_contract()))


def config(contract: DatasetContract | None = None, **split: Any) -> TrainingConfig:
    data = {"split": {"min_rows_per_split": 5, **split}}
    return parse_training_config(data, contract=contract or make_contract())


def run_split(
    tmp_path: Path, table: pa.Table, cfg: TrainingConfig, batch_rows: int = 1000
) -> dict[str, pa.Table]:
    sinks = {name: tmp_path / f"{name}.parquet" for name in SPLITS}
    split_batches(table.to_batches(max_chunksize=batch_rows), make_contract(), cfg, sinks)
    return {name: pq.read_table(path) for name, path in sinks.items()}


def test_the_fnv1a_hash_matches_the_published_test_vectors() -> None:
    # Pinned: a change here would move rows between splits of every dataset already trained on.
    hashes = _fnv1a(pa.array(["", "a", "foobar"]))

    assert hashes.tolist() == [0xCBF29CE484222325, 0xAF63DC4C8601EC8C, 0x85944171F73967E8]


def test_a_row_lands_in_the_same_split_however_the_snapshot_is_batched() -> None:
    table = make_table(2_000)
    cfg = config(key_column="id")

    whole = assign_splits(table.to_batches()[0], cfg)
    pieces = np.concatenate([assign_splits(b, cfg) for b in table.to_batches(max_chunksize=7)])

    assert np.array_equal(whole, pieces)


def test_the_shares_follow_the_fractions() -> None:
    table = make_table(20_000)

    codes = assign_splits(table.to_batches()[0], config(validation_fraction=0.1, test_fraction=0.25))

    shares = np.bincount(codes, minlength=3) / len(codes)
    assert shares == pytest.approx([0.65, 0.1, 0.25], abs=0.015)


def test_rows_with_the_same_key_share_a_split_whatever_their_other_values() -> None:
    keys = [f"k{i % 50}" for i in range(1_000)]  # 50 keys, 20 different rows each
    table = make_table(1_000, id=keys)

    codes = assign_splits(table.to_batches()[0], config(key_column="id"))

    by_key: dict[str, set[int]] = {}
    for key, code in zip(keys, codes.tolist(), strict=True):
        by_key.setdefault(key, set()).add(code)
    assert all(len(splits) == 1 for splits in by_key.values())
    assert len({next(iter(s)) for s in by_key.values()}) == 3  # and the keys do spread over all splits


def test_without_a_key_identical_rows_share_a_split_and_rows_that_differ_spread() -> None:
    one = make_table(1, seed=3)
    table = pa.concat_tables([one] * 20 + [make_table(500, seed=4)])

    codes = assign_splits(table.combine_chunks().to_batches()[0], config())

    assert len(set(codes[:20].tolist())) == 1
    assert len(set(codes[20:].tolist())) == 3


def test_equal_values_hash_alike_whatever_their_encoding() -> None:
    table = make_table(300)
    as_text = table.set_column(2, "kind", table.column("kind").cast(pa.string()))
    cfg = config(key_column="kind")

    assert np.array_equal(
        assign_splits(table.to_batches()[0], cfg), assign_splits(as_text.to_batches()[0], cfg)
    )


def test_the_seed_reshuffles_and_a_larger_test_fraction_keeps_every_test_row() -> None:
    batch = make_table(5_000).to_batches()[0]
    base = assign_splits(batch, config(key_column="id"))
    reseeded = assign_splits(batch, config(key_column="id", seed=1))
    larger = assign_splits(batch, config(key_column="id", test_fraction=0.3))

    assert (base != reseeded).mean() > 0.3
    assert np.all(larger[base == 2] == 2)  # every test row stays in test
    assert np.all(base[larger == 2] != 0)  # the new test rows come from validation, never from train


def test_rows_with_a_null_key_are_spread_by_their_values_not_piled_into_one_split() -> None:
    table = make_table(3_000, id=[None] * 3_000)

    codes = assign_splits(table.to_batches()[0], config(key_column="id"))

    assert len(set(codes.tolist())) == 3


def test_the_files_hold_every_labelled_row_once_in_the_snapshot_schema(tmp_path: Path) -> None:
    y = np.random.default_rng(1).integers(0, 2, 3_000).astype(object)
    y[::100] = None  # 30 rows without a label
    table = make_table(3_000, y=y)
    sinks = {name: tmp_path / f"{name}.parquet" for name in SPLITS}

    summary = split_batches(
        table.to_batches(max_chunksize=256), make_contract(), config(key_column="id"), sinks
    )

    parts = {name: pq.read_table(path) for name, path in sinks.items()}
    ids = [i for part in parts.values() for i in part.column("id").to_pylist()]
    assert len(ids) == len(set(ids)) == 2_970
    assert summary.dropped_null_target == 30
    assert summary.rows == {name: part.num_rows for name, part in parts.items()}
    assert all(part.schema.equals(snapshot_schema(make_contract())) for part in parts.values())
    counted = {s: sum(summary.target[s].values()) for s in SPLITS}
    assert counted == summary.rows
    assert set(summary.target["train"]) == {"0", "1"}
    assert summary.to_dict()["key_column"] == "id"


def test_a_second_run_writes_the_same_files(tmp_path: Path) -> None:
    table = make_table(1_500)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()

    first = run_split(tmp_path / "a", table, config(), batch_rows=100)
    second = run_split(tmp_path / "b", table, config(), batch_rows=1_500)

    assert all(first[name].equals(second[name]) for name in SPLITS)


def test_a_regression_target_is_summarized_by_count_and_mean(tmp_path: Path) -> None:
    contract = make_contract({"name": "y", "type": "float"})
    values = np.arange(1_000, dtype=float)
    table = make_table(1_000, contract=contract, y=values)
    sinks = {name: tmp_path / f"{name}.parquet" for name in SPLITS}

    summary = split_batches([table], contract, config(contract), sinks)

    assert sum(summary.target[s]["count"] for s in SPLITS) == 1_000
    total = sum(summary.target[s]["count"] * summary.target[s]["mean"] for s in SPLITS)
    assert total == pytest.approx(values.sum())


def split_error(tmp_path: Path, table: pa.Table, cfg: TrainingConfig) -> SplitError:
    sinks = {name: tmp_path / f"{name}.parquet" for name in SPLITS}
    with pytest.raises(SplitError) as caught:
        split_batches([table], make_contract(), cfg, sinks)
    return caught.value


def test_too_few_rows_fail_with_the_split_and_the_minimum(tmp_path: Path) -> None:
    error = split_error(tmp_path, make_table(40), config(min_rows_per_split=10))

    assert "the validation split has" in str(error)
    assert (
        "fewer than min_rows_per_split (10): 40 usable rows are too few for a validation share of 15%"
        in str(error)
    )
    assert error.summary.rows["train"] > 0


def test_a_target_with_a_single_class_fails(tmp_path: Path) -> None:
    error = split_error(tmp_path, make_table(500, y=np.zeros(500, dtype=int)), config())

    assert error.reasons == [
        "the target 'y' has a single class (0) in all 500 rows; a classifier needs at least two."
    ]


def test_a_target_null_in_every_row_fails(tmp_path: Path) -> None:
    error = split_error(tmp_path, make_table(200, y=[None] * 200), config())

    assert error.reasons == ["the target 'y' is null in all 200 rows."]
    assert str(error).startswith("the snapshot cannot be split: the target 'y' is null in all 200 rows.")


def test_a_feature_null_in_every_training_row_fails_and_is_named(tmp_path: Path) -> None:
    error = split_error(tmp_path, make_table(500, x=[None] * 500), config())

    assert len(error.reasons) == 1
    assert error.reasons[0].startswith("the feature 'x' is null in all ")


def test_a_split_with_a_single_class_fails(tmp_path: Path) -> None:
    table = make_table(400, y=np.zeros(400, dtype=int))
    codes = assign_splits(table.to_batches()[0], config(key_column="id"))
    labels = np.where(codes == 0, np.arange(400) % 2, 0)  # both classes in train only
    error = split_error(tmp_path, table.set_column(3, "y", pa.array(labels)), config(key_column="id"))

    assert "the validation split has a single class (0) of the target 'y'." in error.reasons
    assert "the test split has a single class (0) of the target 'y'." in error.reasons


def test_a_string_column_is_not_a_feature_so_it_may_be_all_null(tmp_path: Path) -> None:
    summary = split_batches(
        [make_table(300, id=[None] * 300)],
        make_contract(),
        config(),
        {name: tmp_path / f"{name}.parquet" for name in SPLITS},
    )

    assert sum(summary.rows.values()) == 300


def test_a_batch_without_the_contract_columns_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not the contract's"):
        split_batches(
            [make_table(10).drop_columns(["x"])],
            make_contract(),
            config(),
            {name: tmp_path / f"{name}.parquet" for name in SPLITS},
        )


def test_an_unresolved_configuration_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="parse_training_config"):
        split_batches([], make_contract(), TrainingConfig(), {name: tmp_path / name for name in SPLITS})
