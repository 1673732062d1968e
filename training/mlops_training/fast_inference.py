"""Exact, fast inference for the platform's fitted Pipelines: the same numbers, without the overhead.

A request of one row spends about 6-10 ms in ``Pipeline.predict_proba`` and almost none of it computing:
scikit-learn validates the input at every step, a ``ColumnTransformer`` splits and joins columns, and
histogram gradient boosting calls its compiled tree walk once per tree, a hundred times or more, each
call with its own overhead. :func:`compile_pipeline` reads the fitted Pipeline once and returns a
predictor that does the same arithmetic with a few NumPy operations:

- preprocessing: ``ColumnTransformer`` (columns by index or mask, ``remainder="drop"``), passthrough,
  ``OrdinalEncoder``, ``OneHotEncoder`` (``handle_unknown="ignore"``, no ``drop``), ``SimpleImputer``
  (with its missing indicator) and ``StandardScaler``, nested in Pipelines;
- histogram gradient boosting (classifier and regressor), including its internal category encoder:
  scikit-learn's own tree walk, called once for all the trees (see :class:`_Trees`); the leaf values
  are added tree after tree in the fitted order, as ``_raw_predict`` adds them, so the sums are
  bitwise the same; probabilities and values come from the estimator's own loss and link;
- any other final estimator (random forest, linear models) gets the preprocessed matrix and runs its
  own ``predict`` / ``predict_proba``.

This reads fitted attributes that are not scikit-learn's public API, so nothing is trusted on faith:
:func:`fast_predictor` compares the compiled predictor with the Pipeline on probe rows (every known
category, a missing and an unseen one, the training profile's quantiles, values just above and beyond
them) and keeps the Pipeline unless what it computes is bitwise equal. A model from another
scikit-learn version, or a step this module does not know, is served by the Pipeline itself, slower.
Other tools were not used for this: ONNX converters and treelite compare float32 thresholds, so their
answers can differ from the Pipeline's, and neither is in SageMaker's scikit-learn container.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from .serving import ServingSpec

Matrix = npt.NDArray[Any]
_NOT_A_CODE = -(2.0**62)  # what a lookup gives a value that is not a category
Step = Callable[[Matrix], Matrix]

_PROBE_ROWS = 256
INPUTS_PROFILE = "baseline/inputs_profile.json"  # the training inputs' profile, in the model archive
REPEATED_BYTES = 8 * 1024 * 1024  # the most memory the tree walk's repeated rows take at once


class NotCompilableError(Exception):
    """The fitted Pipeline has a step (or a setting) that :func:`compile_pipeline` does not reproduce."""


def _float_column(values: Matrix) -> npt.NDArray[np.float64]:
    """A column as float64, as scikit-learn's input validation converts it (None becomes NaN)."""
    return np.asarray(values, dtype=np.float64)


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _category_codes(
    categories: Sequence[Any], unknown: float, missing: float, *, missing_is_category: bool = False
) -> Callable[[Matrix], Matrix]:
    """A column's values mapped to their index in ``categories`` (one column of an encoder).

    An OrdinalEncoder fitted on missing values lists NaN last and encodes missing values as its
    ``encoded_missing_value`` (``missing_is_category``); a OneHotEncoder would give NaN a column of its
    own, which is not reproduced.
    """
    holds_missing = [_is_missing(value) for value in categories]
    if any(holds_missing) and not (
        missing_is_category and holds_missing == [False] * (len(categories) - 1) + [True]
    ):
        raise NotCompilableError("a category list that holds a missing value")
    known = [value for value in categories if not _is_missing(value)]
    codes = {value: float(index) for index, value in enumerate(known)}
    numbers = np.array(known, dtype=np.float64) if all(_is_number(v) for v in known) else None
    if numbers is not None and (numbers.size == 0 or (np.diff(numbers) <= 0).any()):
        numbers = None  # (an encoder's categories are sorted; anything else is looked up one by one)

    def encode(column: Matrix) -> Matrix:
        if numbers is not None and column.dtype.kind == "f":  # the boosting's own encoder, on codes
            at = np.minimum(np.searchsorted(numbers, column), len(numbers) - 1)
            out = np.where(numbers[at] == column, at.astype(np.float64), unknown)
            out[np.isnan(column)] = missing
            return out
        values = column.tolist()
        out = np.array([codes.get(v, _NOT_A_CODE) for v in values], dtype=np.float64)
        for row in np.flatnonzero(out == _NOT_A_CODE).tolist():
            out[row] = missing if _is_missing(values[row]) else unknown
        return out

    return encode


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def _ordinal(encoder: Any) -> Step:
    if (
        encoder.handle_unknown != "use_encoded_value"
        or getattr(encoder, "_infrequent_enabled", True)
        or np.dtype(encoder.dtype) != np.float64
    ):
        raise NotCompilableError("OrdinalEncoder other than handle_unknown='use_encoded_value', float64")
    unknown = float(encoder.unknown_value)
    missing = float(encoder.encoded_missing_value)
    columns = [
        _category_codes(list(c), unknown, missing, missing_is_category=True) for c in encoder.categories_
    ]

    def transform(x: Matrix) -> Matrix:
        out = np.empty((x.shape[0], len(columns)), dtype=np.float64)
        for index, encode in enumerate(columns):
            out[:, index] = encode(x[:, index])
        return out

    return transform


