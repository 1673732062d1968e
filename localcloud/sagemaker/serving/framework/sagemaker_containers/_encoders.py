"""Numpy arrays to and from the container's default formats: CSV, JSON and NPY.

As in the real container: decoding CSV gives a squeezed array (one row of a CSV body is a 1-D array, one
value a 0-D array) of floats, or of strings when a value is not a number (the scikit-learn container's
default ``input_fn`` then casts to ``float32``); encoding a 1-D array as CSV writes one value per line.

One difference, on purpose: NPY bodies are read with ``allow_pickle=False`` (an object array in a request
body is a pickle, which would run code of the caller's choosing).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from sagemaker_containers import _content_types, _errors

Array = npt.NDArray[Any]
Body = str | bytes | bytearray | memoryview


def _text(data: Body) -> str:
    return data if isinstance(data, str) else bytes(data).decode("utf-8")


def array_to_npy(array_like: Any) -> bytes:
    """``array_like`` in NPY format."""
    buffer = io.BytesIO()
    np.save(buffer, array_like)
    return buffer.getvalue()


def npy_to_numpy(data: Body) -> Array:
    """The array an NPY body holds (object arrays are refused: see the module's docstring)."""
    raw = data.encode("latin-1") if isinstance(data, str) else bytes(data)
    try:
        return np.asarray(np.load(io.BytesIO(raw), allow_pickle=False))
    except (ValueError, OSError, EOFError) as error:
        raise _errors.ClientError(f"Error while decoding npy: {error}") from error


def array_to_json(array_like: Any) -> str:
    """``array_like`` as JSON (numpy arrays and scalars through their ``tolist``)."""

    def default(value: Any) -> Any:
        if hasattr(value, "tolist"):
            return value.tolist()
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")

    return json.dumps(array_like, default=default)


def json_to_numpy(data: Body, dtype: npt.DTypeLike | None = None) -> Array:
    """The array a JSON body holds (a number, or nested lists of numbers)."""
    try:
        return np.array(json.loads(_text(data)), dtype=dtype)
    except (ValueError, TypeError) as error:
        raise _errors.ClientError(f"Error while decoding json: {error}") from error


def csv_to_numpy(data: Body, dtype: npt.DTypeLike | None = None) -> Array:
    """The array a CSV body holds, squeezed: of ``dtype``, else floats, else strings."""
    try:
        reader = csv.reader(
            io.StringIO(_text(data)), delimiter=",", quotechar='"', doublequote=True, strict=True
        )
        array = np.array(list(reader)).squeeze()
    except (ValueError, TypeError, csv.Error) as error:
        raise _errors.ClientError(f"Error while decoding csv: {error}") from error
    try:
        return array.astype(dtype if dtype is not None else np.float64)
    except ValueError as error:
        if dtype is None:
            return array
        raise _errors.ClientError(f"Error while decoding csv: {error}. dtype is: {dtype}") from error


def array_to_csv(array_like: Any) -> str:
    """``array_like`` as CSV: one line per row (per value, for a 1-D array)."""
    array = np.array(array_like)
    if array.ndim == 0:
        array = array.reshape(1, 1)
    elif array.ndim == 1:
        array = array.reshape(array.shape[0], 1)
    stream = io.StringIO()
    try:
        csv.writer(stream, lineterminator="\n", delimiter=",", quotechar='"', strict=True).writerows(array)
    except csv.Error as error:
        raise _errors.ClientError(f"Error while encoding csv: {error}") from error
    return stream.getvalue()


_DECODERS: dict[str, Callable[[Body], Array]] = {
    _content_types.CSV: csv_to_numpy,
    _content_types.JSON: json_to_numpy,
    _content_types.NPY: npy_to_numpy,
}
_ENCODERS: dict[str, Callable[[Any], str | bytes]] = {
    _content_types.CSV: array_to_csv,
    _content_types.JSON: array_to_json,
    _content_types.NPY: array_to_npy,
}


def decode(data: Body, content_type: str) -> Array:
    """The numpy array a request body of ``content_type`` holds.

    Parameters
    ----------
    data : str | bytes
        The body (``str`` for the UTF-8 types, as the container hands it to ``input_fn``).
    content_type : str
        ``text/csv``, ``application/json`` or ``application/x-npy``, exactly (no parameters).

    Raises
    ------
    UnsupportedFormatError
        For any other content type.
    ClientError
        If the body is not valid in its format.
    """
    decoder = _DECODERS.get(content_type)
    if decoder is None:
        raise _errors.UnsupportedFormatError(content_type)
    return decoder(data)


def encode(array_like: Any, content_type: str) -> str | bytes:
    """``array_like`` serialized as ``content_type`` (``str`` for CSV and JSON, ``bytes`` for NPY).

    Raises
    ------
    UnsupportedFormatError
        For a content type other than CSV, JSON and NPY.
    """
    encoder = _ENCODERS.get(content_type)
    if encoder is None:
        raise _errors.UnsupportedFormatError(content_type)
    return encoder(array_like)
