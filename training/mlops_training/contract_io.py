"""The model's input: which columns it reads and how a table of them becomes a feature matrix.

The contract arrives as ``contract.json`` (the dataset's contract, as the platform validated it) and
the configuration as ``training.json``; which columns are features is :mod:`spec.features`'s rule, the
one the platform checked the configuration with.

Feature matrix convention (what ``model.joblib`` expects, recorded in ``model_signature.json``): a
2-D ``object`` array, one column per feature in signature order; numbers as floats (NaN for null),
booleans as 0.0/1.0, timestamps as seconds since the epoch, categories as ``str`` (NaN for null).
No pandas: the same arrays are built from Arrow tables here and from requests at inference.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from spec.features import is_feature

SIGNATURE_FORMAT = 1
NUMERIC_TYPES = ("integer", "float", "timestamp")


class TrainingInputError(Exception):
    """The job's inputs (channels, contract, configuration, hyperparameters) cannot be used as given."""


@dataclass(frozen=True)
class Feature:
    """One input column of the model."""

    name: str
    type: str
    categories: tuple[str, ...] = ()
    nullable: bool = False


@dataclass(frozen=True)
class Signature:
    """What a trained model reads and predicts, saved as ``model_signature.json`` next to the model.

    Attributes
    ----------
    task : {"classification", "regression"}
    target : Feature
    features : tuple of Feature
        In the order of the feature matrix's columns.
    classes : list, optional
        Classification: the class labels, in the order of ``predict_proba``'s columns.
    positive_class : optional
        Binary classification: the label F1 and ROC AUC treat as positive.
    """

    task: str
    target: Feature
    features: tuple[Feature, ...]
    classes: list[Any] | None = None
    positive_class: Any = None
    format: int = field(default=SIGNATURE_FORMAT)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Signature:
        """Read the JSON form (raises TrainingInputError when it is not one)."""
        try:
            return cls(
                task=data["task"],
                target=_feature(data["target"]),
                features=tuple(_feature(f) for f in data["features"]),
                classes=data.get("classes"),
                positive_class=data.get("positive_class"),
                format=data.get("format", SIGNATURE_FORMAT),
            )
        except (KeyError, TypeError) as error:
            raise TrainingInputError(f"not a model signature: missing or invalid {error}") from None


def _feature(column: dict[str, Any]) -> Feature:
    return Feature(
        name=column["name"],
        type=column["type"],
        categories=tuple(column.get("categories") or ()),
        nullable=bool(column.get("nullable", False)),
    )


def signature_from(contract: dict[str, Any], training: dict[str, Any]) -> Signature:
    """The signature a model trained with this contract and configuration will have (classes unset)."""
    try:
        columns = {c["name"]: _feature(c) for c in contract["columns"]}
        target = columns[contract["target"]]
    except (KeyError, TypeError) as error:
        raise TrainingInputError(f"contract.json is not a dataset contract: missing {error}") from None
    task = training.get("task")
    if task not in ("classification", "regression"):
        raise TrainingInputError(
            f"training.json: task is {task!r}; expected 'classification' or 'regression' (the platform "
            "writes the configuration resolved by parse_training_config)"
        )
    key_column = (training.get("split") or {}).get("key_column")
    exclude_columns = training.get("exclude_columns", [])
    features = tuple(
        f
        for f in columns.values()
        if is_feature(
            f.name, f.type, target=target.name, key_column=key_column, exclude_columns=exclude_columns
        )
    )
    if not features:
        raise TrainingInputError("the contract and configuration leave no feature column to learn from")
    return Signature(
        task=task, target=target, features=features, positive_class=training.get("positive_class")
    )


def read_channel(folder: Path, name: str) -> pa.Table:
    """Every ``.parquet`` file under a channel's folder, as one table (files in name order)."""
    files = sorted(folder.rglob("*.parquet")) if folder.is_dir() else []
    if not files:
        raise TrainingInputError(f"the {name} channel ({folder}) has no .parquet file")
    tables = [pq.read_table(path) for path in files]
    try:
        return pa.concat_tables(tables)
    except pa.ArrowInvalid as error:
        raise TrainingInputError(f"the {name} channel's files do not share one schema: {error}") from None


def require_columns(table: pa.Table, names: list[str], where: str) -> None:
    """Fail with the names of the columns ``table`` lacks."""
    missing = [n for n in names if n not in table.column_names]
    if missing:
        raise TrainingInputError(f"{where} lacks the column(s) {', '.join(map(repr, missing))}")


def feature_matrix(table: pa.Table, features: tuple[Feature, ...]) -> npt.NDArray[np.object_]:
    """The feature matrix of ``table`` (see the module docstring for the convention).

    Parameters
    ----------
    table : pyarrow.Table
        Has every feature column (in any order; other columns are ignored).
    features : tuple of Feature
        The signature's features.

    Returns
    -------
    numpy.ndarray of object, shape (rows, features)
    """
    matrix = np.empty((table.num_rows, len(features)), dtype=object)
    for index, feature in enumerate(features):
        column = table.column(feature.name)
        if feature.type in ("category", "string"):
            if pa.types.is_dictionary(column.type):
                column = column.cast(pa.string())
            values = column.to_numpy(zero_copy_only=False).astype(object)
            values[column.is_null().to_numpy(zero_copy_only=False)] = np.nan
        elif feature.type == "timestamp":
            values = column.cast(pa.int64()).cast(pa.float64()).to_numpy(zero_copy_only=False) / 1e6
        else:  # integer, float, boolean
            values = column.cast(pa.float64()).to_numpy(zero_copy_only=False)
        matrix[:, index] = values
    return matrix


def target_vector(table: pa.Table, target: Feature, task: str, where: str) -> npt.NDArray[Any]:
    """The target as a numpy array: floats (regression) or labels (int, bool or str)."""
    column = table.column(target.name)
    if column.null_count:
        raise TrainingInputError(f"{where} has {column.null_count} rows with a null target {target.name!r}")
    if pa.types.is_dictionary(column.type):
        column = column.cast(pa.string())
    if task == "regression":
        result: npt.NDArray[Any] = column.cast(pa.float64()).to_numpy(zero_copy_only=False)
    else:
        result = column.to_numpy(zero_copy_only=False)
    return result
