"""The common case of a window, read by Arrow as a whole: CSV requests without a header, JSON answers.

Nearly every captured record of a real-time endpoint is a ``text/csv`` request in signature order with
a JSON predictions answer. Those records are recognised with Arrow's compute functions over all the
records at once (content types, encodings, no header line, no blank line, no quote, answers on one
line), their answers parsed by Arrow's JSON reader in one pass and paired with their rows by count;
their request bodies become one CSV text. Anything else (another type, BASE64, a header, an answer that
is not predictions) is left to the record-by-record path (:mod:`domain.monitoring.capture_bodies`),
which decides whether it is refused or unreadable; so is everything, when Arrow cannot read the answers
as one table.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from domain.monitoring.capture_bodies import CSV, JSON, media
from domain.monitoring.capture_envelopes import Envelopes
from domain.monitoring.capture_probabilities import from_structs

__all__ = ["FastJsonRows", "FastRows", "fast_json_rows", "fast_rows"]

_ANSWERS = pa_json.ParseOptions(newlines_in_values=False)


@dataclass(frozen=True)
class FastRows:
    """The records read as a whole: their CSV lines, their predicted values, which records they were.

    Attributes
    ----------
    text : str
        Every row of those requests, one per line (each line ending in a newline), signature order.
    labels : list
        One predicted value per row, as the answers' JSON has it.
    taken : numpy.ndarray of bool
        Per record asked about, whether it is one of them.
    counts : numpy.ndarray of int64
        The rows of each record taken, in order.
    probabilities : pyarrow.Array, optional
        Each row's class probabilities (``capture_probabilities``), when asked for.
    """

    text: str
    labels: list[Any]
    taken: npt.NDArray[np.bool_]
    counts: npt.NDArray[np.int64]
    probabilities: pa.Array | None = None

    @property
    def requests(self) -> int:
        """The records read."""
        return int(self.taken.sum())


def fast_rows(
    found: Envelopes, indices: Sequence[int], features: Sequence[str], *, probabilities: bool = False
) -> FastRows | None:
    """Read the records at ``indices`` that are the common case (see the module's docstring); with
    ``probabilities``, each row's class probabilities too.

    Returns
    -------
    FastRows or None
        None when none of them is.
    """
    if not indices:
        return None
    request, answer, plain = _records(found, indices, CSV)
    candidate = _all(
        plain,
        pc.invert(pc.match_substring_regex(request, _header_pattern(features))),
        # A blank line, a quote (which may hold a line break) or a carriage return alone would make the
        # count of line breaks differ from the count of rows: such requests are read one at a time.
        pc.invert(pc.match_substring_regex(request, r'^\n|\n\r?\n|"|\r[^\n]|^$')),
        pc.invert(pc.match_substring(answer, "\n")),
    )
    if not pc.any(candidate).as_py():
        return None
    request, answer = request.filter(candidate), answer.filter(candidate)
    predictions = _predictions(answer)
    if predictions is None:
        return None
    rows = pc.add(
        pc.count_substring(request, "\n"), pc.cast(pc.invert(pc.ends_with(request, "\n")), pa.int32())
    )
    # A record whose answer is not predictions (null) or does not pair up is read one at a time.
    paired = pc.fill_null(pc.equal(pc.list_value_length(predictions), pc.cast(rows, pa.int32())), False)
    if not pc.any(paired).as_py():
        return None
    chosen = _chosen(len(indices), candidate, paired)
    bodies = request.filter(paired).to_pylist()
    items = pc.list_flatten(predictions.filter(paired))
    labels = items.field("prediction").to_pylist()
    text = "".join(body if body.endswith("\n") else body + "\n" for body in bodies)
    return FastRows(
        text=text,
        labels=labels,
        taken=chosen,
        counts=_counts(rows.filter(paired)),
        probabilities=_probabilities(items) if probabilities else None,
    )


@dataclass(frozen=True)
class FastJsonRows:
    """The ``{"instances": [objects]}`` requests read as a whole: each feature's values, the labels.

    Attributes
    ----------
    columns : dict of str to pyarrow.Array
        Each feature's values as Arrow typed them from the JSON (null where a row lacks it).
    labels : list
        One predicted value per row.
    taken : numpy.ndarray of bool
        Per record asked about, whether it is one of them.
    counts : numpy.ndarray of int64
        The rows of each record taken, in order.
    probabilities : pyarrow.Array, optional
        Each row's class probabilities (``capture_probabilities``), when asked for.
    """

    columns: dict[str, pa.Array]
    labels: list[Any]
    taken: npt.NDArray[np.bool_]
    counts: npt.NDArray[np.int64]
    probabilities: pa.Array | None = None

    @property
    def requests(self) -> int:
        """The records read."""
        return int(self.taken.sum())


def fast_json_rows(
    found: Envelopes, indices: Sequence[int], features: Sequence[str], *, probabilities: bool = False
) -> FastJsonRows | None:
    """Read the records at ``indices`` whose request is ``{"instances": [objects]}`` on one line, with a
    JSON predictions answer, by Arrow's JSON reader in one pass; None when there are none, or when
    Arrow cannot read them as one table (a feature whose values are of two types). With
    ``probabilities``, each row's class probabilities too."""
    if not indices:
        return None
    request, answer, plain = _records(found, indices, JSON)
    candidate = _all(
        plain,
        pc.match_substring_regex(request, r'^\s*\{\s*"instances"\s*:\s*\[\s*\{'),
        pc.invert(pc.match_substring(request, "\n")),
        pc.invert(pc.match_substring(answer, "\n")),
    )
    if not pc.any(candidate).as_py():
        return None
    request, answer = request.filter(candidate), answer.filter(candidate)
    predictions, instances = _predictions(answer), _instances(request)
    if predictions is None or instances is None:
        return None
    paired = pc.fill_null(pc.equal(pc.list_value_length(predictions), pc.list_value_length(instances)), False)
    if not pc.any(paired).as_py():
        return None
    chosen = _chosen(len(indices), candidate, paired)
    counts = _counts(pc.list_value_length(instances.filter(paired)))
    rows = pc.list_flatten(instances.filter(paired))
    present = {rows.type.field(i).name for i in range(rows.type.num_fields)}
    columns = {name: rows.field(name) if name in present else pa.nulls(len(rows)) for name in features}
    items = pc.list_flatten(predictions.filter(paired))
    return FastJsonRows(
        columns=columns,
        labels=items.field("prediction").to_pylist(),
        taken=chosen,
        counts=counts,
        probabilities=_probabilities(items) if probabilities else None,
    )


def _probabilities(items: pa.Array) -> pa.Array:
    """The answers' rows' ``probabilities`` as one map column (null where a row has none)."""
    present = items.type.get_field_index("probabilities") >= 0
    return from_structs(items.field("probabilities") if present else None, len(items))


def _instances(requests: pa.Array) -> pa.Array | None:
    """Each request's ``instances`` (a list of objects), or None if Arrow cannot read them as one table."""
    body = "\n".join(requests.to_pylist()).encode("utf-8")
    try:
        table = pa_json.read_json(io.BytesIO(body), parse_options=_ANSWERS)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None
    if table.num_rows != len(requests) or "instances" not in table.column_names:
        return None
    instances = table.column("instances").combine_chunks()
    if not (pa.types.is_list(instances.type) and pa.types.is_struct(instances.type.value_type)):
        return None
    return instances


def _records(
    found: Envelopes, indices: Sequence[int], request_media: str
) -> tuple[pa.Array, pa.Array, pa.Array]:
    """The requests and answers at ``indices``, and whether each is plain text of ``request_media``
    answered in plain JSON (both captured, neither BASE64)."""
    taken = pa.array(indices, pa.int64())
    request, answer = found.in_data.take(taken), found.out_data.take(taken)
    plain = _all(
        found.has_input.take(taken),
        found.has_output.take(taken),
        _media_is(found.in_type.take(taken), request_media),
        _media_is(found.out_type.take(taken), JSON),
        _not_base64(found.in_encoding.take(taken)),
        _not_base64(found.out_encoding.take(taken)),
        pc.is_valid(request),
        pc.is_valid(answer),
    )
    return request, answer, plain


def _chosen(records: int, candidate: pa.Array, paired: pa.Array) -> npt.NDArray[np.bool_]:
    """Per record, whether it was a candidate and then paired (``paired`` is over the candidates)."""
    chosen = np.zeros(records, dtype=bool)
    positions = np.flatnonzero(np.asarray(candidate.to_numpy(zero_copy_only=False), dtype=bool))
    chosen[positions[np.asarray(paired.to_numpy(zero_copy_only=False), dtype=bool)]] = True
    return chosen


def _counts(rows: pa.Array) -> npt.NDArray[np.int64]:
    return np.asarray(rows.to_numpy(zero_copy_only=False), dtype=np.int64)


def _all(*masks: pa.Array) -> pa.Array:
    combined = masks[0]
    for mask in masks[1:]:
        combined = pc.and_kleene(combined, mask)
    return pc.fill_null(combined, False)


def _media_is(types: pa.Array, wanted: str) -> pa.Array:
    """Whether each content type is ``wanted`` (after parameters and case), a missing one the default."""
    spelled = [t for t in pc.unique(types).to_pylist() if t is not None and media(t, wanted) == wanted]
    found = pc.is_in(types, value_set=pa.array(spelled, pa.string()))
    return pc.if_else(pc.is_null(types), pa.scalar(media(None, wanted) == wanted), found)


def _not_base64(encodings: pa.Array) -> pa.Array:
    return pc.fill_null(pc.not_equal(pc.utf8_upper(encodings), "BASE64"), True)


def _header_pattern(features: Sequence[str]) -> str:
    """RE2: the first line names a feature (a field that is a name, as the endpoint's header test)."""
    names = "|".join(re.escape(name) for name in sorted(features, key=len, reverse=True))
    return rf'^(?:[^\n]*,)?[ \t]*"?(?:{names})"?[ \t\r]*(?:,|\n|$)'


def _predictions(answers: pa.Array) -> pa.Array | None:
    """Each answer's ``predictions`` list (null where it has none), or None if Arrow cannot read them."""
    body = "\n".join(answers.to_pylist()).encode("utf-8")
    try:
        table = pa_json.read_json(
            io.BytesIO(body), parse_options=pa_json.ParseOptions(newlines_in_values=False)
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None
    if table.num_rows != len(answers) or "predictions" not in table.column_names:
        return None
    predictions = table.column("predictions").combine_chunks()
    kind = predictions.type
    if not (pa.types.is_list(kind) and pa.types.is_struct(kind.value_type)):
        return None
    if kind.value_type.get_field_index("prediction") < 0:
        return None
    return predictions
