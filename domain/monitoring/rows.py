"""A model version's rows in a window: the values of its columns, as the captures give them to the comparison.

Apart from the capture readers (:mod:`.capture_records`, :mod:`.columns`, which need pyarrow and the
dataset's contract) so that the comparison (:mod:`.compare`) imports numpy and the drift statistics alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["ColumnValues", "FloatArray", "VersionRows"]

FloatArray = npt.NDArray[np.float64]
#: A column's values: float64 (NaN missing) for a numeric column, ``str`` or None for a categorical one.
ColumnValues = FloatArray | list[str | None]


@dataclass(frozen=True)
class VersionRows:
    """The rows a model version answered in the window.

    Attributes
    ----------
    version : int
    rows : int
    requests : int
        The records they came from.
    columns : mapping of str to ColumnValues
        Every feature's values and the prediction column's (``predicted_label`` or ``prediction``).
    """

    version: int
    rows: int
    requests: int
    columns: Mapping[str, ColumnValues]

    def column(self, name: str) -> ColumnValues:
        """A feature's (or the prediction's) values."""
        return self.columns[name]
