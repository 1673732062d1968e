"""What a deployment does with each status of the endpoint it finds (against the fakes of
``test_deployment_run``): a Failed endpoint is deleted and created again, a busy one waited for, one that
needs a person fails the deployment before anything is created.
"""

from __future__ import annotations

from typing import Any

import pytest

from domain.deployment.run import EndpointStateError
from tests.fake_registry import FakeModelRegistry
from tests.unit.test_deployment_run import FakeEndpoints, FakeLocks, _finish, _prepare, registry_with

FAILED = {
    "EndpointStatus": "Failed",
    "EndpointConfigName": "mlops-churn-v1-0123abcd",
    "FailureReason": "The primary container for production variant AllTraffic did not pass the ping check.",
}


@pytest.fixture
def world() -> tuple[FakeModelRegistry, FakeEndpoints, FakeLocks]:
    return registry_with("Approved"), FakeEndpoints(), FakeLocks()


def test_a_failed_endpoint_is_deleted_then_created_again_and_the_record_says_so(world: Any) -> None:
    registry, endpoints, locks = world
    endpoints.endpoint = dict(FAILED)

    deleting = _prepare(world, 1)
    assert (deleting["status"], endpoints.deleted) == ("waiting", ["mlops-churn"])
    assert (endpoints.models, endpoints.configs, endpoints.deployed) == ([], [], [])  # nothing yet
    still = _prepare(world, 1, previous=deleting)  # DeleteEndpoint is still under way: the name is taken
    assert (still["status"], still["endpoint_status"], endpoints.deployed) == ("waiting", "Deleting", [])
    endpoints.endpoint = None  # SageMaker removed it
    started = _prepare(world, 1, previous=still)

    assert (started["status"], started["action"]) == ("started", "recreated")
    ((config, _),) = endpoints.deployed
    endpoints.endpoint = {"EndpointStatus": "InService", "EndpointConfigName": config}
    outcome = _finish(world, 1, started)
    assert outcome.status == "deployed"
    assert outcome.reason.startswith("the endpoint serves mlops-churn-v1-")
    assert "; the Failed endpoint was deleted and created again (mlops-churn-v1-0123abcd had failed: " in (
        outcome.reason
    )
    (record,) = locks.records
    assert record["replaced_failed_endpoint"]["endpoint_config"] == "mlops-churn-v1-0123abcd"
    assert locks.holder is None
    assert "deleted and created again" in (registry.describe(record["package_arn"]).deployment_reason or "")


@pytest.mark.parametrize("status", ["Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting"])
def test_an_endpoint_that_is_changing_is_waited_for_while_the_lock_is_kept(world: Any, status: str) -> None:
    _, endpoints, locks = world
    endpoints.endpoint = {"EndpointStatus": status, "EndpointConfigName": "mlops-churn-v0-0123abcd"}

    prepared = _prepare(world, 1)

    assert (prepared["status"], prepared["endpoint_status"]) == ("waiting", status)
    assert (endpoints.models, endpoints.configs, endpoints.deployed, endpoints.deleted) == ([], [], [], [])
    assert locks.holder == "d1"


@pytest.mark.parametrize("status", ["UpdateRollbackFailed", "OutOfService"])
def test_an_endpoint_that_needs_a_person_fails_the_deployment_before_anything_is_created(
    world: Any, status: str
) -> None:
    _, endpoints, _ = world
    endpoints.endpoint = {"EndpointStatus": status, "FailureReason": "stuck between two fleets"}

    with pytest.raises(EndpointStateError, match=f"endpoint mlops-churn is {status} \\(stuck between"):
        _prepare(world, 1)

    assert (endpoints.models, endpoints.configs, endpoints.deployed) == ([], [], [])


@pytest.mark.parametrize(("mode", "isolated"), [("realtime", True), ("serverless", False)])
def test_only_real_time_models_are_network_isolated(world: Any, mode: str, isolated: bool) -> None:
    _, endpoints, _ = world

    _prepare(world, 1, mode=mode)

    (model,) = endpoints.models
    assert model["EnableNetworkIsolation"] is isolated
