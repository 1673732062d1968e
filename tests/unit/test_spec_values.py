"""spec.values: the contract's value rules, as the validator reads whole columns and the endpoint one value.

The validator's fast path lets Arrow's CSV reader convert a column; when that fails, its diagnostic pass
(``domain.data.validation.convert``, with ``spec.values``' syntax) must find exactly the values the
reader refused, and read the others as the reader does. The endpoint reads the dialect's null and
boolean spellings, bounds and categories with ``spec.values`` (numbers and timestamps as Python does:
``tests/unit/test_serving_checks.py``).
"""

from __future__ import annotations

import io
import math
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from domain.data.contract import Column, CsvDialect
from domain.data.validation.convert import convert_text
from spec.values import ColumnRule, Dialect, is_null, read_boolean

NUMBER_TEXTS = [
    "0", "42", "+7", "-13", " 5 ", "\t6", "0x1F", "-0x10", "0xZZ", "3.0", "3.", ".5", "-2.5e3", "1E-2",
    "1e", "e5", "1.2.3", "1_000", "12abc", "abc", "nan", "NaN", "-inf", "Infinity", "+INF", "infinit",
    "9223372036854775807", "9223372036854775808", "-9223372036854775808",
    "0x7FFFFFFFFFFFFFFF", "0xFFFFFFFFFFFFFFFF", "٣", "1 000", "--1", "+",
]  # fmt: skip
TIMESTAMP_TEXTS = [
    "2024-05-01", "2024-05-01T10:00:00", "2024-05-01 10:00:00", "2024-05-01T10:00:00Z",
    "2024-05-01T10:00:00+02:00", "2024-05-01T10:00:00.123456", " 2024-05-01 ", "2024-13-01",
    "2024-02-30", "01/05/2024", "2024-05-01T25:00:00", "yesterday", "2024-5-1",
]  # fmt: skip


def _read_by_the_csv_reader(text: str, type_: str) -> Any:
    """What the fast path reads a field as (None when it refuses it)."""
    arrow_type = {"integer": pa.int64(), "float": pa.float64()}[type_]
    options = pacsv.ConvertOptions(column_types={"x": arrow_type}, null_values=[], strings_can_be_null=False)
    body = 'x\n"' + text + '"\n'
    try:
        return pacsv.read_csv(io.BytesIO(body.encode()), convert_options=options).column(0)[0].as_py()
    except pa.ArrowInvalid:
        return None


@pytest.mark.parametrize("type_", ["integer", "float"])
def test_the_diagnostic_pass_refuses_a_number_exactly_when_the_csv_reader_does(type_: str) -> None:
    converted, invalid = convert_text(
        pa.array(NUMBER_TEXTS, pa.string()), Column(name="x", type=type_), CsvDialect()
    )

    validator = [None if bad else value for value, bad in zip(converted.to_pylist(), invalid, strict=True)]
    reader = [_read_by_the_csv_reader(text, type_) for text in NUMBER_TEXTS]

    assert [v is None for v in validator] == [v is None for v in reader]
    for mine, theirs in zip(validator, reader, strict=True):
        if mine is not None and theirs is not None:
            assert mine == theirs or (math.isnan(mine) and math.isnan(theirs))
    assert sum(v is not None for v in validator) >= 10  # not a test of refusals alone


def test_a_timestamp_is_iso_8601_and_utc_without_an_offset() -> None:
    converted, invalid = convert_text(
        pa.array(TIMESTAMP_TEXTS, pa.string()), Column(name="t", type="timestamp"), CsvDialect()
    )

    validator = [None if bad else value for value, bad in zip(converted.to_pylist(), invalid, strict=True)]

    day, ten = datetime(2024, 5, 1, tzinfo=UTC), datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert validator == [
        day, ten, ten, ten, datetime(2024, 5, 1, 8, tzinfo=UTC), ten.replace(microsecond=123456), day,
        None, None, None, None, None, None,
    ]  # fmt: skip


def test_booleans_and_nulls_are_the_dialect_s_spellings_exactly() -> None:
    texts = ["true", "True", "1", "yes", " true", "false", "FALSE", "0", "", "NA"]
    dialect = Dialect.from_dict(None)
    converted, invalid = convert_text(
        pa.array(texts, pa.string()), Column(name="b", type="boolean"), CsvDialect()
    )

    validator = [None if bad else value for value, bad in zip(converted.to_pylist(), invalid, strict=True)]

    assert [read_boolean(text, dialect) for text in texts] == validator
    assert [is_null(text, dialect) for text in texts] == [t in CsvDialect().null_values for t in texts]
    custom = Dialect.from_dict({"true_values": ["Y"], "false_values": ["N"], "null_values": ["-"]})
    assert (read_boolean("Y", custom), read_boolean("true", custom), is_null("", custom)) == (
        True,
        None,
        False,
    )


def test_the_contract_s_dialect_defaults_are_the_spec_s() -> None:
    dialect = CsvDialect()

    assert Dialect.from_dict(dialect.model_dump()) == Dialect()


def test_a_column_admits_finite_numbers_within_its_bounds_and_nan_only_when_allowed() -> None:
    rule = ColumnRule.from_dict({"name": "x", "type": "float", "min": 0, "max": 10})
    lenient = ColumnRule.from_dict({"name": "x", "type": "float", "min": 0, "allow_nan_inf": True})

    assert [rule.number_problem(v) for v in (0, 10, -0.5, 10.5, math.nan, math.inf)] == [
        None, None, "below_min", "above_max", "not_finite", "not_finite",
    ]  # fmt: skip
    assert [lenient.number_problem(v) for v in (math.nan, -math.inf, -1)] == [None, None, "below_min"]
    category = ColumnRule.from_dict({"name": "c", "type": "category", "categories": ["a", "b"]})
    assert (category.admits_category("a"), category.admits_category("A")) == (True, False)
    assert np.isnan(float("nan"))  # NaN is a float value, never a null spelling
    assert not is_null("NaN", Dialect())
