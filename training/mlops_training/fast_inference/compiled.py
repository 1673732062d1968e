"""A fitted Pipeline compiled: its preprocessing as NumPy functions and, for histogram gradient
boosting, its trees in one walk; any other final estimator runs its own ``predict`` on the
preprocessed matrix."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from .transformers import Matrix, NotCompilableError, Step, compile_steps, compile_transformer, float_column
from .trees import Trees


class FastPipeline:
    """A compiled Pipeline: ``predict``, ``predict_proba`` and ``classes_`` as the Pipeline's."""

    def __init__(self, preprocess: Step, estimator: Any) -> None:
        self._preprocess = preprocess
        self._estimator = estimator
        self.trees: Trees | None = None
        self._inner: Step | None = None
        if type(estimator).__name__ in ("HistGradientBoostingClassifier", "HistGradientBoostingRegressor"):
            inner = getattr(estimator, "_preprocessor", None)
            self._inner = compile_transformer(inner) if inner is not None else None
            try:
                self.trees = Trees(estimator)
            except ImportError as error:
                raise NotCompilableError(f"scikit-learn's tree walk ({error})") from error
            self._baseline = np.asarray(estimator._baseline_prediction, dtype=np.float64)
        self.is_classifier = hasattr(estimator, "classes_")
        if self.is_classifier:
            self.classes_ = estimator.classes_

    def transform(self, matrix: Matrix) -> npt.NDArray[np.float64]:
        """What the final estimator gets, as float64."""
        return float_column(self._preprocess(matrix))

    def raw(self, matrix: Matrix) -> npt.NDArray[np.float64]:
        """Histogram gradient boosting's raw predictions (``_raw_predict``): (rows, trees per iteration)."""
        if self.trees is None:
            raise NotCompilableError("raw predictions of a model other than histogram gradient boosting")
        x = self.transform(matrix)
        if self._inner is not None:
            x = float_column(self._inner(x))
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
    """The fitted Pipeline ``[preprocess, model]`` compiled (see :mod:`mlops_training.fast_inference`).

    Raises
    ------
    NotCompilableError
        For a step or setting it does not reproduce, or a fitted structure it does not recognize.
    """
    if type(pipeline).__name__ != "Pipeline" or len(pipeline.steps) < 1:
        raise NotCompilableError(f"a {type(pipeline).__name__}, not a Pipeline")
    *transforms, (_, estimator) = pipeline.steps
    preprocess = compile_steps(transforms)
    try:
        return FastPipeline(preprocess, estimator)
    except (AttributeError, KeyError, ValueError, TypeError) as error:
        raise NotCompilableError(f"an unexpected fitted structure: {error!r}") from error
