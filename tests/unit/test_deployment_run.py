"""One deployment against in-memory fakes: the lock, supersession, create or update, and the records."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from domain.deployment.request import DeploymentRequest, DeploymentRequestError
from domain.deployment.run import DeploymentSettings, finish_deployment, prepare_deployment
from domain.deployment.serving_config import parse_serving_config
from domain.deployment.steps import StepInput
from domain.names import alarm_names
from tests.fake_registry import FakeModelRegistry, package_arn

GROUP = "mlops-churn"
SETTINGS = DeploymentSettings(role_arn="arn:role", kms_key="arn:key", data_bucket="data")


def registry_with(*statuses: str) -> FakeModelRegistry:
    """The registry, with one version of the endpoint's group per status (numbered from 1)."""
    registry = FakeModelRegistry()
    for status in statuses:
        registry.add(GROUP, status)
    return registry


@dataclass
class FakeEndpoints:
    endpoint: dict[str, Any] | None = None
    models: list[dict[str, Any]] = field(default_factory=list)
    configs: list[dict[str, Any]] = field(default_factory=list)
    deployed: list[tuple[str, dict[str, Any] | None]] = field(default_factory=list)
    alarming: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    def ensure_model(self, request: dict[str, Any]) -> bool:
        self.models.append(request)
        return True

    def ensure_endpoint_config(self, request: dict[str, Any]) -> bool:
        self.configs.append(request)
        return True

    def describe(self, endpoint: str) -> dict[str, Any] | None:
        return self.endpoint

    def deploy(self, endpoint: str, config: str, deployment_config: dict[str, Any] | None) -> str:
        self.deployed.append((config, deployment_config))
        return "created" if self.endpoint is None else "updated"

    def delete(self, endpoint: str) -> None:
        self.deleted.append(endpoint)
        if self.endpoint is not None:
            self.endpoint = {**self.endpoint, "EndpointStatus": "Deleting"}

    def alarms_in_alarm(self, names: list[str]) -> list[str]:
        return [n for n in names if n in self.alarming]


@dataclass
class FakeLocks:
    holder: str | None = None
    records: list[dict[str, Any]] = field(default_factory=list)

    def acquire(self, endpoint: str, deployment: str, *, now: int, expires: int) -> str | None:
        if self.holder not in (None, deployment):
            return self.holder
        self.holder = deployment
        return None

    def release(self, endpoint: str, deployment: str) -> None:
        if self.holder == deployment:
            self.holder = None

    def record(self, endpoint: str, started_at: str, deployment: str, document: dict[str, Any]) -> None:
        self.records.append({"deployment": deployment, **document})


def request(number: int, trigger: str = "approval") -> DeploymentRequest:
    return DeploymentRequest.from_input(
        {
            "format": 1,
            "dataset": "churn",
            "endpoint": "mlops-churn",
            "package_arn": package_arn(GROUP, number),
            "version": number,
            "trigger": trigger,
            "reason": "looks good",
            "requested_at": "2026-11-26T10:00:00+00:00",
        }
    )


@pytest.fixture
def world() -> tuple[FakeModelRegistry, FakeEndpoints, FakeLocks]:
    return registry_with("Approved", "PendingManualApproval"), FakeEndpoints(), FakeLocks()


def _state(number: int, deployment: str, prepared: dict[str, Any] | None, **extra: Any) -> dict[str, Any]:
    """A function's input as the workflow passes it (deployment_workflow.py's payload)."""
    return {
        "request": request(number).to_input(),
        "deployment": deployment,
        "started_at": "2026-11-26T10:00:01+00:00",
        "prepare": prepared or {"status": "pending"},
        **extra,
    }


