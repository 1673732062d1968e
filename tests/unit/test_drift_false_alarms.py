"""The monitor's verdict on undrifted churn traffic: no window of 200 rows judged drifting, at the
monitor's default settings (false-alarm rate 1% split over the columns, minimum effect 0.1, drifted
share 0.1), with a baseline built as the training job builds it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from domain.monitoring.capture_records import VersionRows
from domain.monitoring.compare import compare_version
from domain.monitoring.config import MonitoringConfig
from examples.churn import chunks
from spec.drift.baseline import DriftBaseline, build_baseline
from spec.drift.scores import Kind

TRAINING_ROWS = 50_000
WINDOWS = 200
WINDOW_ROWS = 200


def _columns(table: pa.Table) -> dict[str, tuple[Kind, Any]]:
    """The churn rows as the monitor sees them: numbers (null as NaN), categories as str, the label."""
    columns: dict[str, tuple[Kind, Any]] = {}
    for name in table.column_names:
        column = table.column(name)
        if name == "churned":  # a classifier's predictions take the target's shares
            columns["predicted_label"] = ("categorical", [str(value) for value in column.to_pylist()])
        elif pa.types.is_dictionary(column.type):
            columns[name] = ("categorical", column.cast(pa.string()).to_pylist())
        else:
            values = column.cast(pa.float64()).to_numpy(zero_copy_only=False)
            columns[name] = ("numeric", np.asarray(values, dtype=np.float64))
    return columns


@pytest.fixture(scope="module")
def baseline() -> DriftBaseline:
    training = _columns(pa.concat_tables(chunks(TRAINING_ROWS, seed=7)))
    prediction = {"predicted_label": training.pop("predicted_label")}
    return build_baseline(training, prediction, seed=0)


def test_two_hundred_undrifted_windows_of_200_rows_raise_no_drift(baseline: DriftBaseline) -> None:
    # Given fresh churn traffic from the training distribution (another seed), cut into 200 windows
    live = _columns(pa.concat_tables(chunks(WINDOWS * WINDOW_ROWS, seed=8)))
    config = MonitoringConfig()
    # When each window is compared with the baseline at the monitor's default settings
    results = []
    for index in range(WINDOWS):
        rows = slice(index * WINDOW_ROWS, (index + 1) * WINDOW_ROWS)
        columns = {name: values[rows] for name, (_, values) in live.items()}
        window = VersionRows(version=1, rows=WINDOW_ROWS, requests=WINDOW_ROWS, columns=columns)
        results.append(compare_version(window, baseline, config))
    # Then the tail is the false-alarm rate over the 19 features and the prediction
    assert results[0].tail == pytest.approx(0.01 / 20)
    # And no window drifts, and no feature of any window is flagged
    assert [r.version for r in results if r.status != "no_drift"] == []
    assert sum(len(r.drifted_features) + r.prediction_drifted for r in results) == 0
