"""The demo's closed loop: its traffic names each row, its labels name those rows, its configuration holds."""

from __future__ import annotations

from pathlib import Path

import pyarrow.csv as pacsv

from cli.demo_loop import ID_COLUMN, demo_context, make_labelled_traffic, make_windows
from cli.target import PROJECT_ROOT
from domain.monitoring.performance_config import resolve_performance
from stacks.config import load_platform


def test_the_labelled_traffic_names_each_row_and_the_labels_name_exactly_those_rows(tmp_path: Path) -> None:
    # Given the demo's requests sent with inference IDs and the labels that come back for them
    requests, labels = make_labelled_traffic(tmp_path)
    sent = pacsv.read_csv(requests)
    ids = sent.column(ID_COLUMN).to_pylist()
    # Then each request row has an ID of its own
    assert len(ids) == len(set(ids)) > 0
    # and the labels file is what `mlops feedback push` takes: the IDs of those rows and the target
    table = pacsv.read_csv(labels)
    assert table.column_names == ["inference_id", "churned"]
    assert table.column("inference_id").to_pylist() == ids
    assert set(table.column("churned").to_pylist()) <= {0, 1}
    # and most rows are from the north, where most customers now churn (the concept change)
    churned = table.column("churned").to_pylist()
    north = [c for c, r in zip(churned, sent.column("region").to_pylist(), strict=True) if r == "north"]
    assert len(north) > 0.7 * len(ids)
    assert sum(north) / len(north) > 0.6


def test_the_drift_windows_carry_no_id_and_no_target(tmp_path: Path) -> None:
    # Given the demo's drift windows
    normal, moved = make_windows(2, tmp_path)
    # Then they are plain requests: the model's features only
    for path in (normal, *moved):
        names = pacsv.read_csv(path).column_names
        assert ID_COLUMN not in names
        assert "churned" not in names


def test_the_demo_configuration_serves_churn_through_a_canary_and_watches_its_realized_performance() -> None:
    # Given cdk.json with the demo's changes
    mlops, said = demo_context()
    # When the platform's configuration reads it (as synth does)
    platform = load_platform(mlops, PROJECT_ROOT)
    # Then churn's update is a canary (whole instances: two, half of them first)
    serving = platform.config.datasets["churn"].serving
    assert serving.instance_count == 2
    assert serving.rollout.strategy == "canary"
    # and the performance alarm exists, whatever the gate's metric is
    churn = platform.config.datasets["churn"]
    assert resolve_performance(churn.monitoring.performance, platform.training["churn"]).enabled
    # and the demo says what it changed
    assert "canary" in said
    # and the drift alarm after the retrain run is decided on the data, not held back by a cooldown
    assert churn.retraining.cooldown_minutes == 0
