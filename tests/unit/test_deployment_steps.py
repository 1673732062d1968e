"""The deployment workflow's states, typed (domain/deployment/steps.py): each document the workflow
passes is read once and written back byte for byte; a malformed one names the state and the key."""

from __future__ import annotations

import json
from typing import Any

import pytest

from domain.deployment.endpoint import Outcome
from domain.deployment.request import DeploymentRequest
from domain.deployment.steps import Finished, Prepared, StepInput
from domain.step_input import StepInputError

REQUEST = {
    "format": 1,
    "dataset": "churn",
    "endpoint": "mlops-churn",
    "package_arn": "arn:aws:sagemaker:us-east-1:123456789012:model-package/mlops-churn/2",
    "version": 2,
    "trigger": "approval",
    "reason": "looks good",
    "requested_at": "2026-11-26T10:00:00+00:00",
}
FAILED = {"endpoint_config": "mlops-churn-v1-0123abcd", "reason": "ping check"}
# Every $.prepare the workflow carries: Begin's, and each result Prepare returns.
PREPARED = [
    {"status": "pending"},
    {"status": "waiting", "holder": "other-deployment"},
    {"status": "waiting", "holder": "d1", "endpoint_status": "Updating"},
    {"status": "waiting", "holder": "d1", "endpoint_status": "Deleting", "replacing": FAILED},
    {"status": "superseded", "outcome": {"status": "superseded", "reason": "version 3 was approved after",
                                         "endpoint_config": None, "alarms": []}},
    {"status": "started", "action": "updated", "model": "mlops-churn-v2-1f923039",
     "endpoint_config": "mlops-churn-v2-2db0bb0b", "previous_config": "mlops-churn-v1-0123abcd",
     "previous_version": 1, "replaced_failed": None},
    {"status": "started", "action": "recreated", "model": "m", "endpoint_config": "c",
     "previous_config": "mlops-churn-v1-0123abcd", "previous_version": None, "replaced_failed": FAILED},
]  # fmt: skip


def _state(**changes: Any) -> dict[str, Any]:
    state = {"request": dict(REQUEST), "deployment": "d1", "started_at": "2026-11-26T10:00:01Z",
             "prepare": {"status": "pending"}}  # fmt: skip
    return {key: value for key, value in (state | changes).items() if value is not None}


@pytest.mark.parametrize("prepared", PREPARED, ids=lambda p: f"{p['status']}-{len(p)}")
def test_each_prepare_result_is_written_back_as_it_was_read(prepared: dict[str, Any]) -> None:
    read = Prepared.from_state({"prepare": prepared}, "Finish")

    assert read is not None
    assert json.dumps(read.to_state()) == json.dumps(prepared)


def test_the_input_of_a_function_is_read_once_and_written_back_key_for_key() -> None:
    state = _state(prepare=PREPARED[3], error={"Error": "EndpointError", "Cause": "boom"})

    step = StepInput.from_state(state, "RecordFailure")

    assert step.request == DeploymentRequest.from_input(REQUEST)
    assert (step.deployment, step.started_at) == ("d1", "2026-11-26T10:00:01Z")
    assert step.prepare is not None and step.prepare.replacing is not None
    assert step.prepare.replaced_failed is None  # still being deleted: nothing was replaced yet
    assert step.error is not None and (step.error.error, step.error.cause) == ("EndpointError", "boom")
    assert json.dumps(step.to_state()) == json.dumps(state)


def test_a_finished_deployment_is_its_outcome_and_a_summary() -> None:
    outcome = Outcome("deployed", "the endpoint serves c", "c")

    finished = Finished.of(DeploymentRequest.from_input(REQUEST), outcome)

    assert finished.to_state() == {
        **outcome.to_dict(),
        "summary": "mlops-churn version 2: deployed: the endpoint serves c",
    }
    assert list(finished.to_state()) == ["status", "reason", "endpoint_config", "alarms", "summary"]


@pytest.mark.parametrize(
    ("state", "changes", "message"),
    [
        ("Prepare", {"deployment": None}, "the Prepare state's input has no deployment"),
        ("Finish", {"started_at": None}, "the Finish state's input has no started_at"),
        ("Prepare", {"request": None}, "the Prepare state's input has no request"),
        ("Finish", {"prepare": {"holder": "d1"}}, "the Finish state's input has no prepare.status"),
        ("Finish", {"prepare": {"status": "superseded"}}, "the Finish state's input has no prepare.outcome"),
        ("Prepare", {"prepare": {"status": "done"}}, "the Prepare state's input has prepare.status 'done'"),
        (
            "Prepare",
            {"request": {**REQUEST, "version": "two"}},
            "the Prepare state's input has a request that",
        ),
    ],
)
def test_a_malformed_state_fails_naming_the_state_and_the_key(
    state: str, changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(StepInputError, match=message):
        StepInput.from_state(_state(**changes), state)
