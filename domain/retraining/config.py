"""How the retraining policy of one dataset is limited: the ``retraining`` key of a dataset in ``cdk.json``.

Synth validates it (``stacks/config.py``) and ships it to the policy's function; pure pydantic, like the
monitoring configuration.

Example
-------
.. code-block:: json

    "retraining": {
      "enabled": true,
      "on_drift": true,
      "on_performance": true,
      "schedule": "rate(7 days)",
      "cooldown_minutes": 360,
      "max_runs_per_day": 6,
      "max_concurrent_runs": 1,
      "prepare_timeout_minutes": 60
    }

The schedule is an EventBridge Scheduler expression, checked like ``monitoring.schedule``
(:func:`domain.monitoring.config.check_schedule`); none by default.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from domain.monitoring.config import check_schedule

__all__ = ["RetrainingConfig", "RetrainingConfigError", "parse_retraining_config"]

# A day: the cap counts the runs of any 24 hours, so a longer cooldown would make it pointless to set.
_DAY_MINUTES = 24 * 60


class RetrainingConfigError(ValueError):
    """A retraining configuration is invalid; one line per problem: ``<source>: <key>: <message>``."""


class RetrainingConfig(BaseModel):
    """What may start a training run of one dataset, and how often.

    Attributes
    ----------
    enabled : bool
        Whether the policy starts runs at all (off: every trigger is recorded as skipped).
    on_drift, on_performance : bool
        Whether the drift alarm, the performance alarm, entering ALARM may start a run.
    schedule : str or None
        A periodic retraining: an EventBridge Scheduler ``rate()`` or ``cron()`` expression.
    cooldown_minutes : int
        After a run started by an alarm or the schedule, those triggers start nothing for this long
        (new data is not held back).
    max_runs_per_day : int
        Runs the policy starts in any 24 hours, whatever the trigger.
    max_concurrent_runs : int
        Runs of the dataset at once, a person's included; more new data waits, coalesced to the newest.
    prepare_timeout_minutes : int
        A prepared upload (accepted data plus labelled rows) not accepted by then is given up.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    on_drift: bool = True
    on_performance: bool = True
    schedule: str | None = None
    cooldown_minutes: int = Field(360, ge=0, le=_DAY_MINUTES)
    max_runs_per_day: int = Field(6, ge=1, le=1000)
    max_concurrent_runs: int = Field(1, ge=1, le=100)
    prepare_timeout_minutes: int = Field(60, ge=1, le=_DAY_MINUTES)

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, expression: str | None) -> str | None:
        if expression is not None:
            check_schedule(expression)
        return expression


def parse_retraining_config(raw: Any, *, source: str = "retraining") -> RetrainingConfig:
    """Validate a dataset's ``retraining`` key (missing: the defaults).

    Parameters
    ----------
    raw : Any
        The mapping from ``cdk.json`` (or ``None``).
    source : str
        Prefix of error messages, e.g. ``cdk.json: mlops.datasets.churn.retraining``.

    Returns
    -------
    RetrainingConfig

    Raises
    ------
    RetrainingConfigError
        One line per problem, naming the key: ``<source>: max_runs_per_day: ...``.
    """
    if raw is None:
        return RetrainingConfig()
    if not isinstance(raw, dict):
        raise RetrainingConfigError(f"{source}: <root>: must be a mapping, got {type(raw).__name__}")
    try:
        return RetrainingConfig.model_validate(raw)
    except ValidationError as error:
        lines = []
        for item in error.errors():
            path = ".".join(str(part) for part in item["loc"]) or "<root>"
            message = item["msg"].removeprefix("Value error, ")
            if item["type"] == "extra_forbidden":
                message = f"unknown key; allowed keys: {', '.join(sorted(RetrainingConfig.model_fields))}"
            lines.append(f"{source}: {path}: {message}")
        raise RetrainingConfigError("\n".join(lines)) from None
