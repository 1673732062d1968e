"""One blue/green update of an endpoint: start green, shift the traffic, bake, then keep one fleet.

The steps come from the update's :class:`~localcloud.sagemaker.endpoints.plan.RolloutPlan`. While traffic
shifts and while the update bakes, the alarms of ``AutoRollbackConfiguration`` are read from moto's
CloudWatch every 0.2 s, and ``MaximumExecutionTimeoutInSeconds`` is checked: either rolls the update back
(all traffic to blue, green stopped, ``InService`` on the previous configuration with a
``FailureReason``), as does a green fleet that cannot start. Otherwise blue is stopped once its requests in
flight are answered, and the endpoint is ``InService`` on the new configuration.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from moto.cloudwatch.models import cloudwatch_backends

from localcloud.sagemaker.endpoints import describe
from localcloud.sagemaker.endpoints.fleet import Fleet, FleetStartError
from localcloud.sagemaker.endpoints.live import LiveEndpoint
from localcloud.sagemaker.endpoints.plan import RolloutPlan
from localcloud.sagemaker.endpoints.spec import FleetSpec

ALARM_POLL_SECONDS = 0.2


class Rollout:
    """Runs one update (call :meth:`run` on a thread of its own).

    Parameters
    ----------
    endpoint : LiveEndpoint
        The endpoint, already ``Updating``.
    spec : FleetSpec
        The new configuration.
    plan : RolloutPlan
        How traffic shifts, how long it bakes, what rolls it back.
    started : datetime
        When ``UpdateEndpoint`` was called (``PendingDeploymentSummary.StartTime``).
    start_fleet : Callable[[FleetSpec], Fleet]
        Starts a fleet (raises ``FleetStartError``).
    """

    def __init__(
        self,
        endpoint: LiveEndpoint,
        spec: FleetSpec,
        plan: RolloutPlan,
        started: datetime,
        start_fleet: Callable[[FleetSpec], Fleet],
    ) -> None:
        self._endpoint = endpoint
        self._spec = spec
        self._plan = plan
        self._started = started
        self._start_fleet = start_fleet
        self._deadline = time.monotonic() + plan.max_seconds if plan.max_seconds is not None else None

    def run(self) -> None:
        """Deploy the new configuration, or roll back."""
        endpoint = self._endpoint
        try:
            green = self._start_fleet(self._spec)
        except Exception as error:
            reason = str(error) if isinstance(error, FleetStartError) else f"InternalServerError: {error}"
            self._roll_back(None, f"the new fleet could not start. {reason}")
            return
        with endpoint.lock:
            deleted = endpoint.deleted.is_set()
            if not deleted:
                endpoint.green, endpoint.green_share = green, 0.0
                endpoint.router.reset()
        if deleted:
            green.stop()
            return
        for step in self._plan.steps:
            with endpoint.lock:
                endpoint.green_share = step.share
                endpoint.record_deployment("in_progress", share=step.share)
                self._describe("ActivatingTraffic")
            trigger = self._watch(step.wait_seconds)
            if trigger is not None:
                self._roll_back(green, trigger)
                return
        with endpoint.lock:
            self._describe("Baking")
        trigger = self._watch(self._plan.bake_seconds)
        if trigger is not None:
            self._roll_back(green, trigger)
            return
        self._finish(green)

    def _describe(self, variant_status: str) -> None:
        endpoint = self._endpoint
        describe.updating(
            endpoint.model,
            self._spec,
            variant_status=variant_status,
            started_at=self._started,
            deployment_config=endpoint.model.last_deployment_config,
        )

    def _watch(self, seconds: float) -> str | None:
        """Watch for ``seconds``: why the update must roll back, or None (checked at least once)."""
        endpoint, plan = self._endpoint, self._plan
        end = time.monotonic() + seconds
        while True:
            if endpoint.deleted.is_set():
                return "the endpoint was deleted"
            fired = alarms_in_alarm(str(endpoint.model.arn), plan.alarms)
            if fired:
                return f"CloudWatch alarm(s) {', '.join(fired)} went into ALARM state during the deployment"
            now = time.monotonic()
            if self._deadline is not None and now >= self._deadline:
                return (
                    f"the deployment did not complete within MaximumExecutionTimeoutInSeconds "
                    f"({plan.max_seconds:g} s)"
                )
            if now >= end:
                return None
            endpoint.deleted.wait(min(ALARM_POLL_SECONDS, end - now))

    def _roll_back(self, green: Fleet | None, trigger: str) -> None:
        endpoint = self._endpoint
        with endpoint.lock:
            endpoint.green_share = 0.0
            endpoint.green = None
            target = endpoint.deployments[-1]
        if green is not None:
            green.stop()  # once its requests in flight are answered
        with endpoint.lock:
            if green is not None:
                endpoint.retire(green, "green")
            if endpoint.deleted.is_set():
                endpoint.record_deployment("deleted", trigger)
                return
            reason = (
                f"Update of endpoint {endpoint.name} to endpoint configuration {target.config_name} was "
                f"rolled back to {target.previous_config}: {trigger}."
            )
            if endpoint.blue is not None:
                blue = endpoint.blue
                describe.in_service(
                    endpoint.model, blue.spec, deployed_at=blue.started_at, failure_reason=reason
                )
            endpoint.record_deployment("rolled_back", reason)

    def _finish(self, green: Fleet) -> None:
        endpoint = self._endpoint
        with endpoint.lock:
            blue, endpoint.blue = endpoint.blue, green
            endpoint.green, endpoint.green_share = None, 0.0
        if blue is not None:
            blue.stop()
        with endpoint.lock:
            if blue is not None:
                endpoint.retire(blue, "blue")
            if endpoint.deleted.is_set():
                endpoint.record_deployment("deleted", "the endpoint was deleted")
                return
            describe.in_service(endpoint.model, self._spec, deployed_at=green.started_at, failure_reason=None)
            endpoint.record_deployment("deployed")


def alarms_in_alarm(endpoint_arn: str, names: tuple[str, ...]) -> list[str]:
    """Those of ``names`` in ALARM in moto's CloudWatch (the endpoint's account and region).

    Only ``ALARM`` trips a rollback ("If any of your alarms trip during the specified monitoring period",
    https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-configuration.html): a new
    alarm, in ``INSUFFICIENT_DATA`` until data comes, does not.
    """
    if not names:
        return []
    parts = endpoint_arn.split(":")
    alarms = cloudwatch_backends[parts[4]][parts[3]].alarms
    return sorted(
        name for name in names if (alarm := alarms.get(name)) is not None and alarm.state_value == "ALARM"
    )
