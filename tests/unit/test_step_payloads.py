"""What the training pipeline's first step puts into the workflow's state is bounded (256 KiB per state).

Step Functions fails an execution whose state passes 256 KiB with ``States.DataLimitExceeded``, which
``States.ALL`` does not catch: a step's result and its error must not grow with the data.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from domain.training_run import (
    MAX_PROBLEMS_SHOWN,
    SplitRejectedError,
    prepare_run,
    problems_in_brief,
    split_prefix,
)
from tests.unit.test_training_run import (
    BUCKET,
    CONFIG,
    CONTRACT,
    RUN,
    SHA,
    FakeChampions,
    FakeStore,
    snapshot,
)

STATE_LIMIT = 256 * 1024


def test_a_split_of_thousands_of_classes_passes_on_a_bounded_summary_and_where_the_whole_is(
    tmp_path: Path,
) -> None:
    # Given a version already split, whose summary counts 50,000 target values per split
    prefix = split_prefix("sales", SHA, CONFIG.split.fingerprint)
    counts = {f"class-{n:05d}": 3 for n in range(50_000)}
    whole = {
        "rows": {"train": 120_000, "validation": 15_000, "test": 15_000},
        "dropped_null_target": 0,
        "target": {"train": counts, "validation": counts, "test": counts},
        "key_column": None,
        "fingerprint": CONFIG.split.fingerprint,
    }
    store = FakeStore({f"{BUCKET}{prefix}summary.json": json.dumps(whole).encode()})
    assert len(json.dumps(whole)) > STATE_LIMIT

    # When a run is prepared
    prepared = prepare_run(
        RUN, contract=CONTRACT, config=CONFIG, group="sales", store=store, champions=FakeChampions(),
        scratch=tmp_path,
    )  # fmt: skip

    # Then the step's output is small, and says where the whole summary is
    output = json.dumps(prepared.to_dict())
    assert len(output.encode()) < 4096
    assert prepared.summary["rows"] == whole["rows"]
    assert prepared.summary["summary_uri"] == f"{BUCKET}{prefix}summary.json"
    assert json.loads(store.objects[prepared.summary["summary_uri"]]) == whole


def test_the_rejection_of_a_split_says_its_first_problems_and_counts_the_rest() -> None:
    reasons = [f"the feature 'f{n:04d}' is null in all 400 rows of the train split." for n in range(3_000)]

    message = problems_in_brief(reasons)

    assert message.startswith(" ".join(reasons[:MAX_PROBLEMS_SHOWN]))
    assert message.endswith(f"And {3_000 - MAX_PROBLEMS_SHOWN} more problems of the same kinds.")
    assert len(message) < 2 * 1024
    assert problems_in_brief(reasons[:2]) == " ".join(reasons[:2])


def test_an_unsplittable_snapshot_is_rejected_with_a_bounded_message(tmp_path: Path) -> None:
    store = FakeStore({f"{BUCKET}datasets/sales/{SHA}/data.parquet": snapshot(50)})

    with pytest.raises(SplitRejectedError) as rejected:
        prepare_run(
            RUN, contract=CONTRACT, config=CONFIG, group="sales", store=store, champions=FakeChampions(),
            scratch=tmp_path,
        )  # fmt: skip

    assert "fewer than min_rows_per_split" in str(rejected.value)
    assert len(str(rejected.value)) < 2 * 1024