def _one_hot(encoder: Any) -> Step:
    if (
        encoder.handle_unknown != "ignore"
        or encoder.drop_idx_ is not None
        or getattr(encoder, "_infrequent_enabled", True)
        or encoder.sparse_output
        or np.dtype(encoder.dtype) != np.float64
    ):
        raise NotCompilableError("OneHotEncoder other than handle_unknown='ignore', dense, float64, no drop")
    columns = [_category_codes(list(c), -1.0, -1.0) for c in encoder.categories_]
    widths = [len(c) for c in encoder.categories_]
    offsets = np.cumsum([0, *widths])

    def transform(x: Matrix) -> Matrix:
        out = np.zeros((x.shape[0], int(offsets[-1])), dtype=np.float64)
        rows = np.arange(x.shape[0])
        for index, encode in enumerate(columns):
            codes = encode(x[:, index]).astype(np.intp)
            known = codes >= 0
            out[rows[known], offsets[index] + codes[known]] = 1.0
        return out

    return transform


def _imputer(imputer: Any) -> Step:
    missing_values = imputer.missing_values
    if not (isinstance(missing_values, float) and math.isnan(missing_values)) or imputer.keep_empty_features:
        raise NotCompilableError("SimpleImputer other than missing_values=np.nan without keep_empty_features")
    statistics = np.asarray(imputer.statistics_, dtype=np.float64)
    if np.isnan(statistics).any():
        raise NotCompilableError("SimpleImputer with a column it saw no value of (scikit-learn drops it)")
    indicator = imputer.indicator_ if imputer.add_indicator else None
    if indicator is not None and (
        indicator.features != "missing-only" or indicator.sparse not in ("auto", False)
    ):
        raise NotCompilableError("MissingIndicator other than features='missing-only', dense")
    flagged = np.asarray(indicator.features_, dtype=np.intp) if indicator is not None else None

    def transform(x: Matrix) -> Matrix:
        values = _float_column(x).copy()
        missing = np.isnan(values)
        filled = np.where(missing, statistics, values)
        if flagged is None:
            return filled
        return np.hstack((filled, missing[:, flagged].astype(np.float64)))

    return transform


def _scaler(scaler: Any) -> Step:
    mean = np.asarray(scaler.mean_, dtype=np.float64) if scaler.with_mean else None
    scale = np.asarray(scaler.scale_, dtype=np.float64) if scaler.with_std else None

    def transform(x: Matrix) -> Matrix:
        values = _float_column(x).copy()
        if mean is not None:
            values -= mean
        if scale is not None:
            values /= scale
        return values

    return transform


