"""An update that passes its MaximumExecutionTimeoutInSeconds rolls back (SageMaker takes 600 s at least,
which the API refuses under; the rollout itself is driven here with fleets of no server)."""

from __future__ import annotations

from pathlib import Path

from moto.core.utils import utcnow

from localcloud.sagemaker.endpoints import describe
from localcloud.sagemaker.endpoints.fleet import Fleet
from localcloud.sagemaker.endpoints.live import LiveEndpoint
from localcloud.sagemaker.endpoints.plan import RolloutPlan, Step
from localcloud.sagemaker.endpoints.records import DeploymentRecord
from localcloud.sagemaker.endpoints.rollout import Rollout
from localcloud.sagemaker.endpoints.spec import FleetSpec


def _spec(config: str) -> FleetSpec:
    return FleetSpec("123456789012", "us-east-1", "churn", config, variants=(), capture=None)


def test_an_update_past_its_maximum_execution_time_rolls_back_to_the_old_fleet(tmp_path: Path) -> None:
    blue, green = Fleet(_spec("v1"), [], tmp_path / "v1"), Fleet(_spec("v2"), [], tmp_path / "v2")
    endpoint = LiveEndpoint(describe.new_endpoint("123456789012", "us-east-1", "churn", blue.spec, []))
    describe.in_service(endpoint.model, blue.spec, deployed_at=utcnow(), failure_reason=None)
    endpoint.blue = blue
    endpoint.deployments.append(DeploymentRecord("v2", "v1", "in_progress"))
    plan = RolloutPlan(steps=(Step(1.0, 0.0),), bake_seconds=30.0, max_seconds=0.3)

    Rollout(endpoint, green.spec, plan, utcnow(), lambda spec: green).run()  # the bake outlasts the timeout

    assert (endpoint.status, endpoint.model.endpoint_config_name) == ("InService", "v1")
    assert "did not complete within MaximumExecutionTimeoutInSeconds (0.3 s)" in endpoint.model.failure_reason
    assert endpoint.deployments[-1].status == "rolled_back"
    assert green.stopped and not blue.stopped
