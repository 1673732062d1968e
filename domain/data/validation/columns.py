"""Per-column work on each batch: the contract's checks and the profile, in one look at the data.

Each check starts with a number Arrow computes in one vectorized pass anyway (null count, min/max,
sum, dictionary lookups) and builds row-level masks only when that number says something is wrong.
"""

from __future__ import annotations

import math
from typing import Any, TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from domain.data.contract import Column, DatasetContract
from domain.data.validation import findings as f
from domain.data.validation.checks import Mask, RowNumbers, record, to_mask
from domain.data.validation.convert import CATEGORY, convert_text, snapshot_type
from domain.data.validation.findings import ValueIssues
from domain.data.validation.profile import FrequencyProfile, NumericProfile

Values: TypeAlias = pa.ChunkedArray


def _numpy(values: Values) -> np.ndarray:
    """Non-null values as one numpy array (zero-copy for a single chunk without nulls)."""
    if values.null_count:
        values = values.drop_null()
    chunks = [chunk.to_numpy(zero_copy_only=False) for chunk in values.chunks if len(chunk)]
    if not chunks:
        return np.zeros(0, dtype=values.type.to_pandas_dtype())
    return chunks[0] if len(chunks) == 1 else np.concatenate(chunks)


class ColumnValidator:
    """Checks and profiles one declared column, batch after batch.

    Parameters
    ----------
    column : Column
        The declared column.
    contract : DatasetContract
        For the CSV dialect (boolean spellings) used when converting text.
    issues : ValueIssues
        Where value-level problems are counted.
    rows : RowNumbers
        Maps parsed rows to file rows for examples.
    """

    def __init__(
        self, column: Column, contract: DatasetContract, issues: ValueIssues, rows: RowNumbers
    ) -> None:
        self.column = column
        self.name = column.name
        self._contract = contract
        self._issues = issues
        self._rows = rows
        seed = sum(column.name.encode())  # fixed per column: same file, same quantiles
        self.profile: NumericProfile | FrequencyProfile = (
            NumericProfile(column.type, seed)
            if column.type in ("integer", "float", "timestamp")
            else FrequencyProfile(column.type, column.categories or None)
        )
        self._dictionary = pa.array(column.categories, pa.string()) if column.categories else None

    def process(self, values: Values, first_row: int, *, as_text: bool = False) -> Values:
        """Check and profile one batch; return it normalized to the snapshot type.

        Parameters
        ----------
        values : pyarrow.ChunkedArray
            The batch's cells: of the read type, or text when ``as_text`` (diagnostic pass).
        first_row : int
            Index of the batch's first parsed row.
        as_text : bool
            Convert from text here, reporting each value that does not convert.
        """
        text = values
        invalid: Mask | None = None
        if as_text or (self.column.type == "timestamp" and pa.types.is_string(values.type)):
            converted = [convert_text(chunk, self.column, self._contract.csv) for chunk in values.chunks]
            values = pa.chunked_array([c for c, _ in converted], converted[0][0].type if converted else None)
            invalid = np.concatenate([m for _, m in converted]) if converted else np.zeros(0, dtype=bool)
            if not invalid.any():
                invalid = None
            else:
                self._record(f.VALUE_TYPE, invalid, text, first_row)
        self._nulls(values, invalid, first_row)
        if self.column.type in ("integer", "float", "timestamp"):
            self._numbers(values, first_row)
        elif self.column.type == "category":
            return self._categories(values, first_row)
        elif self.column.type == "boolean":
            trues = pc.sum(values).as_py() or 0
            present = len(values) - values.null_count
            assert isinstance(self.profile, FrequencyProfile)
            self.profile.add(["true", "false"], [trues, present - trues])
        else:
            counted = pc.value_counts(values.combine_chunks() if values.num_chunks > 1 else values)
            assert isinstance(self.profile, FrequencyProfile)
            self.profile.add(counted.field("values").to_pylist(), counted.field("counts").to_pylist())
        return values.cast(snapshot_type(self.column))

    def _record(
        self, check: str, mask: Mask, values: Values, first_row: int, *, value_counts: bool = False
    ) -> None:
        record(
            self._issues,
            check,
            self.name,
            mask,
            values,
            first_row=first_row,
            rows=self._rows,
            value_counts=value_counts,
        )

    def _nulls(self, values: Values, invalid: Mask | None, first_row: int) -> None:
        nulls = values.null_count - (int(invalid.sum()) if invalid is not None else 0)
        self.profile.nulls += nulls
        if nulls and not self.column.nullable:
            mask = to_mask(values.is_null())
            if invalid is not None:
                mask &= ~invalid
            self._record(f.VALUE_NULL, mask, values, first_row)

    def _numbers(self, values: Values, first_row: int) -> None:
        assert isinstance(self.profile, NumericProfile)
        column = self.column
        if column.type == "timestamp":
            values = values.cast(pa.int64())
        numbers = _numpy(values)
        if len(numbers) == 0:
            return
        low, high = numbers.min(), numbers.max()
        if column.type == "float" and not math.isfinite(numbers.sum()):
            # Rare path: NaN or an infinity is somewhere in this batch (the sum is not finite).
            numbers = self._non_finite(values, numbers, first_row)
            if len(numbers) == 0:
                return
            low, high = numbers.min(), numbers.max()
        too_low = column.min is not None and low < column.min
        too_high = column.max is not None and high > column.max
        if too_low or too_high:
            outside = pc.or_(
                pc.less(values, column.min if column.min is not None else -math.inf),
                pc.greater(values, column.max if column.max is not None else math.inf),
            )
            if column.type == "float":
                outside = pc.and_(outside, pc.is_finite(values))
            self._record(f.VALUE_RANGE, to_mask(outside), values, first_row)
        self.profile.add_values(numbers, low.item(), high.item())

    def _non_finite(self, values: Values, numbers: np.ndarray, first_row: int) -> np.ndarray:
        """Count NaN and infinities (a finding unless allowed); return the finite numbers."""
        assert isinstance(self.profile, NumericProfile)
        nan = to_mask(pc.is_nan(values))
        infinite = to_mask(pc.is_inf(values))
        self.profile.nan += int(nan.sum())
        self.profile.infinity += int(infinite.sum())
        if not self.column.allow_nan_inf:
            self._record(f.VALUE_NAN_INF, nan | infinite, values, first_row)
        finite: np.ndarray = numbers[np.isfinite(numbers)]
        return finite

    def _categories(self, values: Values, first_row: int) -> Values:
        assert isinstance(self.profile, FrequencyProfile) and self._dictionary is not None
        dictionary = self._dictionary
        if pa.types.is_dictionary(values.type):
            # Dictionary-encoded input (Parquet): look up each chunk's few distinct values, not every row.
            index = pa.chunked_array(
                [pc.index_in(c.dictionary, value_set=dictionary).take(c.indices) for c in values.chunks],
                pa.int32(),
            )
        else:
            index = pc.index_in(values, value_set=dictionary)
        unknown = index.null_count - values.null_count
        if unknown:
            mask = to_mask(pc.and_(index.is_null(), values.is_valid()))
            self._record(f.VALUE_CATEGORY, mask, values, first_row, value_counts=True)
            counted = pc.value_counts(values.filter(pa.array(mask)).combine_chunks().cast(pa.string()))
            self.profile.add(counted.field("values").to_pylist(), counted.field("counts").to_pylist())
        counts = sum(
            (np.bincount(chunk.drop_null().to_numpy(), minlength=len(dictionary)) for chunk in index.chunks),
            start=np.zeros(len(dictionary), dtype=np.int64),
        )
        self.profile.add(dictionary.to_pylist(), counts.tolist())
        return pa.chunked_array(
            [pa.DictionaryArray.from_arrays(chunk, dictionary) for chunk in index.chunks], CATEGORY
        )


class BatchProcessor:
    """Runs the column validators of all declared columns present in a file over its batches.

    Parameters
    ----------
    contract : DatasetContract
    present : list of str
        Declared columns present in the file, in contract order; batches carry them by name.
    issues : ValueIssues
    rows : RowNumbers
    """

    def __init__(
        self, contract: DatasetContract, present: list[str], issues: ValueIssues, rows: RowNumbers
    ) -> None:
        self.validators = {
            name: ColumnValidator(contract.column(name), contract, issues, rows) for name in present
        }
        self.rows = 0

    def process(self, table: pa.Table, *, as_text: bool = False) -> pa.Table:
        """Check and profile a batch of rows; return it normalized (contract order and types)."""
        first_row = self.rows
        self.rows += table.num_rows
        columns = [
            validator.process(table.column(name), first_row, as_text=as_text)
            for name, validator in self.validators.items()
        ]
        return pa.table(columns, names=list(self.validators))

    def profiles(self) -> dict[str, Any]:
        """The per-column profiles, in contract order."""
        return {name: validator.profile for name, validator in self.validators.items()}
