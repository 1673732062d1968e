"""The traffic plan of a blue/green endpoint update, read from ``UpdateEndpoint``'s ``DeploymentConfig``.

SageMaker shifts traffic from the blue fleet (the configuration in service) to the green one (the new
configuration) in steps (``BlueGreenUpdatePolicy.TrafficRoutingConfiguration``):

- ``ALL_AT_ONCE``: all of it in one step;
- ``CANARY``: ``CanarySize`` first, then, after ``WaitIntervalInSeconds``, the rest;
- ``LINEAR``: ``LinearStepSize`` at a time, ``WaitIntervalInSeconds`` between steps;

then bakes for ``TerminationWaitInSeconds`` before it terminates the blue fleet, watching the alarms of
``AutoRollbackConfiguration`` all along; ``MaximumExecutionTimeoutInSeconds`` bounds the whole update.
Without a ``DeploymentConfig`` SageMaker updates blue/green, all at once, without baking.

A size is whole instances of the green fleet (``INSTANCE_COUNT`` ``n``; ``CAPACITY_PERCENT`` ``v``: ``v`` %
of them, rounded up), checked against SageMaker's rules first (``deployment_rules``); its share of the
traffic is its share of the instances. Locally one model server stands for a variant's instances, so
the share is what is simulated, not the instances.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from localcloud.sagemaker.endpoints.deployment_rules import size_instances, validate_deployment_config


@dataclass(frozen=True)
class Step:
    """Send ``share`` of the traffic to the green fleet, then watch for ``wait_seconds``."""

    share: float
    wait_seconds: float


@dataclass(frozen=True)
class RolloutPlan:
    """How an update shifts traffic, how long it bakes, and what rolls it back.

    Attributes
    ----------
    steps : tuple[Step, ...]
        Traffic shares of the green fleet, in order; the last one is 1.0.
    bake_seconds : float
        ``TerminationWaitInSeconds``: watched with all traffic on green, before blue is stopped.
    max_seconds : float | None
        ``MaximumExecutionTimeoutInSeconds``: past it (from the update's start) the update rolls back.
    alarms : tuple[str, ...]
        ``AutoRollbackConfiguration.Alarms``: any in ALARM rolls the update back.
    """

    steps: tuple[Step, ...]
    bake_seconds: float = 0.0
    max_seconds: float | None = None
    alarms: tuple[str, ...] = ()

    @classmethod
    def default(cls) -> RolloutPlan:
        """SageMaker's update without a ``DeploymentConfig``: blue/green, all at once, no baking."""
        return cls(steps=(Step(1.0, 0.0),))

    @classmethod
    def from_deployment_config(cls, config: Mapping[str, Any] | None, *, green_instances: int) -> RolloutPlan:
        """The plan of ``DeploymentConfig`` (None: SageMaker's default).

        Parameters
        ----------
        config : Mapping[str, Any] | None
            ``UpdateEndpoint``'s ``DeploymentConfig``.
        green_instances : int
            Instances of the new configuration (what ``INSTANCE_COUNT`` sizes are a part of).

        Raises
        ------
        ValidationError
            If the configuration is one SageMaker refuses.
        """
        if not config:
            return cls.default()
        validate_deployment_config(config, green_instances)
        alarms = tuple(
            str(alarm["AlarmName"])
            for alarm in (config.get("AutoRollbackConfiguration") or {}).get("Alarms") or []
            if alarm.get("AlarmName")
        )
        rolling = config.get("RollingUpdatePolicy")
        if rolling is not None:
            # Rolling batches replace instances of one fleet; locally a fleet is one server per
            # variant, so the update is served as blue/green all at once (see the README).
            return cls(
                steps=(Step(1.0, 0.0),),
                max_seconds=_optional_seconds(rolling.get("MaximumExecutionTimeoutInSeconds")),
                alarms=alarms,
            )
        blue_green = config["BlueGreenUpdatePolicy"]  # validated: the one policy given
        routing = blue_green["TrafficRoutingConfiguration"]
        kind = routing["Type"]
        wait = float(routing["WaitIntervalInSeconds"])
        instances = max(1, green_instances)
        if kind == "CANARY":
            share = size_instances(routing["CanarySize"], "CanarySize", instances) / instances
            steps: tuple[Step, ...] = (Step(share, wait), Step(1.0, 0.0))
        elif kind == "LINEAR":
            size = size_instances(routing["LinearStepSize"], "LinearStepSize", instances) / instances
            count = math.ceil(round(1.0 / size, 9))
            shares = [min(1.0, size * (index + 1)) for index in range(count)]
            steps = tuple(Step(s, wait if s < 1.0 else 0.0) for s in shares)
        else:
            steps = (Step(1.0, 0.0),)
        return cls(
            steps=steps,
            bake_seconds=float(blue_green.get("TerminationWaitInSeconds") or 0),
            max_seconds=_optional_seconds(blue_green.get("MaximumExecutionTimeoutInSeconds")),
            alarms=alarms,
        )


def _optional_seconds(value: Any) -> float | None:
    return float(value) if value is not None else None
