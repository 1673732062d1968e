"""The pipeline adapter against moto's Step Functions: one run per name, runs read back with causes."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping

import boto3
import pytest

from adapters.pipeline import RunNotFoundError, StepFunctionsPipeline, execution_arn
from domain.training.runs import RunRequest, Trigger, execution_input
from tests.moto_support import mocked_aws

SHA = "ef" * 32
ROLE = "arn:aws:iam::123456789012:role/pipeline"
PASS = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}
CAUSE = "roc_auc 0.61 is below the minimum 0.7"
FAIL = {"StartAt": "Gate", "States": {"Gate": {"Type": "Fail", "Error": "GateRejected", "Cause": CAUSE}}}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with mocked_aws(monkeypatch):
        yield


def state_machine(definition: Mapping[str, object], name: str = "training") -> str:
    created = boto3.client("stepfunctions").create_state_machine(
        name=name, definition=json.dumps(definition), roleArn=ROLE
    )
    return str(created["stateMachineArn"])


def request(kind: str = "accepted", reference: str | None = None) -> RunRequest:
    return RunRequest("churn", SHA, Trigger(kind, reference=reference, reason="test"))  # type: ignore[arg-type]


def test_a_duplicate_trigger_does_not_start_a_second_run(aws: None) -> None:
    # Given a run started for an accepted dataset version
    machine = state_machine(PASS)
    pipeline = StepFunctionsPipeline()
    run = request()
    first = pipeline.start(machine, run.name, execution_input(run))

    # When the same trigger arrives again
    second = pipeline.start(machine, run.name, execution_input(run))

    # Then the existing run is returned and no second one exists
    assert first == (execution_arn(machine, run.name), True)
    assert second == (first[0], False)
    assert len(pipeline.runs(machine)) == 1


def test_already_exists_from_the_service_means_already_started(aws: None) -> None:
    # Given a start that raced another one: the name was free when asked, taken when started
    machine = state_machine(PASS)
    pipeline = StepFunctionsPipeline()
    run = request("manual")
    boto3.client("stepfunctions").start_execution(stateMachineArn=machine, name=run.name, input="{}")
    pipeline._exists = lambda arn: False  # type: ignore[method-assign]

    assert pipeline.start(machine, run.name, execution_input(run)) == (
        execution_arn(machine, run.name),
        False,
    )


def test_runs_are_listed_newest_first_across_pages(aws: None) -> None:
    machine = state_machine(PASS)
    pipeline = StepFunctionsPipeline(page_size=2)
    names = []
    for number in range(5):
        run = request("retrain", reference=f"drift-{number}")
        names.append(pipeline.start(machine, run.name, execution_input(run))[0].rsplit(":", 1)[-1])

    runs = pipeline.runs(machine)

    assert sorted(r.name for r in runs) == sorted(names)
    started = [r.started_at or "" for r in runs]
    assert started == sorted(started, reverse=True)


def test_a_described_run_carries_its_request_and_its_failure_cause(aws: None) -> None:
    machine = state_machine(FAIL)
    pipeline = StepFunctionsPipeline()
    run = request("retrain", reference="drift-1")
    arn, _ = pipeline.start(machine, run.name, execution_input(run))

    described = pipeline.describe(arn)
    deadline = time.monotonic() + 10
    while described.status == "RUNNING" and time.monotonic() < deadline:  # moto runs it on a thread
        time.sleep(0.05)
        described = pipeline.describe(arn)

    assert described.request == run
    assert described.status == "FAILED"
    assert (described.error, described.cause) == ("GateRejected", CAUSE)


def test_a_run_that_is_not_there_is_said_so(aws: None) -> None:
    machine = state_machine(PASS)

    with pytest.raises(RunNotFoundError):
        StepFunctionsPipeline().describe(execution_arn(machine, "nothing"))
