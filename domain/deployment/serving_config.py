"""How a dataset's model is served: endpoint kind and size, rollout, rollback alarms, capture, limits.

The ``serving`` key of a dataset in ``cdk.json``. Synth validates it (``stacks/config.py``) and ships it
to the deployment functions as ``serving.json``; pure pydantic, like the contract and the training
configuration.

Example
-------
.. code-block:: json

    "serving": {
      "mode": "realtime",
      "instance_type": "ml.m5.large",
      "instance_count": 1,
      "rollout": {"strategy": "canary", "canary_percent": 10, "wait_seconds": 300, "bake_seconds": 600},
      "alarms": {"max_5xx_errors": 1, "max_model_latency_ms": 500},
      "capture_percent": 100
    }

``mode: serverless`` serves on SageMaker Serverless Inference instead: no instance to pay for while idle,
but no data capture (the platform's capturing API stands in, see the README) and no gradual traffic
shifting (an update replaces the model at once), so ``rollout`` cannot be set with it.

A rollout is checked against SageMaker's rules for the endpoint's ``instance_count``: a canary or a
linear step is a whole number of the new fleet's instances, at most half of them (``CanarySize``,
``LinearStepSize``: https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_TrafficRoutingConfig.html),
so one instance can only be updated all at once; that is the default with one instance.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

__all__ = ["Alarms", "CaptureApi", "Rollout", "Serverless", "ServingConfig", "parse_serving_config"]

REALTIME_MAX_PAYLOAD_MB = 6  # SageMaker's limit for a real-time request
SERVERLESS_MAX_PAYLOAD_MB = 4  # and for a serverless one


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rollout(_Strict):
    """How a new model version takes the traffic of a real-time endpoint (a blue/green update).

    Attributes
    ----------
    strategy : {"canary", "linear", "all_at_once"}
        ``canary``: ``canary_percent`` of the capacity first, then the rest; ``linear``: steps of
        ``linear_step_percent``; ``all_at_once``: everything, then the bake. A percentage is of the
        instances, rounded up to whole ones. Default: ``canary`` with two instances or more,
        ``all_at_once`` with one (SageMaker's canary is at most half of the instances).
    wait_seconds : int
        Between two traffic steps (SageMaker's ``WaitIntervalInSeconds``, at most an hour).
    bake_seconds : int
        After all traffic moved, during which an alarm still rolls back (``TerminationWaitInSeconds``,
        at most an hour).
    """

    strategy: Literal["canary", "linear", "all_at_once"] = "canary"
    canary_percent: int = Field(10, ge=1, le=50)
    # LinearStepSize: 10-50% of the variant's instances (API_TrafficRoutingConfig).
    linear_step_percent: int = Field(25, ge=10, le=50)
    wait_seconds: int = Field(300, ge=0, le=3600)
    bake_seconds: int = Field(600, ge=0, le=3600)

    @property
    def steps(self) -> int:
        """Traffic steps of the update."""
        if self.strategy == "linear":
            return -(-100 // self.linear_step_percent)
        return 2 if self.strategy == "canary" else 1

    @property
    def max_seconds(self) -> int:
        """An upper bound of the whole update (``MaximumExecutionTimeoutInSeconds``: 600 to 28,800)."""
        # Each step also waits for its instances to start (minutes on SageMaker).
        return min(28_800, max(600, self.steps * (self.wait_seconds + 900) + self.bake_seconds))


class Alarms(_Strict):
    """The alarms that roll an update back: errors and latency of the endpoint, per minute.

    Attributes
    ----------
    max_5xx_errors : int
        ``Invocation5XXErrors`` (sum over a minute) at or above this raises the alarm.
    max_model_latency_ms : int
        ``ModelLatency`` (p99 over a minute) above this raises the alarm.
    evaluation_minutes : int
        Minutes in a row the threshold must be crossed.
    """

    max_5xx_errors: int = Field(1, ge=1)
    max_model_latency_ms: int = Field(1000, ge=1, le=60_000)
    evaluation_minutes: int = Field(1, ge=1, le=10)


class Serverless(_Strict):
    """SageMaker Serverless Inference sizing."""

    memory_mb: Literal[1024, 2048, 3072, 4096, 5120, 6144] = 2048
    max_concurrency: int = Field(5, ge=1, le=200)


class CaptureApi(_Strict):
    """The platform's invocation API of a serverless endpoint (IAM-authenticated, captured, throttled)."""

    rate_per_second: int = Field(50, ge=1, le=10_000)
    burst: int = Field(100, ge=1, le=5_000)


class ServingConfig(_Strict):
    """How one dataset's model is served."""

    mode: Literal["realtime", "serverless"] = "realtime"
    instance_type: str = Field("ml.m5.large", pattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
    instance_count: int = Field(1, ge=1, le=20)
    rollout: Rollout = Field(default_factory=Rollout)
    alarms: Alarms = Field(default_factory=Alarms)
    serverless: Serverless = Field(default_factory=Serverless)
    capture_api: CaptureApi = Field(default_factory=CaptureApi)
    capture_percent: int = Field(100, ge=1, le=100, description="Requests captured for the drift monitor.")
    max_payload_mb: float | None = Field(
        None, gt=0, le=REALTIME_MAX_PAYLOAD_MB, description="Default: the most SageMaker takes."
    )

    @model_validator(mode="before")
    @classmethod
    def _default_strategy(cls, data: Any) -> Any:
        # One instance cannot take a canary (at most half of the fleet): it updates all at once.
        if not isinstance(data, dict) or data.get("mode", "realtime") != "realtime":
            return data
        rollout = data.get("rollout")
        if rollout is None or (isinstance(rollout, dict) and "strategy" not in rollout):
            count = data.get("instance_count", 1)
            if isinstance(count, int) and count < 2:
                return {**data, "rollout": {**(rollout or {}), "strategy": "all_at_once"}}
        return data

    @model_validator(mode="after")
    def _mode(self) -> ServingConfig:
        # Compared with the defaults, not with what was given: a dumped configuration validates again.
        if self.mode == "serverless":
            if self.rollout != Rollout():
                raise ValueError(
                    "rollout: serverless endpoints cannot shift traffic gradually (an update replaces the "
                    "model at once); remove rollout or use mode 'realtime'"
                )
            if self.max_payload_mb is not None and self.max_payload_mb > SERVERLESS_MAX_PAYLOAD_MB:
                raise ValueError(
                    f"max_payload_mb: a serverless endpoint takes at most {SERVERLESS_MAX_PAYLOAD_MB} MB"
                )
        elif self.serverless != Serverless() or self.capture_api != CaptureApi():
            raise ValueError("serverless and capture_api apply to mode 'serverless' only")
        else:
            _check_rollout(self.rollout, self.instance_count)
        return self

    def step_instances(self) -> int | None:
        """Instances of the new fleet a canary or a linear step turns on (None: all at once)."""
        return _step_instances(self.rollout, self.instance_count)

    @property
    def max_payload_bytes(self) -> int:
        """The request limit the model server enforces (``MLOPS_MAX_PAYLOAD_BYTES``)."""
        default = SERVERLESS_MAX_PAYLOAD_MB if self.mode == "serverless" else REALTIME_MAX_PAYLOAD_MB
        return int((self.max_payload_mb or default) * 1024 * 1024)


def _step_instances(rollout: Rollout, instances: int) -> int | None:
    percent = {"canary": rollout.canary_percent, "linear": rollout.linear_step_percent}.get(rollout.strategy)
    # A share of a fleet is whole instances, at least one: rounded up.
    return None if percent is None else max(1, math.ceil(instances * percent / 100))


def _check_rollout(rollout: Rollout, instances: int) -> None:
    """Refuse a canary or linear step SageMaker refuses for ``instances`` (more than half of them)."""
    step = _step_instances(rollout, instances)
    if step is None or 2 * step <= instances:
        return
    key = "canary_percent" if rollout.strategy == "canary" else "linear_step_percent"
    what = "a canary" if rollout.strategy == "canary" else "a linear step"
    if instances < 2:
        loc: tuple[str, ...] = ("rollout", "strategy")
        message = (
            f"{what} needs at least 2 instances: SageMaker turns on at most half of the new fleet's "
            f"instances at a time, and instance_count is {instances}; use strategy 'all_at_once' (an alarm "
            "during bake_seconds still rolls back) or set instance_count to 2 or more"
        )
    else:
        percent = getattr(rollout, key)
        most = (instances // 2) * 100 // instances
        loc = ("rollout", key)
        message = (
            f"{percent}% of {instances} instances is {step} instance(s), more than half of the fleet, which "
            f"SageMaker refuses (at most {instances // 2}); set {key} to at most {most}"
            + (" (and at least 10)" if rollout.strategy == "linear" else "")
            + ", or instance_count higher"
        )
    raise ValidationError.from_exception_data(
        "ServingConfig",
        [
            InitErrorDetails(
                type=PydanticCustomError("value_error", "{message}", {"message": message}),
                loc=loc,
                input=getattr(rollout, loc[-1]),
            )
        ],
    )


def parse_serving_config(document: dict[str, Any] | None) -> ServingConfig:
    """Validate a dataset's ``serving`` key (missing: the defaults)."""
    return ServingConfig.model_validate(document or {})