def _prepare(
    world: Any, number: int, deployment: str = "d1", previous: dict[str, Any] | None = None, **serving: Any
) -> dict[str, Any]:
    """Prepare, its input read and its result written as the function does: the state's document."""
    registry, endpoints, locks = world
    step = StepInput.from_state(_state(number, deployment, previous), "Prepare")
    prepared = prepare_deployment(
        step.request,
        step.deployment,
        serving=parse_serving_config(serving),
        settings=SETTINGS,
        registry=registry,
        endpoints=endpoints,
        locks=locks,
        now=1000,
        previous=step.prepare,
    )
    return prepared.to_state()


def _finish(
    world: Any, number: int, prepared: dict[str, Any] | None, deployment: str = "d1", error: Any = None
) -> Any:
    """Finish (RecordFailure with ``error``), its input read as the function reads it."""
    registry, endpoints, locks = world
    step = StepInput.from_state(
        _state(number, deployment, prepared, **({"error": error} if error else {})), "Finish"
    )
    return finish_deployment(
        step.request,
        step.deployment,
        step.prepare,
        error=step.error,
        registry=registry,
        endpoints=endpoints,
        locks=locks,
        started_at=step.started_at,
        now="2026-11-26T10:05:00+00:00",
    )


def test_the_first_approved_version_creates_the_endpoint_with_capture(world: Any) -> None:
    _, endpoints, locks = world

    prepared = _prepare(world, 1)

    assert prepared["status"] == "started"
    assert (prepared["action"], prepared["previous_version"]) == ("created", None)
    (model,) = endpoints.models
    assert model["Containers"][0]["ModelPackageName"] == package_arn(GROUP, 1)
    assert model["Containers"][0]["Environment"] == {"MLOPS_MAX_PAYLOAD_BYTES": str(6 * 1024 * 1024)}
    (config,) = endpoints.configs
    # captured under the version's own prefix, so that the monitor credits each request to its version
    assert config["DataCaptureConfig"]["DestinationS3Uri"] == "s3://data/capture/churn/v1/"
    assert locks.holder == "d1"


def test_an_update_goes_blue_green_with_the_rollback_alarms_and_records_the_replaced_version(
    world: Any,
) -> None:
    registry, endpoints, locks = world
    registry.approve(package_arn(GROUP, 2), "looks good")
    endpoints.endpoint = {"EndpointStatus": "InService", "EndpointConfigName": "mlops-churn-v1-0123abcd"}

    prepared = _prepare(world, 2, "d2")
    endpoints.endpoint = {"EndpointStatus": "InService", "EndpointConfigName": prepared["endpoint_config"]}
    outcome = _finish(world, 2, prepared, "d2")

    ((_, rollout),) = endpoints.deployed
    # version 2's fleet captures apart from version 1's, which keeps capturing under v1/ until it goes
    assert endpoints.configs[-1]["DataCaptureConfig"]["DestinationS3Uri"] == "s3://data/capture/churn/v2/"
    assert rollout is not None
    assert rollout["AutoRollbackConfiguration"]["Alarms"] == [
        {"AlarmName": n} for n in alarm_names("mlops-churn")
    ]
    assert prepared["previous_version"] == 1
    assert outcome.status == "deployed"
    assert registry.describe(package_arn(GROUP, 2)).deployment_status == "deployed"
    assert registry.describe(package_arn(GROUP, 1)).deployment_status == "replaced"
    assert (
        registry.describe(package_arn(GROUP, 1)).deployment_reason == "replaced by version 2 on mlops-churn"
    )
    assert locks.holder is None
    assert locks.records[-1]["status"] == "deployed"
    assert locks.records[-1]["previous_version"] == 1


def test_an_update_that_ends_on_the_old_configuration_is_recorded_as_rolled_back(world: Any) -> None:
    registry, endpoints, locks = world
    registry.approve(package_arn(GROUP, 2), "looks good")
    old = {"EndpointStatus": "InService", "EndpointConfigName": "mlops-churn-v1-0123abcd"}
    endpoints.endpoint = old
    prepared = _prepare(world, 2, "d2")
    endpoints.alarming = [alarm_names("mlops-churn")[0]]

    outcome = _finish(world, 2, prepared, "d2")

    assert outcome.status == "rolled_back"
    assert "went into ALARM" in outcome.reason
    assert registry.describe(package_arn(GROUP, 2)).deployment_status == "rolled_back"
    # Version 1 is still in service, not replaced: nothing was recorded on it
    assert registry.packages[package_arn(GROUP, 1)]["CustomerMetadataProperties"] == {}
    assert locks.holder is None


