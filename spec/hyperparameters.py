"""Each model family: the tasks it does, and its hyperparameters with their kinds, bounds and defaults.

The one table that the configuration's check (``domain.training.config`` builds its pydantic models
from it, at synth time) and the training job (``mlops_training.families`` decodes and checks the job's
hyperparameters with it, at run time) read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

CLASSIFICATION, REGRESSION = "classification", "regression"
NUMBER_KINDS = ("int", "float")


@dataclass(frozen=True)
class Parameter:
    """One hyperparameter.

    Attributes
    ----------
    kinds : tuple of str
        What it accepts: ``"int"``, ``"float"`` (an int too), ``"bool"``, ``"none"`` (null), or a
        literal string value.
    default : Any
    ge, gt, le : float, optional
        Inclusive and exclusive bounds of a number.
    """

    kinds: tuple[str, ...]
    default: Any
    ge: float | None = None
    gt: float | None = None
    le: float | None = None

    @property
    def literals(self) -> tuple[str, ...]:
        """The literal string values it accepts."""
        return tuple(kind for kind in self.kinds if kind not in (*NUMBER_KINDS, "bool", "none"))

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` (decoded: no text standing for a number) is of its kinds and within bounds."""
        if value is None:
            return "none" in self.kinds
        if isinstance(value, bool):
            return "bool" in self.kinds
        if isinstance(value, str):
            return value in self.literals
        if isinstance(value, int) and "int" not in self.kinds and "float" not in self.kinds:
            return False
        if isinstance(value, float) and ("float" not in self.kinds or not math.isfinite(value)):
            return False
        if not isinstance(value, int | float):
            return False
        return self.within(value)

    def within(self, number: float) -> bool:
        """Whether a number is within the bounds."""
        return (
            (self.ge is None or number >= self.ge)
            and (self.gt is None or number > self.gt)
            and (self.le is None or number <= self.le)
        )

    def expected(self) -> str:
        """What it accepts, in words: ``a fraction in (0, 1], 'sqrt', 'log2' or null``."""
        words = []
        for kind in self.kinds:
            if kind == "float" and self.gt == 0 and self.le == 1:
                words.append("a fraction in (0, 1]")
            elif kind in ("int", "float", "bool"):
                words.append({"int": "an integer", "float": "a number", "bool": "a boolean"}[kind])
            else:
                words.append("null" if kind == "none" else repr(kind))
        return ", ".join(words[:-1]) + f" or {words[-1]}" if len(words) > 1 else words[0]


FAMILIES: dict[str, dict[str, Parameter]] = {
    # HistGradientBoostingClassifier / Regressor; early stopping uses 10% of the training rows.
    "hist_gradient_boosting": {
        "learning_rate": Parameter(("float",), 0.1, gt=0, le=1),
        "max_iter": Parameter(("int",), 100, ge=1),
        "max_leaf_nodes": Parameter(("int", "none"), 31, ge=2),
        "max_depth": Parameter(("int", "none"), None, ge=1),
        "min_samples_leaf": Parameter(("int",), 20, ge=1),
        "l2_regularization": Parameter(("float",), 0.0, ge=0),
        "max_bins": Parameter(("int",), 255, ge=2, le=255),
        "early_stopping": Parameter(("bool",), False),
        "class_weight": Parameter(("balanced", "none"), None),
    },
    # RandomForestClassifier / Regressor; max_features None: the task's scikit-learn default.
    "random_forest": {
        "n_estimators": Parameter(("int",), 100, ge=1),
        "max_depth": Parameter(("int", "none"), None, ge=1),
        "min_samples_split": Parameter(("int",), 2, ge=2),
        "min_samples_leaf": Parameter(("int",), 1, ge=1),
        "max_features": Parameter(("float", "sqrt", "log2", "none"), None, gt=0, le=1),
        "bootstrap": Parameter(("bool",), True),
        "class_weight": Parameter(("balanced", "balanced_subsample", "none"), None),
    },
    # LogisticRegression (L2) on standardized numbers and one-hot categories.
    "logistic_regression": {
        "C": Parameter(("float",), 1.0, gt=0),
        "max_iter": Parameter(("int",), 1000, ge=1),
        "class_weight": Parameter(("balanced", "none"), None),
    },
    # Ordinary least squares when alpha is 0, Ridge(alpha) otherwise.
    "linear_regression": {
        "alpha": Parameter(("float",), 0.0, ge=0),
        "fit_intercept": Parameter(("bool",), True),
    },
}
FAMILY_TASKS: dict[str, frozenset[str]] = {
    "hist_gradient_boosting": frozenset({CLASSIFICATION, REGRESSION}),
    "random_forest": frozenset({CLASSIFICATION, REGRESSION}),
    "logistic_regression": frozenset({CLASSIFICATION}),
    "linear_regression": frozenset({REGRESSION}),
}


def defaults(family: str) -> dict[str, Any]:
    """The family's hyperparameters at their defaults, in table order."""
    return {name: parameter.default for name, parameter in FAMILIES[family].items()}
