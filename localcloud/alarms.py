"""CloudWatch metric alarms on the endpoints' metrics, evaluated from the data points published locally.

moto stores alarms but never evaluates them. When the local cloud is asked to (``LocalCloud(
evaluate_alarms=True)``), the alarms on ``AWS/SageMaker`` metrics are evaluated each time the endpoints'
metrics are written (every half second while there is traffic, and on ``wait_idle``), so that a model
answering errors during a canary raises its alarm by itself, and the update rolls back.

As CloudWatch evaluates them, roughly: the last ``EvaluationPeriods`` periods of ``Period`` seconds
(trailing windows ending now, where CloudWatch uses whole periods: an alarm here fires as soon as the data
breaches, not at the end of the minute), the alarm's ``Statistic`` or ``ExtendedStatistic`` (``pNN``) on
each, compared with ``Threshold``; ``DatapointsToAlarm`` breaching periods (all of them by default) make
ALARM, periods without data count as ``TreatMissingData`` says (``missing``: left out).

An alarm is created in ``INSUFFICIENT_DATA`` (``localcloud.alarm_states``), and its first evaluation sets
its state, as CloudWatch's does. After that, the state changes only when the evaluation itself changes: an
alarm set with ``SetAlarmState`` (what tests do) keeps its state until the data says something new, where
CloudWatch would reset it at the next evaluation. A state change runs the alarm's actions and sends its
EventBridge event, as any state change does (``localcloud.alarm_states``).
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable
from datetime import UTC, timedelta
from typing import Any

from moto.cloudwatch.models import MetricDatum, cloudwatch_backends
from moto.core.utils import utcnow

from localcloud.alarm_states import INITIAL_STATE
from localcloud.sagemaker.endpoints.metrics import NAMESPACE

_COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanOrEqualToThreshold": lambda value, threshold: value >= threshold,
    "GreaterThanThreshold": lambda value, threshold: value > threshold,
    "LessThanThreshold": lambda value, threshold: value < threshold,
    "LessThanOrEqualToThreshold": lambda value, threshold: value <= threshold,
}
_SYMBOLS = {
    "GreaterThanOrEqualToThreshold": "greater than or equal to",
    "GreaterThanThreshold": "greater than",
    "LessThanThreshold": "less than",
    "LessThanOrEqualToThreshold": "less than or equal to",
}


class AlarmEvaluator:
    """Evaluates the metric alarms on ``AWS/SageMaker`` metrics of the accounts and regions it watches."""

    def __init__(self) -> None:
        self._watched: set[tuple[str, str]] = set()
        self._evaluated: dict[str, str] = {}
        self._lock = threading.Lock()

    def watch(self, account_id: str, region: str) -> None:
        """Evaluate the alarms of this account and region from now on (metrics were published there)."""
        with self._lock:
            self._watched.add((account_id, region))

    def evaluate(self) -> None:
        """Evaluate every watched alarm once; change the state of those whose evaluation changed."""
        with self._lock:
            watched = sorted(self._watched)
            for account_id, region in watched:
                backend = cloudwatch_backends[account_id][region]
                data = [d for d in list(backend.metric_data) if d.namespace == NAMESPACE]
                for alarm in list(backend.alarms.values()):
                    if alarm.namespace == NAMESPACE and alarm.metric_name and not alarm.metric_data_queries:
                        self._apply(alarm, data)

    def _apply(self, alarm: Any, data: list[Any]) -> None:
        state, reason = evaluate_alarm(alarm, data)
        # Only a change of the evaluation changes the state (see the module docstring). An alarm whose state
        # never changed (a new one, or one re-created under the same name) counts as evaluated in the state
        # it was created in. Of one whose state was set before the evaluator saw it, a first evaluation only
        # counts when it breaches.
        previous = self._evaluated.get(alarm.alarm_arn) if _changed_state(alarm) else INITIAL_STATE
        self._evaluated[alarm.alarm_arn] = state
        if state == previous or (previous is None and state != "ALARM") or alarm.state_value == state:
            return
        alarm.update_state(reason, json.dumps({"version": "1.0", "evaluatedBy": "localcloud"}), state)


def evaluate_alarm(alarm: Any, data: list[Any]) -> tuple[str, str]:
    """``(state, reason)`` of one moto alarm over the data points of its namespace."""
    compare = _COMPARISONS.get(str(alarm.comparison_operator))
    if compare is None:
        return str(alarm.state_value), str(alarm.state_reason)
    period = timedelta(seconds=int(alarm.period or 60))
    periods = max(1, int(alarm.evaluation_periods or 1))
    needed = max(1, int(alarm.datapoints_to_alarm or periods))
    wanted = {(d.name, d.value) for d in alarm.dimensions}
    points = [
        d
        for d in data
        if isinstance(d, MetricDatum)
        and d.name == alarm.metric_name
        and {(x.name, x.value) for x in d.dimensions} == wanted
    ]
    now = utcnow()
    values: list[float | None] = []
    for index in range(periods):
        end, start = now - index * period, now - (index + 1) * period
        window = [float(d.value) for d in points if start < _naive(d.timestamp) <= end]
        values.append(statistic(window, alarm.statistic, alarm.extended_statistic) if window else None)
    missing = str(alarm.treat_missing_data or "missing")
    breaching = sum(
        1
        for value in values
        if (value is not None and compare(value, float(alarm.threshold)))
        or (value is None and missing == "breaching")
    )
    present = [v for v in values if v is not None]
    if breaching >= needed:
        state = "ALARM"
    elif not present and missing in ("missing", "ignore"):
        return ("INSUFFICIENT_DATA" if missing == "missing" else str(alarm.state_value)), (
            "Insufficient Data: no datapoints were received for the evaluation periods."
        )
    else:
        state = "OK"
    shown = ", ".join(f"{v:g}" for v in present[:5]) or "no data"
    verb = "was" if breaching >= needed else "was not"
    reason = (
        f"Threshold Crossed: {breaching} out of the last {periods} datapoints [{shown}] {verb} "
        f"{_SYMBOLS[str(alarm.comparison_operator)]} the threshold ({float(alarm.threshold):g})."
    )
    return state, reason


def statistic(values: list[float], name: str | None, extended: str | None) -> float:
    """One period's ``Statistic`` (``Sum``, ``Average``...) or ``ExtendedStatistic`` (``p99``...)."""
    if extended and extended.startswith("p"):
        ordered = sorted(values)
        rank = math.ceil(float(extended[1:]) / 100 * len(ordered))
        return ordered[min(len(ordered), max(1, rank)) - 1]
    if name == "Sum":
        return sum(values)
    if name == "Minimum":
        return min(values)
    if name == "Maximum":
        return max(values)
    if name == "SampleCount":
        return float(len(values))
    return sum(values) / len(values)


def _changed_state(alarm: Any) -> bool:
    """Whether the alarm's state ever changed (moto's history keeps a ``StateUpdate`` item per change)."""
    return any(item[0] == "StateUpdate" for item in alarm.history)


def _naive(moment: Any) -> Any:
    """A time as moto keeps them: naive UTC."""
    return moment.astimezone(UTC).replace(tzinfo=None) if getattr(moment, "tzinfo", None) else moment
