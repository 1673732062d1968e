"""Model families: the job's hyperparameters decoded and checked, and the scikit-learn estimators.

The families and their hyperparameters (names, kinds, defaults) are :mod:`spec.hyperparameters`'s table,
which the platform validated the configuration with at synth time. They matter at run time for SageMaker
hyperparameters, which arrive as strings (from a tuning job, for instance) and override the configured
values: each is decoded and checked here.
"""

from __future__ import annotations

import json
from typing import Any

from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge

from spec.hyperparameters import FAMILIES, FAMILY_TASKS, defaults

from .contract_io import TrainingInputError


def _kind_of(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    return str(value)


def coerce(family: str, name: str, raw: Any) -> Any:
    """Check one hyperparameter value (decoding it from text first when it is a string).

    Raises
    ------
    TrainingInputError
        Naming the hyperparameter, what it accepts and what it got.
    """
    kinds = FAMILIES[family][name].kinds
    value = raw
    if isinstance(raw, str):
        try:
            value = json.loads(raw)
        except ValueError:
            value = {"None": None, "True": True, "False": False}.get(raw, raw)
    kind = _kind_of(value)
    if kind in kinds:
        return value
    if kind == "int" and "float" in kinds:
        return float(value)
    if kind == "float" and "int" in kinds and float(value).is_integer() and isinstance(raw, str):
        return int(value)  # "3.0" from a tuning job's text
    expected = " or ".join(kinds).replace("none", "null")
    raise TrainingInputError(f"hyperparameter {name!r} of {family}: got {raw!r}; expected {expected}")


def resolve_hyperparameters(
    family: str, configured: dict[str, Any], overrides: dict[str, Any]
) -> dict[str, Any]:
    """The family's defaults, then the configured values, then the job's overrides, all checked."""
    if family not in FAMILIES:
        raise TrainingInputError(f"unknown model family {family!r}; expected one of {', '.join(FAMILIES)}")
    specs = FAMILIES[family]
    result = defaults(family)
    for source, values in (("training.json", configured), ("the job's hyperparameters", overrides)):
        for name, value in values.items():
            if name not in specs:
                raise TrainingInputError(
                    f"{source}: unknown hyperparameter {name!r} for {family}; allowed: {', '.join(specs)}"
                )
            result[name] = coerce(family, name, value)
    return result


def estimator(family: str, task: str, params: dict[str, Any], seed: int, categorical: list[bool]) -> Any:
    """The unfitted scikit-learn estimator (APIs available since scikit-learn 1.2).

    Parameters
    ----------
    family, task : str
    params : dict
        Resolved hyperparameters (:func:`resolve_hyperparameters`).
    seed : int
        ``random_state``.
    categorical : list of bool
        Which columns of the preprocessed matrix are category codes (histogram gradient boosting
        treats them as categories rather than as ordered numbers).
    """
    if task not in FAMILY_TASKS.get(family, ()):
        raise TrainingInputError(f"{family} cannot do {task}")
    classify = task == "classification"
    options = dict(params)
    if not classify:
        options.pop("class_weight", None)
    if family == "hist_gradient_boosting":
        kind = HistGradientBoostingClassifier if classify else HistGradientBoostingRegressor
        mask = categorical if any(categorical) else None
        return kind(**options, categorical_features=mask, random_state=seed)
    if family == "random_forest":
        if options["max_features"] is None:
            del options["max_features"]  # scikit-learn's default for the task
        kind = RandomForestClassifier if classify else RandomForestRegressor
        # Trees are built on threads; the forest is the same for a given random_state.
        return kind(**options, n_jobs=-1, random_state=seed)
    if family == "logistic_regression":
        return LogisticRegression(**options, random_state=seed)
    if options["alpha"] > 0:
        return Ridge(alpha=options["alpha"], fit_intercept=options["fit_intercept"], random_state=seed)
    return LinearRegression(fit_intercept=options["fit_intercept"])
