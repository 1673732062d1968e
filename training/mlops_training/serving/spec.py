"""What a request must look like: the model's signature and the dataset's contract, as serving reads them."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spec.values import ColumnRule, Dialect

from .checks import ColumnCheck, column_check

DEFAULT_MAX_PAYLOAD_BYTES = 6 * 1024 * 1024  # SageMaker real-time endpoints' own limit


@dataclass(frozen=True)
class ServingSpec:
    """What a request must look like, from the model's signature and the dataset's contract.

    Attributes
    ----------
    features : tuple of str
        The model's input columns, in feature matrix order (and headerless CSV order).
    columns : dict
        Every contract column's rules (``spec.values.ColumnRule``) by name.
    task : {"classification", "regression"}
    classes : list, optional
        The class labels, in probability order.
    extra_columns : {"reject", "warn", "ignore"}
    unknown_categories : {"reject", "as_missing"}
    dialect : spec.values.Dialect
        The contract's CSV spellings of nulls and booleans.
    max_payload_bytes : int
    """

    features: tuple[str, ...]
    columns: dict[str, ColumnRule]
    task: str
    classes: list[Any] | None
    extra_columns: str
    unknown_categories: str
    dialect: Dialect
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES
    labels: tuple[str, ...] = field(default=())

    @functools.cached_property
    def checks(self) -> dict[str, ColumnCheck]:
        """Each feature's check (:mod:`.checks`) by name, made once."""
        return {
            name: column_check(self.columns[name], feature, self.dialect, self.unknown_categories)
            for feature, name in enumerate(self.features)
        }

    @classmethod
    def from_documents(
        cls, signature: dict[str, Any], contract: dict[str, Any], max_payload_bytes: int | None = None
    ) -> ServingSpec:
        """Build from ``model_signature.json`` and ``contract.json`` (as the model archive holds them)."""
        features = tuple(f["name"] for f in signature["features"])
        columns = {c["name"]: ColumnRule.from_dict(c) for c in contract["columns"]}
        missing = [name for name in features if name not in columns]
        if missing:
            raise ValueError(f"the model reads {missing}, which the contract does not declare")
        classes = signature.get("classes")
        return cls(
            features=features,
            columns=columns,
            task=signature["task"],
            classes=classes,
            extra_columns=contract.get("extra_columns", "reject"),
            unknown_categories=(contract.get("serving") or {}).get("unknown_categories", "reject"),
            dialect=Dialect.from_dict(contract.get("csv")),
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
