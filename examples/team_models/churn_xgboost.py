"""Churn with the team's own feature step and XGBoost: a model a team writes, to copy and change.

``cdk.json`` names it for a dataset::

    "training": {"model": {"module": "examples/team_models/churn_xgboost.py", "builder": "build",
                           "hyperparameters": {"n_estimators": 200}, "seed": 0}}

The platform calls ``build(contract, hyperparameters)`` and fits what it returns on its feature matrix:
one row per customer, one column per feature in ``contract.features`` order; numbers as floats (NaN
when missing), categories as strings (NaN when missing). Everything after the fit (evaluation, the
champion, the gate, serving, drift) is the platform's. ``requirements.txt`` beside this file pins the
packages it imports beyond the training image's: ``xgboost-cpu``, the build of XGBoost that carries its
own OpenMP runtime (the image is not known to have one: the build checks what compiled files need)
and leaves out the GPU libraries.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, clone
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import LabelEncoder
from xgboost import XGBClassifier

if TYPE_CHECKING:  # the platform passes it in; importing it is needed for the annotation only
    from mlops_training.team import ModelContract

DEFAULTS: dict[str, Any] = {"n_estimators": 200, "learning_rate": 0.05, "max_depth": 4}


class ChurnFeatures(TransformerMixin, BaseEstimator):  # type: ignore[misc]  # scikit-learn is untyped
    """The numbers as they are, a few ratios of them, and the categories as codes.

    Parameters
    ----------
    numeric : sequence of int
        Columns passed on as numbers.
    ratios : sequence of (int, int)
        ``(numerator, denominator)`` columns; each adds ``numerator / (denominator + 1)``.
    categories : sequence of (int, sequence of str)
        A column and its categories: the code is the category's position, NaN when missing or unknown
        (XGBoost treats NaN as missing; its trees split the codes as numbers, which does well with a
        few categories).
    """

    def __init__(
        self,
        numeric: Sequence[int] = (),
        ratios: Sequence[tuple[int, int]] = (),
        categories: Sequence[tuple[int, Sequence[str]]] = (),
    ) -> None:
        self.numeric = numeric
        self.ratios = ratios
        self.categories = categories

    def fit(self, X: npt.NDArray[Any], y: Any = None) -> ChurnFeatures:  # noqa: N803 (scikit-learn's name)
        """Nothing to learn: the categories come from the contract, not from the rows."""
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X: npt.NDArray[Any]) -> npt.NDArray[np.float64]:  # noqa: N803
        """The numbers, then the ratios, then the category codes, as one float matrix."""
        numbers = X[:, list(self.numeric)].astype(np.float64)
        ratios = [X[:, a].astype(np.float64) / (X[:, b].astype(np.float64) + 1.0) for a, b in self.ratios]
        codes = [_codes(X[:, column], names) for column, names in self.categories]
        return np.column_stack([numbers, *ratios, *codes])


def _codes(values: npt.NDArray[Any], names: Sequence[str]) -> npt.NDArray[np.float64]:
    position = {name: float(index) for index, name in enumerate(names)}
    return np.array([position.get(value, np.nan) for value in values], dtype=np.float64)


class EncodedLabels(ClassifierMixin, BaseEstimator):  # type: ignore[misc]  # scikit-learn is untyped
    """A classifier that wants the labels 0..n-1 (XGBoost's), fit on the target's own labels.

    The platform's target may be any labels (``"yes"``/``"no"``, ``1``/``2``); the job, the champion
    comparison and the endpoint read ``classes_`` as those labels, in the order of ``predict_proba``'s
    columns. So the labels are encoded for the fit and decoded for ``predict``.

    Parameters
    ----------
    classifier : estimator
        The unfitted classifier; a clone of it is fit on the encoded labels.
    """

    def __init__(self, classifier: Any) -> None:
        self.classifier = classifier

    def fit(self, X: npt.NDArray[Any], y: npt.NDArray[Any]) -> EncodedLabels:  # noqa: N803
        """Fit a clone of ``classifier`` on ``y`` encoded as 0..n-1 (in sorted order of the labels)."""
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        self.classifier_ = clone(self.classifier).fit(X, encoder.transform(y))
        return self

    def predict_proba(self, X: npt.NDArray[Any]) -> npt.NDArray[np.float64]:  # noqa: N803
        """One column per label of ``classes_``, in that order."""
        return np.asarray(self.classifier_.predict_proba(X), dtype=np.float64)

    def predict(self, X: npt.NDArray[Any]) -> npt.NDArray[Any]:  # noqa: N803
        """The most probable label, as the target spells it."""
        labels: npt.NDArray[Any] = self.classes_[np.argmax(self.predict_proba(X), axis=1)]
        return labels


def build(contract: ModelContract, hyperparameters: dict[str, Any]) -> Pipeline:
    """The unfitted model: :class:`ChurnFeatures`, then ``xgboost.XGBClassifier`` on the encoded labels.

    Parameters
    ----------
    contract : ModelContract
        The dataset's features (in feature matrix order), target, task and seed.
    hyperparameters : dict
        The configured ``XGBClassifier`` arguments (``DEFAULTS`` fill in the others).
    """
    features = ChurnFeatures(
        numeric=contract.columns("integer", "float"),
        ratios=[
            (contract.column("total_charges"), contract.column("tenure_months")),
            (contract.column("support_calls_90d"), contract.column("num_products")),
        ],
        categories=[(index, contract.features[index].categories) for index in contract.columns("category")],
    )
    model = XGBClassifier(
        **(DEFAULTS | hyperparameters),
        random_state=contract.seed,
        n_jobs=1,  # deterministic, and the same on a laptop as on a training instance
        tree_method="hist",
    )
    return Pipeline([("features", features), ("model", EncodedLabels(model))])
