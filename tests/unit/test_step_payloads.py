"""What the workflows' steps put into their state is bounded (256 KiB per state).

Step Functions fails an execution whose state passes 256 KiB with ``States.DataLimitExceeded``, which
``States.ALL`` does not catch: a step's result and its error must not grow with the data: the split,
the gate's verdict, a deployment's outcome (the alerts and the Fail states' causes are built from them).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from domain.deployment.request import DeploymentRequest
from domain.deployment.run import MAX_ERROR
from domain.state_limits import MAX_ITEMS, MAX_TEXT
from domain.training.prepare import (
    MAX_PROBLEMS_SHOWN,
    SplitRejectedError,
    prepare_run,
    problems_in_brief,
    split_prefix,
)
from domain.training.verdict import gate_run
from tests.fake_registry import FakeModelRegistry
from tests.unit.test_deployment_run import (
    GROUP,
    FakeEndpoints,
    FakeLocks,
    _finish,
    _prepare,
    registry_with,
    request,
)
from tests.unit.test_training_run import (
    BASELINES,
    BUCKET,
    CONFIG,
    CONTRACT,
    MODEL,
    RUN,
    SHA,
    FakeStore,
    archive,
    evaluation,
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
        RUN, contract=CONTRACT, config=CONFIG, group="sales", store=store, champions=FakeModelRegistry(),
        scratch=tmp_path,
    )  # fmt: skip

    # Then the step's output is small, and says where the whole summary is
    output = json.dumps(prepared.to_state())
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
            RUN, contract=CONTRACT, config=CONFIG, group="sales", store=store, champions=FakeModelRegistry(),
            scratch=tmp_path,
        )  # fmt: skip

    assert "fewer than min_rows_per_split" in str(rejected.value)
    assert len(str(rejected.value)) < 2 * 1024


def test_the_gates_verdict_on_thousands_of_metrics_and_a_1_mb_reason_is_bounded() -> None:
    # Given an evaluation with 5,000 metrics and a champion that could not score, for 1 MB of reasons
    document = evaluation(0.8)
    document["metrics"] |= {f"custom_{n:05d}": {"value": 0.5} for n in range(5_000)}
    document["champion"] = {"status": "unscorable", "reason": "column 'x' holds " + "v" * 1024 * 1024}
    members = {"evaluation.json": document, **{k + ".json": v for k, v in BASELINES.items()}}
    store = FakeStore({MODEL: archive(**members)})

    # When the gate decides
    outcome = gate_run(RUN, training_job_name="job", model_artifacts=MODEL, config=CONFIG, store=store)

    # Then its result ($.gate) is small: the first metrics and how many more, reasons cut
    assert len(json.dumps(outcome.to_state()).encode()) < 32 * 1024
    assert len(outcome.metrics) == MAX_ITEMS and outcome.metrics_omitted == 5_002 - MAX_ITEMS
    assert all(len(reason) <= MAX_TEXT for reason in outcome.reasons)
    assert len(outcome.summary) <= MAX_TEXT
    # and the record keeps everything
    record = json.loads(store.objects[outcome.gate_uri])
    assert any(len(reason) > 1024 * 1024 for reason in record["reasons"])


def test_a_deployment_failed_by_a_1_mb_error_is_recorded_and_announced_with_a_bounded_reason() -> None:
    # Given a Prepare step that failed with a Lambda error quoting 1 MB, and a failed endpoint replaced
    world = registry_with("Approved"), FakeEndpoints(), FakeLocks()
    prepared = _prepare(world, 1) | {
        "replaced_failed": {"endpoint_config": "c0", "reason": "capacity " + "z" * 1024 * 1024}
    }
    cause = json.dumps({"errorMessage": "bad " + "v" * 1024 * 1024, "errorType": "EndpointError"})

    # When the failure is recorded
    outcome = _finish(world, 1, prepared, error={"Error": "EndpointError", "Cause": cause})

    # Then its reason ($.outcome.reason: the alert's and the Fail state's cause) is bounded
    assert len(outcome.reason) <= MAX_ERROR
    assert outcome.reason.startswith("EndpointError: bad vvv")
    assert len(json.dumps(outcome.to_dict()).encode()) < 4 * 1024
    registry, _, _ = world
    assert len(registry.versions(GROUP)[0].deployment_reason or "") <= MAX_ERROR


def test_a_deployment_requested_with_a_1_mb_reason_starts_with_a_bounded_input() -> None:
    # The reason is a copy (the approval's description, a rollback's reason): the input is in every state
    long = replace(request(1), reason="because " + "w" * 1024 * 1024)

    document = long.to_input()

    assert len(json.dumps(document).encode()) < 4 * 1024
    assert document["reason"].startswith("because www")
    assert DeploymentRequest.from_input(document).package_arn == long.package_arn
