"""The sections of a dataset contract besides its columns: limits, statistical checks, CSV dialect, serving.

Each is a part of :class:`domain.data.contract.DatasetContract` (where the contract's format is
described), validated with it.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from spec.values import DEFAULT_FALSE_VALUES, DEFAULT_NULL_VALUES, DEFAULT_TRUE_VALUES

__all__ = [
    "MAX_EPHEMERAL_STORAGE_BYTES",
    "STORAGE_HOLDS",
    "CsvDialect",
    "FieldError",
    "Limits",
    "NewCategories",
    "NullRateSpike",
    "RowCountDrop",
    "SectionModel",
    "ServingPolicy",
    "StatisticalChecks",
    "max_file_bytes_for",
]

Action = Literal["warn", "reject", "off"]
GIB = 1024**3
# Lambda's ephemeral storage (/tmp): at most 10,240 MB,
# https://docs.aws.amazon.com/lambda/latest/api/API_EphemeralStorage.html
MAX_EPHEMERAL_STORAGE_BYTES = 10_240 * 1024**2


class FieldError(ValueError):
    """A validation error raised by a model validator that belongs to a specific field.

    Model-level validators can only report the model's own location; this carries the field path
    (relative to that model) so that ``domain.data.contract.load_contract`` can print ``columns.3.min``
    rather than ``columns.3`` (and ``domain.training.config.parse_training_config`` ``model.family``).
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class SectionModel(BaseModel):
    """A part of a contract: unknown keys are errors, and a validated contract does not change."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# Why max_file_bytes_for halves the storage, in the words of the messages that apply it.
STORAGE_HOLDS = (
    "the validation function holds a Parquet upload (copied to its ephemeral storage to be read) and "
    "its snapshot, each up to limits.max_file_bytes, in its ephemeral storage at once"
)


def max_file_bytes_for(ephemeral_storage_bytes: int) -> int:
    """The largest upload the validation function can take with that much ephemeral storage.

    At its peak it holds two files in ``/tmp``: a Parquet upload spooled for random access (reading
    stops past ``limits.max_file_bytes``) and the snapshot, which is the file then uploaded (written
    no further than ``limits.max_file_bytes``: past it, the upload is rejected; see
    ``domain.data.validation.snapshot``). A CSV upload is read as a stream and holds the snapshot alone.
    So half of the storage. That is also within S3's limits: the snapshot is written with a multipart
    upload past 5 GB (``adapters.s3_objects``), and an object may have 5 TB.
    """
    return ephemeral_storage_bytes // 2


class Limits(SectionModel):
    """Hard limits checked before and while reading a file."""

    max_file_bytes: Annotated[int, Field(gt=0)] = 5 * GIB
    min_rows: Annotated[int, Field(ge=0)] = 1
    max_columns: Annotated[int, Field(gt=0)] = 1_000

    @field_validator("max_file_bytes")
    @classmethod
    def _within_what_the_platform_holds(cls, value: int) -> int:
        most = max_file_bytes_for(MAX_EPHEMERAL_STORAGE_BYTES)
        if value > most:
            raise ValueError(
                f"{value:,} bytes is more than the validation function can hold: {STORAGE_HOLDS} (at most "
                f"10,240 MB), so at most {most:,}; split the data into several uploads"
            )
        return value


class NullRateSpike(SectionModel):
    """Flag a column whose null fraction rose by more than ``max_increase`` (absolute, 0.05 = 5 points)."""

    max_increase: Annotated[float, Field(ge=0, le=1)] = 0.05
    action: Action = "warn"


class RowCountDrop(SectionModel):
    """Flag a version with fewer than ``(1 - max_drop_fraction)`` times the previous version's rows."""

    max_drop_fraction: Annotated[float, Field(ge=0, le=1)] = 0.5
    action: Action = "warn"


class NewCategories(SectionModel):
    """Flag values of a ``category`` or ``boolean`` column that the previous accepted version never had.

    The contract may allow them (its list grew, or a rare value had simply not occurred yet); they
    still deserve a look because a model trained on the previous version has never seen them.
    Free-text ``string`` columns are not checked: their profile keeps only the most frequent values,
    so "absent from the previous profile" would not mean "never seen".
    """

    action: Action = "warn"


class StatisticalChecks(SectionModel):
    """Comparisons with the profile of the previous accepted version of the dataset."""

    null_rate_spike: NullRateSpike = Field(default_factory=NullRateSpike)
    row_count_drop: RowCountDrop = Field(default_factory=RowCountDrop)
    new_categories: NewCategories = Field(default_factory=NewCategories)


class CsvDialect(SectionModel):
    """How CSV files of this dataset are written. A header row is always required."""

    delimiter: Annotated[str, Field(min_length=1, max_length=1)] = ","
    quote_char: Annotated[str, Field(min_length=1, max_length=1)] = '"'
    header: Literal[True] = True
    null_values: list[str] = Field(default_factory=lambda: list(DEFAULT_NULL_VALUES))
    true_values: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=lambda: list(DEFAULT_TRUE_VALUES)
    )
    false_values: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=lambda: list(DEFAULT_FALSE_VALUES)
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.delimiter in "\r\n" or self.delimiter == self.quote_char:
            raise FieldError(
                "delimiter", f"delimiter {self.delimiter!r} cannot be a line break or the quote character"
            )
        both = sorted(set(self.true_values) & set(self.false_values))
        if both:
            raise FieldError("false_values", f"values are both true and false: {both}")
        return self


class ServingPolicy(SectionModel):
    """How the endpoint treats a request that the contract does not fully describe.

    Attributes
    ----------
    unknown_categories : {"reject", "as_missing"}
        A value of a ``category`` column outside its ``categories``: answer 400 (default), or predict
        with the value treated as missing (the model's preprocessing handles a missing category) and
        say so in the response's ``warnings``.
    """

    unknown_categories: Literal["reject", "as_missing"] = "reject"
