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
  scikit-learn's own tree walk, called once for all the trees (see :class:`.trees.Trees`); the leaf values
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

Modules: :mod:`.transformers` (the preprocessing steps), :mod:`.trees` (the boosting's tree walk),
:mod:`.compiled` (:class:`FastPipeline`, :func:`compile_pipeline`), :mod:`.probe` (the probe rows and
the bitwise comparison that decide what serves).
"""

from .compiled import FastPipeline, compile_pipeline
from .probe import fast_predictor, probe_matrix, served_predictor
from .transformers import NotCompilableError

__all__ = [
    "FastPipeline",
    "NotCompilableError",
    "compile_pipeline",
    "fast_predictor",
    "probe_matrix",
    "served_predictor",
]