def test_a_second_deployment_waits_while_the_endpoint_is_taken(world: Any) -> None:
    registry, _, locks = world
    registry.approve(package_arn(GROUP, 2), "looks good")
    locks.holder = "someone-else"

    assert _prepare(world, 2, "d2") == {"status": "waiting", "holder": "someone-else"}


def test_an_older_approval_is_superseded_by_a_newer_one_and_touches_nothing(world: Any) -> None:
    registry, endpoints, locks = world
    registry.approve(package_arn(GROUP, 2), "looks good")

    prepared = _prepare(world, 1)
    outcome = _finish(world, 1, prepared)

    assert prepared["status"] == "superseded"
    assert endpoints.models == [] and endpoints.deployed == []
    assert outcome.status == "superseded"
    assert outcome.reason == "version 2 was approved after version 1: it deploys instead"
    assert registry.describe(package_arn(GROUP, 1)).deployment_status == "superseded"
    assert locks.holder is None


def test_a_version_withdrawn_before_its_turn_is_not_deployed(world: Any) -> None:
    prepared = _prepare(world, 2)

    assert prepared["status"] == "superseded"
    assert "PendingManualApproval now" in prepared["outcome"]["reason"]


def test_a_failure_is_recorded_with_its_error_and_frees_the_endpoint(world: Any) -> None:
    registry, _, locks = world
    prepared = _prepare(world, 1)

    outcome = _finish(
        world, 1, prepared, error={"Error": "SageMaker.ValidationException", "Cause": "bad image"}
    )

    assert (outcome.status, outcome.reason) == ("failed", "SageMaker.ValidationException: bad image")
    assert registry.describe(package_arn(GROUP, 1)).deployment_status == "failed"
    assert locks.holder is None


def test_a_lambda_failure_is_recorded_as_its_type_and_message_without_the_stack_trace(world: Any) -> None:
    registry, _, _ = world
    prepared = _prepare(world, 1)
    cause = json.dumps({
        "errorMessage": "the endpoint mlops-churn is Failed: it accepts only DeleteEndpoint",
        "errorType": "EndpointError", "requestId": "5c2e",
        "stackTrace": ['  File "/var/task/handler.py", line 40, in handler\n    started = start(...)\n'],
    })  # fmt: skip

    outcome = _finish(world, 1, prepared, error={"Error": "EndpointError", "Cause": cause})

    reason = "EndpointError: the endpoint mlops-churn is Failed: it accepts only DeleteEndpoint"
    assert outcome.reason == reason
    assert registry.describe(package_arn(GROUP, 1)).deployment_reason == reason


def test_a_serverless_endpoint_is_updated_without_traffic_shifting(world: Any) -> None:
    _, endpoints, _ = world
    endpoints.endpoint = {"EndpointStatus": "InService", "EndpointConfigName": "mlops-churn-v0-0123abcd"}

    _prepare(world, 1, mode="serverless")

    ((_, rollout),) = endpoints.deployed
    assert rollout is None
    assert "ServerlessConfig" in endpoints.configs[0]["ProductionVariants"][0]


def test_a_malformed_request_is_refused_by_name() -> None:
    with pytest.raises(DeploymentRequestError, match="unknown trigger 'whim'"):
        DeploymentRequest.from_input({**request(1).to_input(), "trigger": "whim"})
    with pytest.raises(DeploymentRequestError, match="not a deployment request"):
        DeploymentRequest.from_input({"format": 1})
    assert replace(request(1), version=3).version == 3