def _is_float_passthrough(transformer: Any) -> bool:
    """``"passthrough"``, or the FunctionTransformer that ColumnTransformer (or the boosting) puts there."""
    if isinstance(transformer, str):
        return transformer == "passthrough"
    if type(transformer).__name__ != "FunctionTransformer" or transformer.inverse_func is not None:
        return False
    func = transformer.func
    if func is None:
        return True
    return (
        isinstance(func, functools.partial)
        and getattr(func.func, "__name__", "") == "check_array"
        and not func.args
        and set(func.keywords) <= {"dtype", "ensure_all_finite"}
        and func.keywords.get("dtype") in ([np.float64], np.float64)
    )


def _transformer(transformer: Any) -> Step:
    if _is_float_passthrough(transformer):
        return _float_column
    kind = type(transformer).__name__
    compilers: dict[str, Callable[[Any], Step]] = {
        "OrdinalEncoder": _ordinal,
        "OneHotEncoder": _one_hot,
        "SimpleImputer": _imputer,
        "StandardScaler": _scaler,
        "ColumnTransformer": _column_transformer,
        "Pipeline": _pipeline_steps,
    }
    if kind not in compilers:
        raise NotCompilableError(f"a {kind} step")
    return compilers[kind](transformer)


def _pipeline_steps(pipeline: Any) -> Step:
    steps = [_transformer(step) for _, step in pipeline.steps if step not in (None, "passthrough")]

    def transform(x: Matrix) -> Matrix:
        for step in steps:
            x = step(x)
        return x

    return transform


def _column_transformer(transformer: Any) -> Step:
    if transformer.sparse_output_:
        raise NotCompilableError("a ColumnTransformer with sparse output")
    parts: list[tuple[Step, npt.NDArray[np.intp]]] = []
    width = transformer.n_features_in_
    for name, fitted, columns in transformer.transformers_:
        if name == "remainder" and not (isinstance(fitted, str) and fitted == "drop"):
            raise NotCompilableError("a ColumnTransformer remainder other than 'drop'")
        if isinstance(fitted, str) and fitted == "drop":
            continue
        indexes = np.asarray(columns)
        if indexes.dtype == bool:
            indexes = np.flatnonzero(indexes)
        elif indexes.size and indexes.dtype.kind not in "iu":
            raise NotCompilableError("a ColumnTransformer selecting columns by name")
        indexes = indexes.astype(np.intp)
        if indexes.size == 0:
            continue
        if (indexes < 0).any() or (indexes >= width).any():
            raise NotCompilableError("a ColumnTransformer column out of range")
        parts.append((_transformer(fitted), indexes))

    def transform(x: Matrix) -> Matrix:
        outputs = [step(x[:, indexes]) for step, indexes in parts]
        return np.hstack(outputs) if len(outputs) != 1 else outputs[0]

    return transform


