"""The traffic plan of a blue/green endpoint update, read from ``UpdateEndpoint``'s ``DeploymentConfig``.

SageMaker shifts traffic from the blue fleet (the configuration in service) to the green one (the new
configuration) in steps (``BlueGreenUpdatePolicy.TrafficRoutingConfiguration``):

- ``ALL_AT_ONCE``: all of it in one step;
- ``CANARY``: ``CanarySize`` first, then, after ``WaitIntervalInSeconds``, the rest;
- ``LINEAR``: ``LinearStepSize`` at a time, ``WaitIntervalInSeconds`` between steps;

then bakes for ``TerminationWaitInSeconds`` before it terminates the blue fleet, watching the alarms of
``AutoRollbackConfiguration`` all along; ``MaximumExecutionTimeoutInSeconds`` bounds the whole update.
Without a ``DeploymentConfig`` SageMaker updates blue/green, all at once, without baking.

A size is a share of the traffic: ``CAPACITY_PERCENT`` ``v`` is ``v`` %, ``INSTANCE_COUNT`` ``n`` is ``n``
of the green fleet's instances. Locally one model server stands for a variant's instances, so the share
is what is simulated, not the instances.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from moto.sagemaker.exceptions import ValidationError

_ROUTING_TYPES = ("ALL_AT_ONCE", "CANARY", "LINEAR")
_SIZE_TYPES = ("CAPACITY_PERCENT", "INSTANCE_COUNT")


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
        alarms = tuple(
            str(alarm["AlarmName"])
            for alarm in (config.get("AutoRollbackConfiguration") or {}).get("Alarms") or []
            if alarm.get("AlarmName")
        )
        blue_green = config.get("BlueGreenUpdatePolicy")
        if blue_green is None:
            if config.get("RollingUpdatePolicy") is not None:
                # Rolling batches replace instances of one fleet; locally a fleet is one server per
                # variant, so the update is served as blue/green all at once (see the README).
                rolling = config["RollingUpdatePolicy"]
                return cls(
                    steps=(Step(1.0, 0.0),),
                    max_seconds=_optional_seconds(rolling.get("MaximumExecutionTimeoutInSeconds")),
                    alarms=alarms,
                )
            raise ValidationError(
                message="DeploymentConfig needs a BlueGreenUpdatePolicy or RollingUpdatePolicy"
            )
        routing = blue_green.get("TrafficRoutingConfiguration") or {}
        kind = routing.get("Type")
        if kind not in _ROUTING_TYPES:
            raise ValidationError(
                message=f"Value '{kind}' at 'deploymentConfig.blueGreenUpdatePolicy."
                "trafficRoutingConfiguration.type' failed to satisfy constraint: Member must satisfy enum "
                f"value set: {list(_ROUTING_TYPES)}"
            )
        wait = float(routing.get("WaitIntervalInSeconds") or 0)
        if kind == "CANARY":
            share = _share(routing.get("CanarySize"), "CanarySize", green_instances)
            steps: tuple[Step, ...] = (
                (Step(share, wait), Step(1.0, 0.0)) if share < 1.0 else (Step(1.0, 0.0),)
            )
        elif kind == "LINEAR":
            size = _share(routing.get("LinearStepSize"), "LinearStepSize", green_instances)
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


def _share(size: Mapping[str, Any] | None, field: str, green_instances: int) -> float:
    """A ``CapacitySize`` as a share of the traffic, in (0, 1]."""
    if not size or size.get("Type") not in _SIZE_TYPES or size.get("Value") is None:
        raise ValidationError(
            message=f"TrafficRoutingConfiguration.{field} must have a Type in {list(_SIZE_TYPES)} and a Value"
        )
    value = float(size["Value"])
    if value <= 0:
        raise ValidationError(message=f"TrafficRoutingConfiguration.{field}.Value must be greater than 0")
    share = value / 100.0 if size["Type"] == "CAPACITY_PERCENT" else value / max(1, green_instances)
    return min(1.0, share)


def _optional_seconds(value: Any) -> float | None:
    return float(value) if value is not None else None
