"""Whether the compiled predictor may serve: probe rows from the training inputs' profile, on which
it must compute bitwise what the Pipeline computes, else the Pipeline serves."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.pipeline import Pipeline

from spec.values import epoch_seconds

from .compiled import compile_pipeline
from .transformers import Matrix, NotCompilableError, is_number

if TYPE_CHECKING:
    from ..serving import ServingSpec

PROBE_ROWS = 256
INPUTS_PROFILE = "baseline/inputs_profile.json"  # the training inputs' profile, in the model archive


def probe_matrix(spec: ServingSpec, profile: dict[str, Any], rows: int = PROBE_ROWS) -> Matrix:
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
    """A profile's quantile as the feature matrix holds it (a timestamp's ISO text: epoch seconds, as the
    endpoint reads a request's)."""
    if isinstance(value, str):
        return epoch_seconds(value)
    return float(value) if is_number(value) else None


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
    if not isinstance(pipeline, Pipeline):  # a team's or an imported estimator of its own
        return pipeline, f"serving with the {type(pipeline).__name__} itself: only a Pipeline is compiled"
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
