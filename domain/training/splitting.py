"""A deterministic train / validation / test split of a dataset snapshot, batch by batch.

A row's split depends only on a 64-bit hash of its key (``split.key_column``) or, without a key, of
all its values, and on the configured fractions: the same rows land in the same split every time,
however the snapshot is batched, and identical rows never straddle two splits. Hash ``h`` maps to
``u = (h >> 11) / 2**53`` in [0, 1): ``u < test_fraction`` is test, the next ``validation_fraction``
is validation, the rest train; so growing ``test_fraction`` only moves rows from validation into test.

The hash (stable across machines and library versions; no xxhash on Lambda)
-----------------------------------------------------------------------------
- integer, float, boolean, timestamp values: their 64-bit pattern (int64, IEEE 754 float64 with
  -0.0 folded into 0.0, 0/1, microseconds since the epoch);
- string and category values: FNV-1a 64 over their UTF-8 bytes;
- a null: a fixed constant; each value then goes through the splitmix64 finalizer;
- a row: ``h = mix(h ^ value_hash)`` over its columns in contract order, starting from the seed;
  a key: ``mix(key_hash ^ seed)``. Rows whose key is null fall back to the row hash.

Rows whose target is null cannot be learnt from and are left out (counted in the summary).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from domain.data.contract import DatasetContract
from domain.data.validation.convert import snapshot_schema
from domain.training.config import TrainingConfig, feature_columns

__all__ = ["SPLITS", "SplitError", "SplitSummary", "assign_splits", "split_batches"]

SPLITS: Final = ("train", "validation", "test")
Hashes = npt.NDArray[np.uint64]
Sink = str | Path | BinaryIO

_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)
_NULL = np.uint64(0x6A09E667F3BCC909)  # any fixed constant; this one is sqrt(2)'s fraction bits
_TEST, _VALIDATION, _TRAIN = 2, 1, 0  # codes returned by assign_splits, indexes of SPLITS reversed


class SplitError(ValueError):
    """The snapshot cannot be split into usable train, validation and test sets.

    Attributes
    ----------
    reasons : list of str
        Each problem, in plain English.
    summary : SplitSummary
        What was counted before giving up.
    """

    def __init__(self, reasons: list[str], summary: SplitSummary) -> None:
        super().__init__("the snapshot cannot be split: " + " ".join(reasons))
        self.reasons = reasons
        self.summary = summary


@dataclass
class SplitSummary:
    """Rows per split and the target's balance, recorded next to the split files.

    Attributes
    ----------
    rows : dict
        Rows written per split.
    dropped_null_target : int
        Rows left out because their target is null.
    target : dict
        Per split: class counts (``{"0": n, "1": n}``, classification) or ``{"count", "mean"}``
        (regression).
    key_column : str or None
    fingerprint : str
        Of the split configuration (see ``SplitConfig.fingerprint``).
    """

    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SPLITS, 0))
    dropped_null_target: int = 0
    target: dict[str, dict[str, Any]] = field(default_factory=lambda: {s: {} for s in SPLITS})
    key_column: str | None = None
    fingerprint: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return asdict(self)


def _mix(values: Hashes) -> Hashes:
    """splitmix64's finalizer: every input bit affects every output bit (uint64 arithmetic wraps)."""
    z = values + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    result: Hashes = z ^ (z >> np.uint64(31))
    return result


def _fnv1a(strings: pa.Array) -> Hashes:
    """FNV-1a 64 of each string's UTF-8 bytes, vectorized across strings (one pass per byte position)."""
    strings = strings.cast(pa.large_string())
    _, offsets_buffer, data_buffer = strings.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64)[
        strings.offset : strings.offset + len(strings) + 1
    ]
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else np.zeros(0, np.uint8)
    starts, lengths = offsets[:-1], np.diff(offsets)
    hashes = np.full(len(strings), _FNV_OFFSET, dtype=np.uint64)
    active = np.flatnonzero(lengths > 0)
    position = 0
    while len(active):
        hashes[active] = (hashes[active] ^ data[starts[active] + position]) * _FNV_PRIME
        position += 1
        active = active[lengths[active] > position]
    return hashes


