"""What a request must look like: the model's signature and the dataset's contract, as serving reads them."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .checks import ColumnCheck, column_check

DEFAULT_MAX_PAYLOAD_BYTES = 6 * 1024 * 1024  # SageMaker real-time endpoints' own limit


@dataclass(frozen=True)
class Column:
    """One contract column: its type and the contract's rules for its values."""

    name: str
    type: str
    nullable: bool
    minimum: float | None
    maximum: float | None
    categories: frozenset[str]
    allow_nan_inf: bool
    feature: int | None  # index in the feature matrix, or None when the model does not read it


@dataclass(frozen=True)
class ServingSpec:
    """What a request must look like, from the model's signature and the dataset's contract.

    Attributes
    ----------
    features : tuple of str
        The model's input columns, in feature matrix order (and headerless CSV order).
    columns : dict
        Every contract column by name.
    task : {"classification", "regression"}
    classes : list, optional
        The class labels, in probability order.
    extra_columns : {"reject", "warn", "ignore"}
    unknown_categories : {"reject", "as_missing"}
    max_payload_bytes : int
    """

    features: tuple[str, ...]
    columns: dict[str, Column]
    task: str
    classes: list[Any] | None
    extra_columns: str
    unknown_categories: str
    true_values: frozenset[str]
    false_values: frozenset[str]
    null_values: frozenset[str]
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES
    labels: tuple[str, ...] = field(default=())

    @functools.cached_property
    def checks(self) -> dict[str, ColumnCheck]:
        """Each feature column's check (:mod:`.checks`), made once."""
        return {
            name: column_check(self, column)
            for name, column in self.columns.items()
            if column.feature is not None
        }

    @classmethod
    def from_documents(
        cls, signature: dict[str, Any], contract: dict[str, Any], max_payload_bytes: int | None = None
    ) -> ServingSpec:
        """Build from ``model_signature.json`` and ``contract.json`` (as the model archive holds them)."""
        features = tuple(f["name"] for f in signature["features"])
        index = {name: i for i, name in enumerate(features)}
        columns = {
            c["name"]: Column(
                name=c["name"],
                type=c["type"],
                nullable=bool(c.get("nullable", False)),
                minimum=c.get("min"),
                maximum=c.get("max"),
                categories=frozenset(c.get("categories") or ()),
                allow_nan_inf=bool(c.get("allow_nan_inf", False)),
                feature=index.get(c["name"]),
            )
            for c in contract["columns"]
        }
        missing = [name for name in features if name not in columns]
        if missing:
            raise ValueError(f"the model reads {missing}, which the contract does not declare")
        dialect = contract.get("csv") or {}
        classes = signature.get("classes")
        return cls(
            features=features,
            columns=columns,
            task=signature["task"],
            classes=classes,
            extra_columns=contract.get("extra_columns", "reject"),
            unknown_categories=(contract.get("serving") or {}).get("unknown_categories", "reject"),
            true_values=frozenset(dialect.get("true_values", ["true", "True", "TRUE", "1"])),
            false_values=frozenset(dialect.get("false_values", ["false", "False", "FALSE", "0"])),
            null_values=frozenset(dialect.get("null_values", ["", "NA", "N/A", "null", "NULL", "None"])),
            max_payload_bytes=max_payload_bytes or DEFAULT_MAX_PAYLOAD_BYTES,
            labels=tuple(_label(c) for c in classes or ()),
        )

    @classmethod
    def from_model_dir(cls, model_dir: Path, max_payload_bytes: int | None = None) -> ServingSpec:
        """Read ``model_signature.json`` and ``contract.json`` from an extracted model archive."""
        signature = json.loads((model_dir / "model_signature.json").read_text(encoding="utf-8"))
        contract = json.loads((model_dir / "contract.json").read_text(encoding="utf-8"))
        return cls.from_documents(signature, contract, max_payload_bytes)


def _label(value: Any) -> str:
    """A class label as a JSON answer's probability key names it (``true``, not ``True``)."""
    return str(value).lower() if isinstance(value, bool) else str(value)
