"""The scikit-learn Pipeline saved as ``model.joblib``: preprocessing built from the contract, then the model.

Only scikit-learn classes go into the Pipeline, so that any later job (a challenger scoring this model
as its champion, the inference container) can load it without this package.

Preprocessing per column type and model family
----------------------------------------------
- ``hist_gradient_boosting``: numbers, timestamps and booleans as they are (the model handles nulls);
  categories as codes in contract order, split as categories, null or unknown = missing.
- ``random_forest``: numbers and timestamps median-imputed, booleans most-frequent-imputed;
  categories as codes in contract order, null or unknown = -1.
- ``logistic_regression`` / ``linear_regression``: numbers and timestamps median-imputed with a
  missing indicator, then standardized; booleans most-frequent-imputed; categories one-hot over the
  contract's categories, null or unknown = all zeros.

Categories come from the contract, not from the training rows: a declared category that did not occur
in training still has a code (or a one-hot column), and serving a new version of the data never shifts
the codes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

from .contract_io import NUMERIC_TYPES, Feature
from .families import estimator


def _groups(features: tuple[Feature, ...]) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = {"numeric": [], "boolean": [], "category": []}
    for index, feature in enumerate(features):
        groups["numeric" if feature.type in NUMERIC_TYPES else feature.type].append(index)
    return groups


def _categories(features: tuple[Feature, ...], indexes: list[int]) -> list[list[str]]:
    return [list(features[i].categories) for i in indexes]


def _preprocessor(
    features: tuple[Feature, ...], family: str, max_bins: int
) -> tuple[ColumnTransformer, list[bool]]:
    """The ColumnTransformer, and which of its output columns hold category codes."""
    groups = _groups(features)
    numeric, boolean, category = groups["numeric"], groups["boolean"], groups["category"]
    categories = _categories(features, category)
    steps: list[tuple[str, Any, list[int]]] = []
    codes: list[bool] = []
    if family == "hist_gradient_boosting":
        steps.append(("numbers", "passthrough", numeric + boolean))
        encoder = OrdinalEncoder(
            categories=categories,
            handle_unknown="use_encoded_value",
            unknown_value=np.nan,
            encoded_missing_value=np.nan,
        )
        steps.append(("categories", encoder, category))
        # More categories than bins cannot be split as categories; their codes are ordered numbers then.
        codes = [False] * len(numeric + boolean) + [len(c) <= max_bins for c in categories]
    elif family == "random_forest":
        steps.append(("numbers", SimpleImputer(strategy="median"), numeric))
        steps.append(("booleans", SimpleImputer(strategy="most_frequent"), boolean))
        encoder = OrdinalEncoder(
            categories=categories,
            handle_unknown="use_encoded_value",
            unknown_value=-1,
            encoded_missing_value=-1,
        )
        steps.append(("categories", encoder, category))
    else:
        scaled = Pipeline(
            [("impute", SimpleImputer(strategy="median", add_indicator=True)), ("scale", StandardScaler())]
        )
        steps.append(("numbers", scaled, numeric))
        steps.append(("booleans", SimpleImputer(strategy="most_frequent"), boolean))
        steps.append(
            (
                "categories",
                OneHotEncoder(categories=categories, handle_unknown="ignore", sparse_output=False),
                category,
            )
        )
    used = [(name, transformer, columns) for name, transformer, columns in steps if columns]
    return ColumnTransformer(used, remainder="drop", sparse_threshold=0.0), codes


def build_pipeline(
    features: tuple[Feature, ...], task: str, family: str, hyperparameters: dict[str, Any], seed: int
) -> Pipeline:
    """The unfitted Pipeline: preprocessing (see the module docstring) and the family's estimator.

    Parameters
    ----------
    features : tuple of Feature
        The signature's features, in feature matrix order.
    task : {"classification", "regression"}
    family : str
        One of the families in :mod:`mlops_training.families`.
    hyperparameters : dict
        Resolved hyperparameters of the family.
    seed : int
        ``random_state`` of the estimator.

    Returns
    -------
    sklearn.pipeline.Pipeline
        Steps ``preprocess`` and ``model``; fit it on a feature matrix and a target vector.
    """
    max_bins = int(hyperparameters.get("max_bins", 255))
    preprocess, codes = _preprocessor(features, family, max_bins)
    model = estimator(family, task, hyperparameters, seed, codes)
    return Pipeline([("preprocess", preprocess), ("model", model)])
