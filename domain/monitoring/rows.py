"""A model version's rows in a window: the values of its columns, as the captures give them to the comparison.

Apart from the capture readers (:mod:`.capture_records`, :mod:`.columns`, which need pyarrow and the
dataset's contract) so that the comparison (:mod:`.compare`) imports numpy and the drift statistics alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["ColumnValues", "FloatArray", "VersionRows", "row_inference_id"]

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
    inference_ids : list of str or None
        Each row's ID, aligned with the columns (:func:`row_inference_id`): None where its request had
        no ``InferenceId`` (and every row's, when not given: rows that were not read from captures).
    captured_at : FloatArray
        Each row's capture time (its request's ``eventMetadata.inferenceTime``) in seconds since the
        epoch, aligned with the columns; NaN where not known.
    probabilities : pyarrow.Array, optional
        Each row's class probabilities (``map<string, float64>``, a class label's text to its
        probability, as the endpoint's JSON answer gives them; null where the answer was CSV or carried
        none), aligned with the columns; None when they were not asked for
        (``read_window(..., probabilities=True)``).
    """

    version: int
    rows: int
    requests: int
    columns: Mapping[str, ColumnValues]
    inference_ids: list[str | None] = field(default_factory=list)
    captured_at: FloatArray = field(default_factory=lambda: np.empty(0, dtype=np.float64))
    probabilities: pa.Array | None = None

    def __post_init__(self) -> None:
        # Rows built from something else than captures (a benchmark's, a test's) have neither.
        if not self.inference_ids and self.rows:
            object.__setattr__(self, "inference_ids", [None] * self.rows)
        if not len(self.captured_at) and self.rows:
            object.__setattr__(self, "captured_at", np.full(self.rows, np.nan))
        if len(self.inference_ids) != self.rows or len(self.captured_at) != self.rows:
            raise ValueError(
                f"version {self.version}: {self.rows} rows but {len(self.inference_ids)} inference IDs "
                f"and {len(self.captured_at)} capture times; each row needs one of each"
            )
        if self.probabilities is not None and len(self.probabilities) != self.rows:
            raise ValueError(
                f"version {self.version}: {self.rows} rows but {len(self.probabilities)} rows of class "
                "probabilities; each row needs one (null where it has none)"
            )

    def column(self, name: str) -> ColumnValues:
        """A feature's (or the prediction's) values."""
        return self.columns[name]


def row_inference_id(inference_id: str, row: int, rows: int) -> str:
    """The ID of row ``row`` (from 0) of a request of ``rows`` rows that was sent with ``inference_id``.

    A one-row request's row is addressed by the ID alone; a row of a request of several rows by
    ``<id>:<row>``, so that a label can name each row an app sent in one request.

    Parameters
    ----------
    inference_id : str
        The request's ``InferenceId``.
    row, rows : int

    Returns
    -------
    str
    """
    return inference_id if rows == 1 else f"{inference_id}:{row}"