def _value_hashes(values: pa.Array) -> Hashes:
    """One mixed 64-bit hash per value (see the module docstring); nulls hash to a constant."""
    kind = values.type
    if pa.types.is_dictionary(kind):
        # Hash the few distinct values once, then look each row's up.
        dictionary_hashes = _fnv1a(values.dictionary)
        indices = values.indices.fill_null(0).to_numpy(zero_copy_only=False)
        raw = dictionary_hashes[indices] if len(dictionary_hashes) else np.zeros(len(values), np.uint64)
    elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
        raw = _fnv1a(values)
    elif pa.types.is_floating(kind):
        numbers = values.fill_null(0.0).to_numpy(zero_copy_only=False).astype(np.float64) + 0.0
        raw = numbers.view(np.uint64)  # + 0.0 folds -0.0 into 0.0: equal numbers, equal hashes
    elif pa.types.is_boolean(kind):
        raw = values.fill_null(False).to_numpy(zero_copy_only=False).astype(np.uint64)
    else:  # integer and timestamp
        raw = values.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False).view(np.uint64)
    hashed = _mix(np.ascontiguousarray(raw, dtype=np.uint64))
    if values.null_count:
        hashed[values.is_null().to_numpy(zero_copy_only=False)] = _NULL
    return hashed


def _row_hashes(batch: pa.RecordBatch, seed: np.uint64) -> Hashes:
    hashes = np.full(batch.num_rows, seed, dtype=np.uint64)
    for column in batch.columns:
        hashes = _mix(hashes ^ _value_hashes(column))
    return hashes


def assign_splits(batch: pa.RecordBatch, config: TrainingConfig) -> npt.NDArray[np.int8]:
    """The split of each row of a batch: 0 train, 1 validation, 2 test.

    Parameters
    ----------
    batch : pyarrow.RecordBatch
        Rows of the snapshot, in contract column order.
    config : TrainingConfig
        Gives the key column, the fractions and the seed.

    Returns
    -------
    numpy.ndarray of int8
        Depends on each row alone (never on the batch it came in).
    """
    split = config.split
    seed = _mix(np.array([split.seed], dtype=np.int64).view(np.uint64))[0]
    if split.key_column is None:
        hashes = _row_hashes(batch, seed)
    else:
        key = batch.column(split.key_column)
        hashes = _mix(_value_hashes(key) ^ seed)
        if key.null_count:
            missing = key.is_null().to_numpy(zero_copy_only=False)
            hashes[missing] = _row_hashes(batch.filter(pa.array(missing)), seed)
    uniform = (hashes >> np.uint64(11)).astype(np.float64) * 2.0**-53
    codes = np.full(batch.num_rows, _TRAIN, dtype=np.int8)
    codes[uniform < split.test_fraction + split.validation_fraction] = _VALIDATION
    codes[uniform < split.test_fraction] = _TEST
    return codes


class _Counts:
    """What the checks need, accumulated batch by batch: rows, target values, non-null features."""

    def __init__(self, summary: SplitSummary, target: str, features: list[str], classification: bool) -> None:
        self.summary = summary
        self.target = target
        self.classification = classification
        self.present = {name: 0 for name in features}  # non-null values in the training split
        self.regression = {s: [0, 0.0] for s in SPLITS}  # count, sum

    def add(self, name: str, rows: pa.RecordBatch) -> None:
        self.summary.rows[name] += rows.num_rows
        values = rows.column(self.target)
        if self.classification:
            counted = pc.value_counts(
                values.dictionary_decode() if pa.types.is_dictionary(values.type) else values
            )
            classes = self.summary.target[name]
            for value, count in zip(
                counted.field("values").to_pylist(), counted.field("counts").to_pylist(), strict=True
            ):
                key = str(value).lower() if isinstance(value, bool) else str(value)  # as in profiles
                classes[key] = classes.get(key, 0) + count
        else:
            self.regression[name][0] += rows.num_rows
            self.regression[name][1] += float(pc.sum(values.cast(pa.float64())).as_py() or 0.0)
        if name == "train":
            for feature in self.present:
                self.present[feature] += rows.num_rows - rows.column(feature).null_count

    def finish(self) -> None:
        if self.classification:
            for name, classes in self.summary.target.items():
                self.summary.target[name] = dict(sorted(classes.items()))
        else:
            for name, (count, total) in self.regression.items():
                self.summary.target[name] = {"count": count, "mean": total / count if count else None}


