"""How a dataset's endpoint is watched for drift: the schedule, the window, the verdict's rules, the alarms.

The ``monitoring`` key of a dataset in ``cdk.json``. Synth validates it (``stacks/config.py``) and ships it
to the drift monitor function as ``monitoring.json`` (``domain.declared.declared_monitoring``); pure
pydantic, like the serving configuration.

Example
-------
.. code-block:: json

    "monitoring": {
      "schedule": "rate(1 hour)",
      "window_minutes": 60,
      "min_rows": 200,
      "false_alarm_rate": 0.01,
      "drifted_share": 0.1,
      "min_effect": {"numeric": 0.1, "categorical": 0.1},
      "alarm": {"datapoints": 2, "periods": 3},
      "no_traffic_minutes": 60,
      "no_new_data_hours": 168,
      "max_feature_metrics": 25,
      "performance": {"metric": "accuracy", "floor": 0.8, "min_labels": 200}
    }

The schedule is an EventBridge Scheduler expression, checked here as the Scheduler's guide documents it
(https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html): ``rate(<value> <unit>)``
with a positive whole value and a unit among minute(s), hour(s), day(s) (singular for 1, plural
otherwise), or ``cron(<minutes> <hours> <day-of-month> <month> <day-of-week> <year>)``, six fields, one of
the two day fields ``?``. The alarms' windows are checked against CloudWatch's limit on an alarm's
evaluation range (``PutMetricAlarm``: period x evaluation periods at most 7 days, and at most 1 day when
the period is under an hour). ``performance`` (realized metrics on labelled traffic and their alarm) is
described in :mod:`domain.monitoring.performance_config`.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from domain.monitoring.performance_config import PerformanceConfig

__all__ = [
    "DriftAlarm",
    "MinEffect",
    "MonitoringConfig",
    "MonitoringConfigError",
    "check_schedule",
    "parse_monitoring_config",
]

# PutMetricAlarm: Period x EvaluationPeriods at most 7 days; at most 1 day for a period under an hour.
_MAX_EVALUATION_SECONDS = 7 * 86_400
_MAX_SHORT_EVALUATION_SECONDS = 86_400

_RATE = re.compile(r"rate\((?P<value>\S+) (?P<unit>\S+)\)")
_CRON = re.compile(r"cron\((?P<fields>[^()]*)\)")
_UNITS = {"minute": 1, "hour": 60, "day": 1440}
_CRON_NAMES = ("minutes", "hours", "day-of-month", "month", "day-of-week", "year")
# The characters each cron field may hold (values, month and weekday names, and its wildcards).
_CRON_FIELD = {
    "minutes": re.compile(r"[0-9,\-*/]+"),
    "hours": re.compile(r"[0-9,\-*/]+"),
    "day-of-month": re.compile(r"[0-9,\-*?/LW]+"),
    "month": re.compile(r"([0-9,\-*/]|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)+"),
    "day-of-week": re.compile(r"([0-9,\-*?L#]|SUN|MON|TUE|WED|THU|FRI|SAT)+"),
    "year": re.compile(r"[0-9,\-*/]+"),
}


class MonitoringConfigError(ValueError):
    """A monitoring configuration is invalid; one line per problem: ``<source>: <key path>: <message>``."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MinEffect(_Strict):
    """The smallest primary score that counts as drift, however large the window.

    Attributes
    ----------
    numeric : float
        Normed Wasserstein distance (the mean shift in units of the baseline's spread).
    categorical : float
        Jensen-Shannon distance (base 2, between 0 and 1).
    """

    numeric: float = Field(0.1, ge=0)
    categorical: float = Field(0.1, ge=0, le=1)


class DriftAlarm(_Strict):
    """The drift alarm fires when ``datapoints`` of the last ``periods`` windows drifted (N of M)."""

    datapoints: int = Field(2, ge=1)
    periods: int = Field(3, ge=1)

    @model_validator(mode="after")
    def _datapoints_within_periods(self) -> DriftAlarm:
        if self.datapoints > self.periods:
            _raise(
                ("datapoints",),
                self.datapoints,
                f"{self.datapoints} drifted windows cannot be found among {self.periods}: datapoints must "
                f"be at most periods ({self.periods}); raise periods or lower datapoints",
            )
        return self


