"""One registry port (domain/registry.py): the SageMaker adapter and the fake both implement all of it,
and the use cases' questions (the champion's candidates, a deployment's record) read through it."""

from __future__ import annotations

import inspect

import pytest

from adapters.registry import SageMakerModelRegistry
from domain.model_metadata import DEPLOYMENT_STATUS
from domain.registry import ModelRegistry
from domain.training.champion import champion
from tests.fake_registry import FakeModelRegistry

GROUP = "mlops-churn"
PORT = sorted(
    name for name, member in vars(ModelRegistry).items() if inspect.isfunction(member) and name[0] != "_"
)


def _parameters(function: object) -> list[tuple[str, object, object]]:
    signature = inspect.signature(function)  # type: ignore[arg-type]
    return [(p.name, p.kind, p.default) for p in signature.parameters.values()]


@pytest.mark.parametrize(
    "implementation", [SageMakerModelRegistry, FakeModelRegistry], ids=lambda c: c.__name__
)
@pytest.mark.parametrize("name", PORT)
def test_each_implementation_takes_every_request_of_the_port_as_the_port_states_it(
    implementation: type, name: str
) -> None:
    assert _parameters(getattr(implementation, name)) == _parameters(getattr(ModelRegistry, name))


def test_the_port_covers_registering_reading_deciding_and_the_champions_candidates() -> None:
    assert {
        "register",
        "describe",
        "versions",
        "approved_newest_first",
        "record_deployment",
        "approve",
    } <= set(PORT)


def test_the_champion_is_read_from_the_approved_versions_and_follows_the_recorded_deployments() -> None:
    registry = FakeModelRegistry()
    first = registry.add(GROUP, metadata={DEPLOYMENT_STATUS: "deployed"})
    second = registry.add(GROUP)
    registry.add(GROUP, "PendingManualApproval")

    assert [v.version for v in registry.approved_newest_first(GROUP)] == [2, 1]
    assert champion(registry.approved_newest_first(GROUP)) == first

    registry.record_deployment(second.arn, {DEPLOYMENT_STATUS: "deployed"})

    found = champion(registry.approved_newest_first(GROUP))
    assert found is not None and found.version == 2


def test_a_rejection_takes_a_version_out_of_the_candidates_and_records_who_decided() -> None:
    registry = FakeModelRegistry()
    registry.add(GROUP)
    newer = registry.add(GROUP)

    rejected = registry.reject(newer.arn, "rolled back to version 1", approver="ops")

    assert (rejected.approval_status, rejected.approval_description, rejected.decided_by) == (
        "Rejected",
        "rolled back to version 1",
        "ops",
    )
    assert registry.approved_versions(GROUP) == [1]
    assert list(registry.approved_newest_first("mlops-unknown")) == []