def _problems(counts: _Counts, config: TrainingConfig, target: str) -> list[str]:
    """Why the split is unusable, in plain English (empty when it is usable)."""
    summary, split = counts.summary, config.split
    usable = sum(summary.rows.values())
    if usable == 0:
        if summary.dropped_null_target:
            return [f"the target {target!r} is null in all {summary.dropped_null_target} rows."]
        return ["the snapshot has no rows."]
    problems: list[str] = []
    if counts.classification:
        classes = sorted({c for per_split in summary.target.values() for c in per_split})
        if len(classes) < 2:
            return [
                f"the target {target!r} has a single class ({classes[0]}) in all {usable} rows; "
                "a classifier needs at least two."
            ]
    fractions = {"train": 1 - split.test_fraction - split.validation_fraction}
    fractions |= {"validation": split.validation_fraction, "test": split.test_fraction}
    for name in SPLITS:
        rows = summary.rows[name]
        if rows < split.min_rows_per_split:
            problems.append(
                f"the {name} split has {rows} rows, fewer than min_rows_per_split "
                f"({split.min_rows_per_split}): {usable} usable rows are too few for a {name} share "
                f"of {fractions[name]:.0%}."
            )
        elif counts.classification and len(summary.target[name]) < 2:
            only = next(iter(summary.target[name]))
            problems.append(f"the {name} split has a single class ({only}) of the target {target!r}.")
    train_rows = summary.rows["train"]
    for feature, present in counts.present.items():
        if train_rows and present == 0:
            problems.append(f"the feature {feature!r} is null in all {train_rows} rows of the train split.")
    return problems


def _normalized(batch: pa.RecordBatch | pa.Table, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    """The batch's record batches in the snapshot schema (a no-op for batches read from a snapshot)."""
    for part in batch.to_batches() if isinstance(batch, pa.Table) else [batch]:
        if part.schema.names != schema.names:
            raise ValueError(f"a batch has columns {part.schema.names}, not the contract's {schema.names}")
        if part.schema.equals(schema):
            yield part
        else:
            yield from pa.Table.from_batches([part]).cast(schema).combine_chunks().to_batches()


def _route(
    rows: pa.RecordBatch, config: TrainingConfig, writers: dict[str, pq.ParquetWriter], counts: _Counts
) -> None:
    codes = assign_splits(rows, config)
    for code, name in enumerate(SPLITS):
        chosen = rows.filter(pa.array(codes == code))
        if chosen.num_rows:
            writers[name].write_batch(chosen)
            counts.add(name, chosen)


def split_batches(
    batches: Iterable[pa.RecordBatch | pa.Table],
    contract: DatasetContract,
    config: TrainingConfig,
    sinks: Mapping[str, Sink],
) -> SplitSummary:
    """Split a snapshot into three Parquet files, in bounded memory, and check that they are usable.

    Parameters
    ----------
    batches : iterable of pyarrow.RecordBatch or Table
        The snapshot (``data.parquet``), e.g. ``pyarrow.parquet.ParquetFile(...).iter_batches()``.
    contract : DatasetContract
        Gives the snapshot schema, which the three files share.
    config : TrainingConfig
        Resolved (``parse_training_config``): the task must be known.
    sinks : mapping
        ``"train"``, ``"validation"`` and ``"test"`` to a path or a binary file object. The files are
        complete when this returns; after a ``SplitError`` they must be discarded.

    Returns
    -------
    SplitSummary

    Raises
    ------
    SplitError
        Too few rows in a split, a target with a single class (classification) or null in every
        row, or a feature null in every training row.
    ValueError
        A batch that does not have the contract's columns, or a configuration without a task.
    """
    if config.task is None:
        raise ValueError("the training configuration is not resolved (no task): use parse_training_config")
    schema = snapshot_schema(contract)
    target = contract.target
    summary = SplitSummary(key_column=config.split.key_column, fingerprint=config.split.fingerprint)
    features = [c.name for c in feature_columns(contract, config)]
    counts = _Counts(summary, target, features, classification=config.task == "classification")
    writers = {name: pq.ParquetWriter(sinks[name], schema, compression="zstd") for name in SPLITS}
    try:
        for batch in batches:
            for part in _normalized(batch, schema):
                labelled = part.column(target).is_valid()
                summary.dropped_null_target += part.num_rows - int(pc.sum(labelled).as_py() or 0)
                _route(part.filter(labelled), config, writers, counts)
    finally:
        for writer in writers.values():
            writer.close()
    counts.finish()
    problems = _problems(counts, config, target)
    if problems:
        raise SplitError(problems, summary)
    return summary