class _Trees:
    """scikit-learn's own compiled tree walk (``_predict_from_raw_data``), called once for all trees.

    Calling it tree by tree costs about 15 microseconds a call in overhead, more than the walk itself.
    So the trees become one: a dispatch tree of numeric splits on an extra column, the tree number,
    leads each copy of a row to the root of its tree, and the walk runs on the rows repeated once per
    tree. Inside each tree every node, threshold and category set is the fitted one.
    """

    def __init__(self, estimator: Any) -> None:
        from sklearn.ensemble._hist_gradient_boosting._predictor import _predict_from_raw_data

        self._walk = _predict_from_raw_data
        trees = [tree for iteration in estimator._predictors for tree in iteration]
        self._trees = len(trees)
        self._per_iteration = int(estimator.n_trees_per_iteration_)
        self._features = int(estimator._bin_mapper.n_bins_non_missing_.shape[0])
        dtype = trees[0].nodes.dtype
        dispatch = self._trees - 1  # a binary tree with one leaf per tree has one node fewer
        sizes = [len(tree.nodes) for tree in trees]
        offsets = dispatch + np.cumsum([0, *sizes])[:-1]
        bitset_sizes = [len(tree.raw_left_cat_bitsets) for tree in trees]
        bitset_offsets = np.cumsum([0, *bitset_sizes])[:-1]
        parts = []
        for tree, offset, bitset_offset in zip(trees, offsets, bitset_offsets, strict=True):
            nodes = tree.nodes.copy()
            inner = nodes["is_leaf"] == 0
            nodes["left"][inner] += np.uint32(offset)
            nodes["right"][inner] += np.uint32(offset)
            nodes["bitset_idx"][nodes["is_categorical"] == 1] += np.uint32(bitset_offset)
            parts.append(nodes)
        head = _dispatch_tree(offsets, self._features, dtype)
        self._nodes = np.concatenate([head, *parts]) if parts else head
        bitsets = [np.asarray(tree.raw_left_cat_bitsets, dtype=np.uint32).reshape(-1, 8) for tree in trees]
        self._bitsets = np.ascontiguousarray(
            np.concatenate(bitsets) if sum(bitset_sizes) else np.zeros((1, 8), np.uint32)
        )
        known, feature_map = estimator._bin_mapper.make_known_categories_bitsets()
        self._known = np.ascontiguousarray(known)
        self._feature_map = np.ascontiguousarray(np.append(feature_map, np.uint32(0)), dtype=np.uint32)

    def raw(self, x: npt.NDArray[np.float64], baseline: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """The raw predictions, (rows, trees per iteration), as ``_raw_predict`` computes them.

        Rows go through in chunks, so that the rows repeated once per tree stay within
        :data:`REPEATED_BYTES` however large the request.
        """
        if x.shape[1] != self._features:
            raise ValueError(f"{x.shape[1]} columns; the trees read {self._features}")
        raw = np.zeros((x.shape[0], self._per_iteration), dtype=np.float64, order="F")
        raw += baseline
        chunk = max(1, REPEATED_BYTES // (self._trees * (self._features + 1) * 8))
        for start in range(0, x.shape[0], chunk):
            rows = slice(start, start + chunk)
            values = self._leaf_values(x[rows])
            for k in range(self._per_iteration):
                terms = np.concatenate((raw[rows, k][None, :], values[k :: self._per_iteration]), axis=0)
                raw[rows, k] = np.add.accumulate(terms, axis=0)[-1]  # tree after tree, in the fitted order
        return raw

    def _leaf_values(self, x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Each tree's leaf value for each row: (trees, rows)."""
        rows = x.shape[0]
        repeated = np.empty((self._trees, rows, self._features + 1), dtype=np.float64)
        repeated[:, :, :-1] = x
        repeated[:, :, -1] = np.arange(self._trees, dtype=np.float64)[:, None]
        out = np.empty(self._trees * rows, dtype=np.float64)
        flat = repeated.reshape(-1, self._features + 1)
        self._walk(self._nodes, flat, self._bitsets, self._known, self._feature_map, 1, out)
        return out.reshape(self._trees, rows)


def _dispatch_tree(roots: npt.NDArray[np.intp], column: int, dtype: np.dtype[Any]) -> Matrix:
    """``len(roots) - 1`` nodes that send a row whose ``column`` holds ``t`` to ``roots[t]``: splits at
    the middle of a range of tree numbers, the first node the top one."""
    head = np.zeros(len(roots) - 1, dtype=dtype)
    free = iter(range(len(head)))

    def split(low: int, high: int) -> int:
        if high - low == 1:
            return int(roots[low])
        at, middle = next(free), (low + high) // 2
        head[at]["feature_idx"] = column
        head[at]["num_threshold"] = middle - 0.5
        head[at]["left"] = split(low, middle)
        head[at]["right"] = split(middle, high)
        return at

    split(0, len(roots))
    return head


class FastPipeline:
    """A compiled Pipeline: ``predict``, ``predict_proba`` and ``classes_`` as the Pipeline's."""

    def __init__(self, preprocess: Step, estimator: Any) -> None:
        self._preprocess = preprocess
        self._estimator = estimator
        self.trees: _Trees | None = None
        self._inner: Step | None = None
        if type(estimator).__name__ in ("HistGradientBoostingClassifier", "HistGradientBoostingRegressor"):
            inner = getattr(estimator, "_preprocessor", None)
            self._inner = _transformer(inner) if inner is not None else None
            try:
                self.trees = _Trees(estimator)
            except ImportError as error:
                raise NotCompilableError(f"scikit-learn's tree walk ({error})") from error
            self._baseline = np.asarray(estimator._baseline_prediction, dtype=np.float64)
        self.is_classifier = hasattr(estimator, "classes_")
        if self.is_classifier:
            self.classes_ = estimator.classes_

    def transform(self, matrix: Matrix) -> npt.NDArray[np.float64]:
        """What the final estimator gets, as float64."""
        return _float_column(self._preprocess(matrix))

    def raw(self, matrix: Matrix) -> npt.NDArray[np.float64]:
        """Histogram gradient boosting's raw predictions (``_raw_predict``): (rows, trees per iteration)."""
        if self.trees is None:
            raise NotCompilableError("raw predictions of a model other than histogram gradient boosting")
        x = self.transform(matrix)
        if self._inner is not None:
            x = _float_column(self._inner(x))
        return self.trees.raw(np.ascontiguousarray(x), self._baseline)

    def predict_proba(self, matrix: Matrix) -> Matrix:
        """Class probabilities, in ``classes_`` order."""
        if self.trees is None:
            return np.asarray(self._estimator.predict_proba(self.transform(matrix)))
        return np.asarray(self._estimator._loss.predict_proba(self.raw(matrix)))

    def predict(self, matrix: Matrix) -> Matrix:
        """Labels (classifier) or values (regressor)."""
        if self.trees is None:
            return np.asarray(self._estimator.predict(self.transform(matrix)))
        raw = self.raw(matrix)
        if not self.is_classifier:
            return np.asarray(self._estimator._loss.link.inverse(raw.ravel()))
        encoded = (raw.ravel() > 0).astype(int) if raw.shape[1] == 1 else np.argmax(raw, axis=1)
        return np.asarray(self.classes_[encoded])


def compile_pipeline(pipeline: Any) -> FastPipeline:
    """The fitted Pipeline ``[preprocess, model]`` compiled (see the module docstring).

    Raises
    ------
    NotCompilableError
        For a step or setting it does not reproduce, or a fitted structure it does not recognize.
    """
    if type(pipeline).__name__ != "Pipeline" or len(pipeline.steps) < 1:
        raise NotCompilableError(f"a {type(pipeline).__name__}, not a Pipeline")
    *transforms, (_, estimator) = pipeline.steps
    steps = [_transformer(step) for _, step in transforms if step not in (None, "passthrough")]

    def preprocess(x: Matrix) -> Matrix:
        for step in steps:
            x = step(x)
        return x

    try:
        return FastPipeline(preprocess, estimator)
    except (AttributeError, KeyError, ValueError, TypeError) as error:
        raise NotCompilableError(f"an unexpected fitted structure: {error!r}") from error


def probe_matrix(spec: ServingSpec, profile: dict[str, Any], rows: int = _PROBE_ROWS) -> Matrix:
    """Rows that reach many branches: per column, its known values and the edge cases, interleaved.

    Parameters
    ----------
    spec : ServingSpec
        The model's input columns (feature matrix order) with the contract's types and categories.
    profile : dict
        The training inputs' profile per column (``baseline/inputs_profile.json``'s ``columns``): its
        ``quantiles`` are the numbers probed, with values beyond them, just above them, and missing.
    """
    matrix = np.empty((rows, len(spec.features)), dtype=object)
    for index, name in enumerate(spec.features):
        column = spec.columns[name]
        if column.type in ("category", "string"):
            candidates: list[Any] = [*sorted(column.categories), math.nan, "\x00unseen category"]
        elif column.type == "boolean":
            candidates = [1.0, 0.0, math.nan]
        else:
            quantiles = [
                v for q in profile.get(name, {}).get("quantiles", []) if (v := _number(q)) is not None
            ]
            low, high = (min(quantiles), max(quantiles)) if quantiles else (-1.0, 1.0)
            spread = max(high - low, 1.0)
            above = [float(np.nextafter(q, math.inf)) for q in quantiles[:: max(1, len(quantiles) // 10)]]
            candidates = [*quantiles, *above, math.nan, low - spread, high + spread, 0.0]
        stride = 2 * index + 1  # the columns cycle at different paces, so rows mix their values
        matrix[:, index] = [candidates[(row * stride + index) % len(candidates)] for row in range(rows)]
    return matrix


def _number(value: Any) -> float | None:
    """A profile's quantile as the feature matrix holds it (a timestamp's ISO text: epoch seconds)."""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    return float(value) if _is_number(value) else None


def served_predictor(pipeline: Any, spec: ServingSpec, model_dir: Path) -> tuple[Any, str]:
    """What an endpoint serves ``pipeline`` with: :func:`fast_predictor` on probe rows made from the
    model archive's training inputs profile (``baseline/inputs_profile.json``, when there is one).

    Returns
    -------
    predictor, reason
        As :func:`fast_predictor`.
    """
    profile_file = model_dir / INPUTS_PROFILE
    try:
        profile = json.loads(profile_file.read_text(encoding="utf-8")) if profile_file.is_file() else {}
        probe = probe_matrix(spec, profile.get("columns", {}))
    except (OSError, ValueError, TypeError, AttributeError) as error:
        return pipeline, f"serving with the scikit-learn Pipeline: no probe rows ({error!r})"
    return fast_predictor(pipeline, probe)


def fast_predictor(pipeline: Any, probe: Matrix) -> tuple[Any, str]:
    """The compiled predictor if it computes what the Pipeline computes on ``probe``, else the Pipeline.

    Compared bitwise: the matrix the final estimator gets, and for histogram gradient boosting the raw
    predictions (its probabilities and values come from them through the estimator's own functions).
    A random forest's own ``predict_proba`` adds its trees on threads in whatever order they finish, so
    final outputs are not the comparison.

    Returns
    -------
    predictor, reason
        What to serve with, and a sentence for the log saying which and why.
    """
    try:
        compiled = compile_pipeline(pipeline)
    except NotCompilableError as error:
        return pipeline, f"serving with the scikit-learn Pipeline: {error} is not compiled"
    try:
        transformed = pipeline[:-1].transform(probe)  # as the estimator gets it (an object matrix here)
        same = _bitwise_equal(transformed, compiled.transform(probe))
        if same and compiled.trees is not None:
            same = _bitwise_equal(pipeline[-1]._raw_predict(transformed), compiled.raw(probe))
    except Exception as error:  # whatever fails, the Pipeline serves
        return pipeline, f"serving with the scikit-learn Pipeline: the compiled check failed ({error!r})"
    if not same:
        return (
            pipeline,
            "serving with the scikit-learn Pipeline: the compiled predictor differs on probe rows",
        )
    return compiled, f"serving with the compiled predictor (bitwise equal on {len(probe)} probe rows)"


def _bitwise_equal(expected: Matrix, got: Matrix) -> bool:
    """Equal values, NaN where NaN, and the same sign of zero."""
    expected, got = np.asarray(expected, dtype=np.float64), np.asarray(got, dtype=np.float64)
    return (
        expected.shape == got.shape
        and np.array_equal(expected, got, equal_nan=True)
        and np.array_equal(np.signbit(expected), np.signbit(got))
    )
