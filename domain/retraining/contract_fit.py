"""Which labelled values a dataset version cannot take: the contract's value rules, as masks over a column.

The rules are the data plane's (``domain.data.validation.columns``: nulls only where ``nullable``,
inclusive ``min``/``max``, NaN and infinity only with ``allow_nan_inf``, categories from the list); the
validator reports each broken value of an upload and refuses the upload, while a retraining upload leaves
the labelled rows that hold one out (``domain.retraining.training_data``), so that the rest is accepted.
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from domain.data.contract import Column

__all__ = ["refusals"]


def refusals(values: pa.ChunkedArray, column: Column) -> list[tuple[np.ndarray, str]]:
    """Masks of the values the contract refuses, each with why it refuses them.

    Parameters
    ----------
    values : pyarrow.ChunkedArray
        A column's values, of its type in the labelled rows (``category`` as text).
    column : Column
        Its declaration in the contract.

    Returns
    -------
    list of (numpy.ndarray, str)
        One boolean mask per rule that applies (null where not nullable, outside the bounds, NaN or
        infinity where not allowed, a category not listed), each with the words that say why.
    """
    found = []
    if not column.nullable:
        found.append((_mask(values.is_null()), "is empty where the contract requires a value"))
    if column.type in ("integer", "float"):
        numbers = values.cast(pa.float64())
        low = column.min if column.min is not None else -math.inf
        high = column.max if column.max is not None else math.inf
        outside = pc.or_(pc.less(numbers, low), pc.greater(numbers, high))
        found.append((_mask(outside), f"is outside the contract's bounds [{low}, {high}]"))
        if column.type == "float" and not column.allow_nan_inf:
            found.append((_mask(pc.invert(pc.is_finite(numbers))), "is NaN or infinite"))
    if column.type == "category":
        listed = pc.is_in(values.cast(pa.string()), value_set=pa.array(column.categories, pa.string()))
        found.append(
            (_mask(pc.and_(pc.invert(listed), values.is_valid())), "is not one of the contract's categories")
        )
    return found


def _mask(values: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A boolean Arrow result as numpy, null (a null value) as False."""
    filled = values.fill_null(False)
    chunks = filled.chunks if isinstance(filled, pa.ChunkedArray) else [filled]
    if not chunks:
        return np.zeros(0, dtype=bool)
    return np.concatenate([chunk.to_numpy(zero_copy_only=False) for chunk in chunks]).astype(bool)
