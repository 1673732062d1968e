"""The join of labels with captured rows: types as the contract declares them, every case counted."""

from __future__ import annotations

import io
import math
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa

from domain.feedback.join import captured_table, join_labels
from domain.feedback.labelled import labelled_schema
from domain.feedback.labels_file import LabelsFile, check_labels
from domain.monitoring.capture_records import CaptureWindow
from domain.monitoring.columns import CaptureSchema
from domain.monitoring.rows import VersionRows
from domain.training.config import parse_training_config
from tests.feedback_support import HEADER, NOW, contract

SHOP = contract()
TRAINING = parse_training_config({}, contract=SHOP)
SCHEMA = CaptureSchema.of(SHOP, TRAINING)
LABELLED = labelled_schema(SHOP, "classification")


def _rows(version: int, ids: list[str | None], *, captured_at: list[float], age: list[float]) -> VersionRows:
    n = len(ids)
    return VersionRows(
        version=version,
        rows=n,
        requests=n,
        columns={
            "age": np.array(age),
            "income": np.array([math.nan] + [1.5] * (n - 1)),
            "signup": np.full(n, datetime(2026, 1, 2, tzinfo=UTC).timestamp()),
            "plan": ["pro"] * n,
            "active": [None] + ["false"] * (n - 1),
            "predicted_label": ["true"] * n,
        },
        inference_ids=ids,
        captured_at=np.array(captured_at),
    )


def _labels(text: str) -> LabelsFile:
    checked = check_labels(lambda: io.BytesIO(text.encode()), SHOP)
    assert isinstance(checked, LabelsFile), checked
    return checked


def _window(*versions: VersionRows) -> CaptureWindow:
    return CaptureWindow(since=NOW, until=NOW, versions={v.version: v for v in versions}, files=1)


def test_captured_values_take_the_contracts_types_and_rows_without_an_id_are_left_out() -> None:
    # Given version 1's rows: an ID-less row, a NaN income, a None boolean, an age that is not whole
    rows = _rows(1, ["a", None, "b"], captured_at=[100.0, 101.0, 102.25], age=[30.0, 31.0, 32.5])

    # When they are put in the labelled schema's columns
    table = captured_table(_window(rows), SCHEMA, LABELLED)

    # Then the ID-less row is gone; missing values are nulls; each column has its contract type
    assert table.column("inference_id").to_pylist() == ["a", "b"]
    assert table.column("age").to_pylist() == [30, None]
    assert table.column("income").to_pylist() == [None, 1.5]
    assert table.column("active").to_pylist() == [None, False]
    assert table.column("signup").to_pylist() == [datetime(2026, 1, 2, tzinfo=UTC)] * 2
    assert table.column("captured_at").to_pylist()[1] == datetime.fromtimestamp(102.25, UTC)
    assert table.column("note").null_count == 2
    assert table.schema.field("age").type == pa.int64()


def test_an_id_captured_twice_joins_its_newest_request_and_is_counted() -> None:
    # Given the ID "a" answered by version 1, then again (later) by version 2
    older = _rows(1, ["a", "b"], captured_at=[100.0, 100.0], age=[30.0, 40.0])
    newer = _rows(2, ["a"], captured_at=[200.0], age=[50.0])
    captured = captured_table(_window(older, newer), SCHEMA, LABELLED)

    # When "a" and "b" are labelled, "b" having been labelled by another file before
    joined = join_labels(
        _labels(HEADER + "a,true\nb,false\n").labels, captured, target="churned", labelled_at=NOW,
        schema=LABELLED, labelled_before=pa.array(["b", "x"]),
    )  # fmt: skip

    # Then "a" is joined with version 2's request, and each case is counted with its IDs
    assert joined.rows.column("model_version").to_pylist() == [2, 1]
    assert joined.rows.column("age").to_pylist() == [50, 40]
    assert (joined.captured_twice.count, joined.captured_twice.examples) == (1, ("a",))
    assert (joined.relabelled.count, joined.relabelled.examples) == (1, ("b",))
    assert joined.versions() == {1: 1, 2: 1}
    assert joined.rows.schema == LABELLED


def test_examples_are_bounded_and_in_the_files_order() -> None:
    # Given no captures and a file of 30 IDs, each twice
    ids = [f"id{i:02d}" for i in range(30)]
    text = HEADER + "".join(f"{i},true\n" for i in ids * 2)

    # When joined
    joined = join_labels(
        _labels(text).labels, captured_table(_window(), SCHEMA, LABELLED), target="churned",
        labelled_at=NOW, schema=LABELLED, labelled_before=pa.array([], pa.string()),
    )  # fmt: skip

    # Then all are counted, and 20 examples are given, the first ones
    assert (joined.unknown.count, joined.duplicate.count, joined.matched) == (30, 30, 0)
    assert joined.unknown.examples == tuple(ids[:20]) == joined.duplicate.examples
