"""The labelled rows' schema: fixed columns, the contract's in order and type, the prediction by task."""

from __future__ import annotations

import pyarrow as pa
import pytest

from domain.feedback.labelled import (
    LabelledSchemaError,
    labelled_rows_key,
    labelled_schema,
    quarantine_report_key,
    report_key,
)
from tests.unit.conftest import make_contract

UTC_MICROS = pa.timestamp("us", tz="UTC")


def test_schema_has_fixed_columns_then_contract_columns_then_prediction_probabilities_and_target() -> None:
    # Given a contract with one column of each type and a boolean target
    contract = make_contract()

    # When the labelled schema is built for a classifier
    schema = labelled_schema(contract, "classification")

    # Then the fixed columns come first, the features keep the contract's order and type, the target is last
    assert schema.names == [
        "inference_id", "model_version", "captured_at", "labelled_at",
        "id", "amount", "plan", "signed_up", "note", "prediction", "probabilities", "active",
    ]  # fmt: skip
    assert schema.field("model_version").type == pa.int64()
    assert schema.field("captured_at").type == UTC_MICROS
    assert schema.field("id").type == pa.int64()
    assert schema.field("amount").type == pa.float64()
    assert schema.field("plan").type == pa.string()
    assert schema.field("signed_up").type == UTC_MICROS
    assert schema.field("prediction").type == pa.string()
    assert schema.field("probabilities").type == pa.map_(pa.string(), pa.float64())
    assert schema.field("probabilities").nullable
    assert schema.field("active").type == pa.bool_()
    assert not schema.field("active").nullable and schema.field("amount").nullable


def test_prediction_is_a_float_for_regression_and_follows_the_target_when_no_task_is_given() -> None:
    # Given a contract whose target is a float column
    contract = make_contract(target="amount")

    # When the schema is built with the task given, and without it
    given, implied = labelled_schema(contract, "regression"), labelled_schema(contract)

    # Then the prediction is a float64 both times
    assert given.field("prediction").type == pa.float64() == implied.field("prediction").type
    assert given.names[-1] == "amount"
    assert "probabilities" not in given.names  # a regressor gives none


def test_a_contract_column_named_like_a_fixed_column_is_refused_with_its_name() -> None:
    # Given a contract with a column called prediction
    columns = [{"name": "prediction", "type": "float"}, {"name": "active", "type": "boolean"}]
    contract = make_contract(columns=columns)

    # When / Then the schema cannot be built, and the error names the column and what to do
    with pytest.raises(LabelledSchemaError, match=r"'prediction'.*rename it in the contract"):
        labelled_schema(contract)


def test_keys_of_a_feedback_file() -> None:
    assert labelled_rows_key("churn", "ab" * 32) == f"labels/churn/{'ab' * 32}/rows.parquet"
    assert report_key("churn", "cd") == "labels/churn/cd/report.json"
    assert quarantine_report_key("churn", "cd") == "quarantine/feedback/churn/cd/report.json"