class MonitoringConfig(_Strict):
    """How one dataset's endpoint is monitored for drift.

    Attributes
    ----------
    enabled : bool
        Whether the stack schedules the monitor and creates the alarms.
    schedule : str
        When the monitor runs: an EventBridge Scheduler ``rate()`` or ``cron()`` expression.
    window_minutes : int
        The window each run reads, ending at the scheduled time; also the drift alarm's period.
    min_rows : int
        A version with fewer rows in the window is reported as too small, never as drift.
    false_alarm_rate : float
        The chance, per window and version, of a false drift verdict on undrifted traffic; split over
        the features and the predictions tested (Bonferroni).
    drifted_share : float
        A version drifts when this share of its features drifted (or its predictions did).
    min_effect : MinEffect
        Smaller primary scores are never drift.
    alarm : DriftAlarm
        N of M windows that raise the drift alarm.
    no_traffic_minutes : int or None
        The no-traffic alarm's period (None: no such alarm).
    no_new_data_hours : int or None
        The no-new-data alarm's period (None: no such alarm).
    max_feature_metrics : int
        At most this many ``FeatureDrift`` metrics per version and window (the highest first).
    performance : PerformanceConfig
        The realized metrics of labelled traffic and the performance alarm (defaults from the gate).
    """

    enabled: bool = True
    schedule: str = "rate(1 hour)"
    window_minutes: int = Field(60, ge=1)
    min_rows: int = Field(200, ge=1)
    false_alarm_rate: float = Field(0.01, gt=0, lt=1)
    drifted_share: float = Field(0.1, gt=0, le=1)
    min_effect: MinEffect = Field(default_factory=MinEffect)
    alarm: DriftAlarm = Field(default_factory=DriftAlarm)
    no_traffic_minutes: int | None = Field(60, ge=1, le=_MAX_SHORT_EVALUATION_SECONDS // 60)
    no_new_data_hours: int | None = Field(168, ge=1, le=_MAX_EVALUATION_SECONDS // 3600)
    max_feature_metrics: int = Field(25, ge=0, le=500)
    performance: PerformanceConfig = Field(default_factory=PerformanceConfig)

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, expression: str) -> str:
        check_schedule(expression)
        return expression

    @model_validator(mode="after")
    def _alarm_range(self) -> MonitoringConfig:
        period = self.window_minutes * 60
        limit = _MAX_SHORT_EVALUATION_SECONDS if period < 3600 else _MAX_EVALUATION_SECONDS
        if period * self.alarm.periods > limit:
            _raise(
                ("alarm", "periods"),
                self.alarm.periods,
                f"{self.alarm.periods} windows of {self.window_minutes} minutes exceed what a CloudWatch "
                f"alarm may evaluate ({limit // 3600} hours for a period "
                f"{'under' if period < 3600 else 'of'} an hour{'' if period < 3600 else ' or more'}); "
                "lower alarm.periods or window_minutes",
            )
        return self


def check_schedule(expression: str) -> None:
    """Refuse what EventBridge Scheduler would refuse as a recurring schedule expression.

    Parameters
    ----------
    expression : str
        ``rate(<value> <unit>)`` or ``cron(<six fields>)``.

    Raises
    ------
    ValueError
        Saying what is wrong and what is allowed.
    """
    rate = _RATE.fullmatch(expression)
    if rate is not None:
        _check_rate(rate["value"], rate["unit"])
        return
    cron = _CRON.fullmatch(expression)
    if cron is not None:
        _check_cron(cron["fields"].split())
        return
    raise ValueError(
        f"{expression!r} is not an EventBridge Scheduler expression; write rate(<value> <unit>), e.g. "
        "'rate(1 hour)' or 'rate(15 minutes)', or cron(<minutes> <hours> <day-of-month> <month> "
        "<day-of-week> <year>), e.g. 'cron(0 * * * ? *)'"
    )


def _check_rate(value: str, unit: str) -> None:
    if not value.isdigit() or int(value) < 1:
        raise ValueError(
            f"rate({value} {unit}): the value must be a positive whole number, e.g. rate(5 {unit})"
        )
    count = int(value)
    singular = unit.removesuffix("s")
    if singular not in _UNITS:
        raise ValueError(f"rate({value} {unit}): the unit must be minute(s), hour(s) or day(s)")
    expected = singular if count == 1 else f"{singular}s"
    if unit != expected:
        raise ValueError(
            f"rate({value} {unit}): write rate({value} {expected}) (singular for 1, plural otherwise)"
        )


def _check_cron(fields: list[str]) -> None:
    if len(fields) != len(_CRON_NAMES):
        raise ValueError(
            f"a cron expression has six fields ({' '.join(_CRON_NAMES)}), got {len(fields)}; "
            "e.g. 'cron(0 * * * ? *)' runs at the top of every hour"
        )
    for name, field in zip(_CRON_NAMES, fields, strict=True):
        if not _CRON_FIELD[name].fullmatch(field):
            raise ValueError(f"cron field {name} {field!r} holds a character EventBridge Scheduler refuses")
    day_of_month, day_of_week = fields[2], fields[4]
    if (day_of_month == "?") == (day_of_week == "?"):
        raise ValueError(
            f"cron: exactly one of day-of-month ({day_of_month!r}) and day-of-week ({day_of_week!r}) must be "
            "'?'; e.g. 'cron(0 * * * ? *)'"
        )


def _raise(loc: tuple[str, ...], value: Any, message: str) -> None:
    """Raise a validation error at ``loc`` (relative to the model), so the message names the key."""
    raise ValidationError.from_exception_data(
        "MonitoringConfig",
        [
            InitErrorDetails(
                type=PydanticCustomError("value_error", "{message}", {"message": message}),
                loc=loc,
                input=value,
            )
        ],
    )


def parse_monitoring_config(raw: Any, *, source: str = "monitoring") -> MonitoringConfig:
    """Validate a dataset's ``monitoring`` key (missing: the defaults).

    Parameters
    ----------
    raw : Any
        The mapping from ``cdk.json`` (or ``None``).
    source : str
        Prefix of error messages, e.g. ``cdk.json: mlops.datasets.churn.monitoring``.

    Returns
    -------
    MonitoringConfig

    Raises
    ------
    MonitoringConfigError
        One line per problem, naming the key: ``<source>: alarm.datapoints: ...``.
    """
    if raw is None:
        return MonitoringConfig()
    if not isinstance(raw, dict):
        raise MonitoringConfigError(f"{source}: <root>: must be a mapping, got {type(raw).__name__}")
    try:
        return MonitoringConfig.model_validate(raw)
    except ValidationError as error:
        raise MonitoringConfigError(_describe(error, source)) from None


def _describe(error: ValidationError, source: str) -> str:
    lines = []
    for item in error.errors():
        path = ".".join(str(part) for part in item["loc"]) or "<root>"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = f"unknown key; allowed keys: {', '.join(_allowed_keys(item['loc'][:-1]))}"
        lines.append(f"{source}: {path}: {message}")
    return "\n".join(lines)


def _allowed_keys(location: tuple[int | str, ...]) -> list[str]:
    model: type[BaseModel] = MonitoringConfig
    for part in location:
        annotation = model.model_fields[str(part)].annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model = annotation
    return sorted(model.model_fields)
