"""Serving one model: requests checked against the dataset's contract, predictions with probabilities.

The endpoint's code (``inference.py``) is a thin adapter from the scikit-learn container's handler
functions to this package, which knows nothing of HTTP and is tested in-process. Its modules, in the
order a request meets them:

- :mod:`.spec`: what a request must look like (:class:`ServingSpec`, from the model's signature and
  the dataset's contract, as the model archive holds them);
- :mod:`.parse`: the body's size, type and encoding, then its rows (:func:`parse_request`), filling
  the feature matrix through :mod:`.rows`;
- :mod:`.checks`: each column's check of its values, one value at a time and a whole CSV column at
  once, side by side;
- :mod:`.predict`: the Pipeline's labels and probabilities (:func:`predict_rows`);
- :mod:`.render`: the answer in the accepted type (:func:`render`);
- :mod:`.protocol`: the media types, and :class:`RequestError` with its HTTP status.

Requests
--------
- ``text/csv``: one row per line. A first line that names at least one of the model's features is a
  header, and the rows are read by name; without one, each row holds the model's features in its
  signature order (``ServingSpec.features``).
- ``application/json``: ``{"instances": [...]}``, a list of rows, or one row; a row is an object (by
  name) or a list (signature order).
- ``application/jsonlines``: one JSON row per line.

Each value is checked as the contract says: its type (the CSV spellings of the contract's dialect for
booleans and nulls), nulls only where ``nullable``, ``min``/``max``, NaN and infinity only where
allowed, categories from the contract's list (``serving.unknown_categories``: ``reject``, or
``as_missing`` with a warning). Fields the contract does not declare follow ``extra_columns``
(``reject`` answers 400; ``warn`` adds a warning; ``ignore``). Contract columns that the model does not
read (the target, free-text columns, the split key) may be sent and are ignored.

Every problem is a :class:`RequestError` with an HTTP status and a message naming the row and the
column: 400 for a bad payload (text that is not UTF-8 included), 413 for one over
``MLOPS_MAX_PAYLOAD_BYTES``, 415 for an unsupported content type, 406 for an unsupported ``Accept``.

Responses
---------
JSON: ``{"predictions": [{"prediction": ..., "probabilities": {label: p, ...}}, ...]}`` (probabilities
for classifiers only), plus ``"warnings"`` when there are any. CSV: one line per row, the prediction then
the probability of each class in ``classes`` order.
"""

from .parse import parse_request
from .predict import Prediction, predict_rows
from .protocol import RequestError
from .render import render
from .rows import Parsed
from .spec import DEFAULT_MAX_PAYLOAD_BYTES, ServingSpec

__all__ = [
    "DEFAULT_MAX_PAYLOAD_BYTES",
    "Parsed",
    "Prediction",
    "RequestError",
    "ServingSpec",
    "parse_request",
    "predict_rows",
    "render",
]
