"""Pipeline run names and inputs: deterministic, distinct per trigger, valid for Step Functions."""

from __future__ import annotations

import json
import re

import pytest

from domain.names import execution_name
from domain.training.runs import (
    PipelineRunError,
    RunRequest,
    Trigger,
    execution_input,
    parse_execution_name,
    parse_run,
)

SHA = "0123456789abcdef" * 4
VALID = re.compile(r"[A-Za-z0-9_-]{1,80}")


def test_a_duplicate_trigger_gets_the_same_name() -> None:
    # Given the same dataset version and trigger delivered twice
    first = execution_name("churn", SHA, Trigger("accepted", reason="event 1"))
    second = execution_name("churn", SHA, Trigger("accepted", reason="event 1 again"))

    # Then both name the same run (the reason is not part of the identity)
    assert first == second == "churn-0123456789ab-accepted"


def test_each_kind_of_trigger_gets_its_own_name() -> None:
    names = {
        execution_name("churn", SHA, Trigger("accepted")),
        execution_name("churn", SHA, Trigger("manual")),
        execution_name("churn", SHA, Trigger("manual", reference="rerun-2")),
        execution_name("churn", SHA, Trigger("retrain", reference="drift-churn-1")),
        execution_name("churn", SHA, Trigger("retrain", reference="drift-churn-2")),
    }

    assert names == {
        "churn-0123456789ab-accepted",
        "churn-0123456789ab-manual",
        "churn-0123456789ab-manual-rerun-2",
        "churn-0123456789ab-retrain-drift-churn-1",
        "churn-0123456789ab-retrain-drift-churn-2",
    }


def test_characters_step_functions_rejects_become_hyphens() -> None:
    name = execution_name("churn", SHA, Trigger("retrain", reference="alarm: drift/churn (2026-11-03 12:00)"))

    assert name == "churn-0123456789ab-retrain-alarm-drift-churn-2026-11-03-12-00"
    assert VALID.fullmatch(name)


def test_long_names_are_cut_to_80_characters_and_stay_distinct() -> None:
    # Given a 63-character dataset name and long alarm references that differ only at the end
    dataset = "d" + "x" * 62
    one = execution_name(dataset, SHA, Trigger("retrain", reference="a" * 100 + "1"))
    two = execution_name(dataset, SHA, Trigger("retrain", reference="a" * 100 + "2"))

    # Then both are valid, at most 80 characters, and different
    assert VALID.fullmatch(one) and VALID.fullmatch(two)
    assert one != two
    assert execution_name(dataset, SHA, Trigger("retrain", reference="a" * 100 + "1")) == one


@pytest.mark.parametrize(
    ("dataset", "version", "message"),
    [("Churn", SHA, "dataset name"), ("churn", "abc", "SHA-256"), ("churn", SHA.upper(), "SHA-256")],
)
def test_malformed_facts_are_refused(dataset: str, version: str, message: str) -> None:
    with pytest.raises(PipelineRunError, match=message):
        execution_name(dataset, version, Trigger("manual"))


def test_trigger_rules() -> None:
    with pytest.raises(PipelineRunError, match="needs a reference"):
        Trigger("retrain")
    with pytest.raises(PipelineRunError, match="takes no reference"):
        Trigger("accepted", reference="x")
    with pytest.raises(PipelineRunError, match="unknown trigger kind"):
        Trigger("cron")  # type: ignore[arg-type]


def test_a_reason_too_long_to_travel_with_the_run_is_refused_where_it_enters() -> None:
    # The reason is in every state of the run: 1 MB of it would pass Step Functions' 256 KiB
    with pytest.raises(PipelineRunError, match="the reason has 1,048,576 characters; give at most 1,000"):
        Trigger("manual", reason="r" * 1024 * 1024)
    with pytest.raises(PipelineRunError, match="the reference has 5,000 characters"):
        Trigger("manual", reference="r" * 5_000)
    assert Trigger("manual", reason="r" * 1_000).reason == "r" * 1_000


def test_the_input_document_reads_back_as_the_same_request() -> None:
    # Given a run request turned into an execution input, as Step Functions stores it (JSON text)
    request = RunRequest("churn", SHA, Trigger("retrain", reference="drift-1", reason="PSI 0.31 on age"))
    stored = json.dumps(execution_input(request))

    # When it is read back
    parsed = parse_run(stored)

    # Then every fact survives, and the name in the input is the execution name
    assert parsed == request
    assert json.loads(stored)["run_name"] == request.name == "churn-0123456789ab-retrain-drift-1"


def test_the_input_has_no_clock_so_a_duplicate_start_sends_the_same_input() -> None:
    request = RunRequest("churn", SHA, Trigger("accepted"))

    assert execution_input(request) == execution_input(RunRequest("churn", SHA, Trigger("accepted")))


@pytest.mark.parametrize(
    "document", ['{"format": 2}', "{}", "[1]", "not json", '{"format": 1, "dataset": "x"}']
)
def test_other_inputs_are_not_runs(document: str) -> None:
    with pytest.raises(PipelineRunError):
        parse_run(document)


def test_a_name_reads_back_as_its_facts() -> None:
    parsed = parse_execution_name("my-churn-0123456789ab-retrain-drift-1")

    assert parsed is not None
    assert (parsed.dataset, parsed.version_prefix, parsed.kind, parsed.reference) == (
        "my-churn", "0123456789ab", "retrain", "drift-1")  # fmt: skip
    assert parse_execution_name("manual-run-by-someone") is None
