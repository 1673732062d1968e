"""Dataset contracts: what a dataset must look like before the platform accepts a version of it.

A contract is a YAML (or JSON) file under version control, for example ``contracts/churn.yaml``.
The CDK app imports this module at synth time to validate every contract before anything is
deployed, so it depends on pydantic and the standard library only (PyYAML is imported lazily,
inside :func:`load_contract`).

Example
-------
.. code-block:: yaml

    name: churn
    description: Monthly customer snapshot; churned says whether the customer left the next month.
    target: churned
    extra_columns: reject
    columns:
      - {name: customer_id, type: string}
      - {name: tenure_months, type: integer, min: 0, max: 600}
      - {name: monthly_charges, type: float, min: 0, nullable: true}
      - {name: contract_type, type: category, categories: [monthly, yearly, two_year]}
      - {name: churned, type: boolean}
    checks:
      null_rate_spike: {max_increase: 0.05, action: warn}
      row_count_drop: {max_drop_fraction: 0.5, action: reject}
      new_categories: {action: warn}

Value conventions (what the validator accepts) are :mod:`spec.values`'s: numbers (``NaN`` and
infinities only with ``allow_nan_inf``), the dialect's boolean and null spellings, ISO 8601 timestamps
(UTC without an offset), inclusive ``min``/``max``, categories from the list. The endpoint applies the
same spellings, bounds and categories, and reads numbers and timestamps as Python does (which differs at
the edges, as :mod:`spec.values` says).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BeforeValidator,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from domain.data.contract_sections import (
    MAX_EPHEMERAL_STORAGE_BYTES,
    STORAGE_HOLDS,
    CsvDialect,
    FieldError,
    Limits,
    NewCategories,
    NullRateSpike,
    RowCountDrop,
    SectionModel,
    ServingPolicy,
    StatisticalChecks,
    max_file_bytes_for,
)
from spec.values import NUMERIC_TYPES

__all__ = [
    "MAX_EPHEMERAL_STORAGE_BYTES",
    "STORAGE_HOLDS",
    "Column",
    "ColumnType",
    "ContractError",
    "CsvDialect",
    "DatasetContract",
    "Limits",
    "NewCategories",
    "NullRateSpike",
    "RowCountDrop",
    "ServingPolicy",
    "StatisticalChecks",
    "is_valid_name",
    "load_contract",
    "max_file_bytes_for",
    "parse_contract",
]

ColumnType = Literal["integer", "float", "string", "category", "boolean", "timestamp"]


def _finite_number(value: object) -> object:
    # Stricter than pydantic's lax mode on purpose: `min: true` or `min: "5"` in a contract is a
    # mistake to point out, not a value to coerce; and a bound of NaN or infinity means nothing.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"must be a number, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"must be a finite number, got {value!r}")
    return value


Bound = Annotated[int | float, BeforeValidator(_finite_number)]


class ContractError(ValueError):
    """A contract file cannot be read or does not describe a valid dataset.

    The message names the file and, for each problem, the field path, e.g.
    ``contracts/churn.yaml: columns.3.min: min (10) is greater than max (5)``.
    """


class Column(SectionModel):
    """One declared column.

    Attributes
    ----------
    name : str
        The header name, exactly as in the file (case-sensitive).
    type : {"integer", "float", "string", "category", "boolean", "timestamp"}
        The logical type; ``category`` is a string restricted to ``categories``.
    description : str
        What the column means, for people.
    nullable : bool
        Whether empty / null values are allowed (default False).
    min, max : int or float, optional
        Inclusive bounds, for ``integer`` and ``float`` columns only.
    categories : list of str
        The allowed values, required for (and only for) ``category`` columns.
    allow_nan_inf : bool
        For ``float`` columns: whether NaN and +/-infinity are acceptable values (default False).
    """

    name: Annotated[str, Field(min_length=1, max_length=255)]
    type: ColumnType
    description: str = ""
    nullable: bool = False
    min: Bound | None = None
    max: Bound | None = None
    categories: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=list)
    allow_nan_inf: bool = False

    @field_validator("name")
    @classmethod
    def _name_is_trimmed(cls, value: str) -> str:
        if value != value.strip():
            raise ValueError(f"column name {value!r} has leading or trailing spaces")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        numeric = self.type in NUMERIC_TYPES
        for bound in ("min", "max"):
            if getattr(self, bound) is not None and not numeric:
                raise FieldError(
                    bound, f"{bound} is only allowed for integer and float columns, not {self.type}"
                )
        if self.min is not None and self.max is not None and self.min > self.max:
            raise FieldError("min", f"min ({self.min}) is greater than max ({self.max})")
        if self.type == "category":
            if not self.categories:
                raise FieldError("categories", "a category column needs a non-empty categories list")
            duplicates = sorted(v for v, n in Counter(self.categories).items() if n > 1)
            if duplicates:
                raise FieldError("categories", f"categories are listed twice: {duplicates}")
        elif self.categories:
            raise FieldError(
                "categories", f"categories are only allowed for category columns, not {self.type}"
            )
        if self.allow_nan_inf and self.type != "float":
            raise FieldError("allow_nan_inf", "allow_nan_inf is only meaningful for float columns")
        return self


# A dataset's name is part of AWS resource names (model package group, endpoint, model card...), so it
# has SageMaker's shape (``[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}``, CreateModelPackageGroup,
# https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateModelPackageGroup.html) in
# lowercase: ``churn-`` would make the group ``<project>-churn-``, which SageMaker refuses. Whether a
# name fits together with the project is checked at synth (domain/platform_names.py).
_NAME = r"[a-z](-*[a-z0-9])+"
_NAME_LENGTH = (2, 63)
_NAME_RULE = (
    "2 to 63 lowercase letters, digits and hyphens, starting with a letter and ending with a letter or digit"
)


class DatasetContract(SectionModel):
    """The schema contract of one dataset.

    Attributes
    ----------
    name : str
        2 to 63 lowercase letters, digits and hyphens, starting with a letter and ending with a
        letter or digit; also the S3 prefix of the dataset and part of its AWS resource names.
    description : str
        What one row is, for people.
    target : str
        The column a model learns to predict; must be declared.
    columns : list of Column
        Non-empty; names are unique. The snapshot uses this order.
    extra_columns : {"reject", "warn", "ignore"}
        What to do with a column in the file that the contract does not declare. Extra columns are
        never kept in the accepted snapshot.
    limits : Limits
    checks : StatisticalChecks
    csv : CsvDialect
    serving : ServingPolicy
        What the endpoint does with requests (``extra_columns`` applies to request fields too).
    """

    name: str
    description: str = ""
    target: str
    columns: Annotated[list[Column], Field(min_length=1)]
    extra_columns: Literal["reject", "warn", "ignore"] = "reject"
    limits: Limits = Field(default_factory=Limits)
    checks: StatisticalChecks = Field(default_factory=StatisticalChecks)
    csv: CsvDialect = Field(default_factory=CsvDialect)
    serving: ServingPolicy = Field(default_factory=ServingPolicy)

    @field_validator("name")
    @classmethod
    def _name_is_valid(cls, value: str) -> str:
        if not is_valid_name(value):
            raise ValueError(f"dataset name {value!r} must be {_NAME_RULE}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        seen: dict[str, int] = {}
        for index, column in enumerate(self.columns):
            if column.name in seen:
                first = seen[column.name]
                raise FieldError(
                    f"columns.{index}.name",
                    f"column {column.name!r} is declared twice (also columns.{first})",
                )
            seen[column.name] = index
        if self.target not in seen:
            raise FieldError("target", f"target {self.target!r} is not a declared column")
        if len(self.columns) > self.limits.max_columns:
            raise FieldError(
                "limits.max_columns",
                f"the contract declares {len(self.columns)} columns, "
                f"more than max_columns ({self.limits.max_columns})",
            )
        return self

    @property
    def column_names(self) -> list[str]:
        """The declared column names, in contract order."""
        return [column.name for column in self.columns]

    def column(self, name: str) -> Column:
        """Return the declared column called ``name`` (KeyError if there is none)."""
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    @property
    def fingerprint(self) -> str:
        """SHA-256 (hex) of the canonical JSON form, recorded in reports to say which contract judged."""
        canonical = json.dumps(
            self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _describe(error: ValidationError, source: str) -> str:
    lines = []
    for item in error.errors():
        path = [str(part) for part in item["loc"]]
        cause = (item.get("ctx") or {}).get("error")
        if isinstance(cause, FieldError):
            path.append(cause.field)
            message = str(cause)
        else:
            message = item["msg"].removeprefix("Value error, ")
        lines.append(f"{source}: {'.'.join(path) or '<root>'}: {message}")
    return "\n".join(lines)


def parse_contract(data: Any, *, source: str = "<contract>") -> DatasetContract:
    """Validate an already-parsed mapping as a contract.

    Parameters
    ----------
    data : Any
        The mapping read from YAML or JSON (or built in code).
    source : str
        Where the data came from, used as the prefix of error messages.

    Returns
    -------
    DatasetContract

    Raises
    ------
    ContractError
        With one line per problem: ``<source>: <field path>: <message>``.
    """
    if not isinstance(data, dict):
        raise ContractError(f"{source}: <root>: a contract must be a mapping, got {type(data).__name__}")
    try:
        return DatasetContract.model_validate(data)
    except ValidationError as error:
        raise ContractError(_describe(error, source)) from None


def load_contract(path: str | Path) -> DatasetContract:
    """Read and validate a contract file (``.yaml``, ``.yml`` or ``.json``).

    Parameters
    ----------
    path : str or Path
        The contract file.

    Returns
    -------
    DatasetContract

    Raises
    ------
    ContractError
        If the file cannot be read or parsed, or does not describe a valid contract; the message
        names the file and the field path of each problem.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in {".yaml", ".yml", ".json"}:
        raise ContractError(f"{path}: unsupported contract file type {suffix!r} (use .yaml, .yml or .json)")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ContractError(f"{path}: cannot read the contract: {error}") from None
    if suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ContractError(f"{path}: line {error.lineno}: invalid JSON: {error.msg}") from None
    else:
        import yaml  # lazily: only contract files need it, and the Lambda runtime does not ship it

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            where = f"line {mark.line + 1}: " if mark is not None else ""
            problem = getattr(error, "problem", None) or str(error)
            raise ContractError(f"{path}: {where}invalid YAML: {problem}") from None
    return parse_contract(data, source=str(path))


def is_valid_name(name: str) -> bool:
    """Whether ``name`` is a valid dataset name (used to check S3 keys before looking a contract up)."""
    low, high = _NAME_LENGTH
    return low <= len(name) <= high and re.fullmatch(_NAME, name) is not None
