"""One deployment request, assembled and started in one place for an approval and for a rollback."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from domain.deployment.request import (
    INPUT_FIELDS,
    Approval,
    DeploymentRequest,
    StartedDeployment,
    Trigger,
    deploy_approval,
    start_deployment,
)
from domain.events import ModelPackageStateChange
from domain.names import deployment_name
from domain.training.registration import ModelVersion
from tests.fake_registry import FakeModelRegistry

WORKFLOW = "arn:aws:states:us-east-1:123456789012:stateMachine:mlops-deployment"
ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package/mlops-churn/{}"


def version(number: int) -> ModelVersion:
    fields: dict[str, Any] = dict.fromkeys(ModelVersion.__dataclass_fields__)
    fields |= {
        "arn": ARN.format(number),
        "group": "mlops-churn",
        "version": number,
        "approval_status": "Approved",
        "description": "",
        "hyperparameters": {},
        "metrics": {},
    }
    return ModelVersion(**fields)


@dataclass
class FakeExecutions:
    """Step Functions' executions: one per name, as a start with an existing name starts none."""

    inputs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def start(self, state_machine_arn: str, name: str, document: Mapping[str, Any]) -> tuple[str, bool]:
        arn = f"{state_machine_arn.replace(':stateMachine:', ':execution:')}:{name}"
        if name in self.inputs:
            return arn, False
        self.inputs[name] = dict(document)
        return arn, True


def _start(
    executions: FakeExecutions, number: int, trigger: Trigger, at: str, reason: str = "why"
) -> StartedDeployment:
    return start_deployment(
        version(number),
        dataset="churn",
        endpoint="mlops-churn",
        trigger=trigger,
        reason=reason,
        requested_at=at,
        workflow=WORKFLOW,
        executions=executions,
    )


def test_an_approval_starts_the_workflow_with_the_request_for_that_version() -> None:
    # Given no deployment yet
    executions = FakeExecutions()

    # When version 3's approval starts its deployment
    started = _start(executions, 3, "approval", "2026-01-02T03:04:05+00:00", reason="looks good")

    # Then one execution, named for the endpoint, version and approval time, carries the request
    name = deployment_name("mlops-churn", 3, "2026-01-02T03:04:05+00:00")
    assert started.started
    assert started.execution_arn.endswith(f":{name}")
    assert list(executions.inputs) == [name]
    request = DeploymentRequest.from_input(executions.inputs[name])
    assert request == started.request
    assert (request.package_arn, request.version, request.trigger) == (ARN.format(3), 3, "approval")
    assert (request.dataset, request.endpoint, request.reason) == ("churn", "mlops-churn", "looks good")
    assert request.requested_at == "2026-01-02T03:04:05+00:00"


def test_the_workflow_hands_its_steps_every_key_of_the_execution_input_and_no_other() -> None:
    # Given the input a deployment's execution starts with
    executions = FakeExecutions()
    started = _start(executions, 3, "approval", "2026-01-02T03:04:05+00:00")

    # Then the keys the workflow copies into each step's request (INPUT_FIELDS) are exactly its keys
    document = executions.inputs[started.execution_arn.rsplit(":", 1)[1]]
    assert tuple(document) == INPUT_FIELDS
    assert DeploymentRequest.from_input({key: document[key] for key in INPUT_FIELDS}) == started.request


def test_the_same_approval_announced_twice_starts_one_deployment() -> None:
    # Given an approval whose deployment started
    executions = FakeExecutions()
    first = _start(executions, 3, "approval", "2026-01-02T03:04:05+00:00")

    # When the same approval is announced again
    again = _start(executions, 3, "approval", "2026-01-02T03:04:05+00:00")

    # Then it names the same execution and starts nothing
    assert (again.execution_arn, again.started) == (first.execution_arn, False)
    assert len(executions.inputs) == 1


def test_a_rollback_to_a_version_already_deployed_once_starts_a_new_deployment() -> None:
    # Given version 3 deployed on its approval
    executions = FakeExecutions()
    approval = _start(executions, 3, "approval", "2026-01-02T03:04:05+00:00")

    # When a rollback to version 3 is asked for later
    rollback = _start(executions, 3, "rollback", "2026-02-01T00:00:00+00:00", reason="v4 misbehaves")

    # Then a second execution starts, with the rollback's trigger and reason
    assert rollback.started and rollback.execution_arn != approval.execution_arn
    request = DeploymentRequest.from_input(executions.inputs[rollback.execution_arn.split(":")[-1]])
    assert (request.trigger, request.reason, request.version) == ("rollback", "v4 misbehaves", 3)


def _approved(
    registry: FakeModelRegistry, executions: FakeExecutions, arn: str, group: str = "mlops-churn"
) -> Approval:
    change = ModelPackageStateChange(group=group, arn=arn, approval_status="Approved")
    return deploy_approval(
        change,
        project="mlops",
        group_prefix="mlops-",
        datasets={"churn"},
        registry=registry,
        workflow=WORKFLOW,
        executions=executions,
        announced_at="2026-11-26T10:00:00Z",
    )


def test_an_approval_event_starts_one_deployment_however_often_it_is_announced() -> None:
    registry, executions = FakeModelRegistry(), FakeExecutions()
    pending = registry.add("mlops-churn", "PendingManualApproval")
    approved = registry.approve(pending.arn, "good enough", approver="ops")

    first = _approved(registry, executions, approved.arn)
    again = _approved(registry, executions, approved.arn)

    assert first.deployment is not None and first.deployment.started
    assert first.deployment.request.requested_at == registry.now  # the decision's time, not the event's
    assert (first.dataset, first.summary) == ("churn", "deployment started")
    assert again.to_result() == {"execution_arn": first.deployment.execution_arn, "started": False}
    assert again.summary == "deployment already started: repeated event"
    assert list(executions.inputs) == [deployment_name("mlops-churn", 1, registry.now)]


def test_an_approval_event_the_registry_does_not_confirm_or_of_another_platform_starts_nothing() -> None:
    registry, executions = FakeModelRegistry(), FakeExecutions()
    rejected = registry.add("mlops-churn", "Rejected")
    other = registry.add("mlops-sales")

    stale = _approved(registry, executions, rejected.arn)
    unserved = _approved(registry, executions, other.arn, "mlops-sales")
    foreign = _approved(registry, executions, other.arn, "theirs-churn")

    assert stale.to_result() == {"execution_arn": None, "started": False,
                                 "reason": "version 1 is Rejected, not Approved"}  # fmt: skip
    assert (unserved.dataset, unserved.skipped) == ("sales", "sales is not a dataset of this platform")
    assert (foreign.dataset, foreign.skipped) == (
        None,
        "theirs-churn is not a model package group of this platform",
    )
    assert executions.inputs == {}
