"""Class probabilities of captured answers: per row, the class label's text to its probability.

A classifier's JSON answer carries them per row (``{"prediction": ..., "probabilities": {label: p}}``,
``training/mlops_training/serving``); a CSV answer carries them as bare numbers after the prediction,
without the labels, and a regressor's carries none: those rows have none (null). They are read only
when asked for (the realized performance's ``roc_auc`` and ``log_loss`` need them; the drift monitor
does not), and kept as one Arrow column of type :data:`PROBABILITY_TYPE`, as the labelled rows store it.

Arrow's JSON reader types the answers' ``probabilities`` objects as a struct of one field per label seen;
:func:`from_structs` turns that into the map without a Python loop over the rows. The record-by-record
path reads each row's object with :func:`row_probabilities` and joins them with :func:`from_python`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["PROBABILITY_TYPE", "from_python", "from_structs", "row_probabilities"]

#: A row's class probabilities: a class label's text to its probability.
PROBABILITY_TYPE = pa.map_(pa.string(), pa.float64())


def row_probabilities(value: Any) -> dict[str, float] | None:
    """One answer row's ``probabilities`` object as label -> probability; None when it is not one.

    Parameters
    ----------
    value : Any
        The ``probabilities`` member of a JSON answer's row (absent: None).

    Returns
    -------
    dict of str to float, or None
        None for anything but a non-empty object of finite numbers.
    """
    if not isinstance(value, dict) or not value:
        return None
    found: dict[str, float] = {}
    for label, probability in value.items():
        if isinstance(probability, bool) or not isinstance(probability, (int, float)):
            return None
        if not math.isfinite(probability):
            return None
        found[str(label)] = float(probability)
    return found


def from_python(rows: Sequence[Mapping[str, float] | None]) -> pa.Array:
    """Rows' probabilities (None: the row has none) as one :data:`PROBABILITY_TYPE` column."""
    return pa.array([None if row is None else list(row.items()) for row in rows], PROBABILITY_TYPE)


def from_structs(values: pa.Array | None, rows: int) -> pa.Array:
    """The ``probabilities`` objects Arrow's JSON reader typed as structs, as one map column.

    Parameters
    ----------
    values : pyarrow.Array, optional
        One entry per row: a struct of one field per label (null where the row's answer has none, or a
        label it does not give). None: no answer carried any.
    rows : int
        The rows (the length of the column when ``values`` is None).

    Returns
    -------
    pyarrow.Array
        Of :data:`PROBABILITY_TYPE`; null for a row without probabilities, or with a value that is not a
        finite number.
    """
    if values is None or not pa.types.is_struct(values.type) or values.type.num_fields == 0:
        return pa.nulls(rows, PROBABILITY_TYPE)
    kind = values.type
    names = np.array([kind.field(i).name for i in range(kind.num_fields)], dtype=object)
    numbers, usable = np.full((len(values), len(names)), np.nan), np.ones(len(values), dtype=bool)
    for index in range(len(names)):
        field = pc.struct_field(values, [index])  # null where the row's struct is null
        if pa.types.is_integer(field.type) or pa.types.is_floating(field.type):
            numbers[:, index] = field.cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False)
        elif not pa.types.is_null(field.type):
            # Not numbers (a string, an object): no row's probabilities can be trusted.
            usable &= ~field.is_valid().to_numpy(zero_copy_only=False)
    present = ~np.isnan(numbers)
    bad = np.isinf(numbers).any(axis=1)
    per_row = present.sum(axis=1)
    valid = usable & ~bad & (per_row > 0) & values.is_valid().to_numpy(zero_copy_only=False)
    present &= valid[:, None]
    offsets = np.concatenate([[0], np.cumsum(present.sum(axis=1))]).astype(np.int32)
    flat = present.ravel()
    keys = pa.array(np.tile(names, len(values))[flat], pa.string())
    items = pa.array(numbers.ravel()[flat], pa.float64())
    return pa.MapArray.from_arrays(
        pa.array(offsets, pa.int32()), keys, items, type=PROBABILITY_TYPE, mask=pa.array(~valid)
    )
