"""CloudWatch metric alarms, evaluated from the data points moto stores, at the local cloud's clock.

moto stores alarms but never evaluates them. The local cloud evaluates each alarm whose metric it has
data for, on any namespace: after each write of metrics (the endpoints' batches, the EMF metrics of a
Lambda function's logs), when the clock is advanced (``localcloud.clock``), and on a periodic tick (so
that missing data alone, such as an endpoint no one calls, moves an alarm with ``TreatMissingData:
breaching`` into ``ALARM``), always at the clock's now.

Which alarms (``AlarmScope``): by default, those whose metrics the local cloud produces as AWS does, the
application's own namespaces (anything not ``AWS/...``: ``PutMetricData`` and EMF) and the traffic count
``AWS/SageMaker`` ``Invocations``; ``LocalCloud(evaluate_alarms=True)``: every alarm, the endpoints'
latency and error alarms too (the rollback alarms of blue/green updates: a laptop's latencies are not
production's, so tests usually drive those with ``SetAlarmState``); ``False``: none. The other ``AWS/...``
namespaces (Lambda, Step Functions) are not published locally: their alarms would only see missing data.

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
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from moto.cloudwatch.models import MetricDatum, cloudwatch_backends
from moto.core import utils as moto_utils  # its utcnow is the clock (moto_times)

from localcloud.alarm_states import INITIAL_STATE

AlarmScope = Literal["default", "all", "none"]
TICK_SECONDS = 5.0  # an evaluation at least this often, even when no data arrives
_ENDPOINT_NAMESPACE = "AWS/SageMaker"
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


def in_scope(alarm: Any, scope: AlarmScope) -> bool:
    """Whether the local cloud evaluates ``alarm`` (moto's) in ``scope`` (see the module docstring)."""
    if scope == "none" or not alarm.metric_name or alarm.metric_data_queries:
        return False
    namespace = str(alarm.namespace or "")
    if scope == "all":
        return True
    return not namespace.startswith("AWS/") or (
        namespace == _ENDPOINT_NAMESPACE and alarm.metric_name == "Invocations"
    )


class AlarmEvaluator:
    """Evaluates the metric alarms in scope of the accounts and regions it watches.

    Parameters
    ----------
    scope : AlarmScope
        Which alarms (``in_scope``).
    now : Callable[[], datetime] | None
        The time evaluations are made at (naive UTC, as moto keeps times): the local cloud's clock;
        the machine's when None.
    """

    def __init__(self, scope: AlarmScope = "all", now: Callable[[], datetime] | None = None) -> None:
        self._scope: AlarmScope = scope
        self._now = now or moto_utils.utcnow
        self._watched: set[tuple[str, str]] = set()
        self._evaluated: dict[str, str] = {}
        self._seen: tuple[Any, ...] = ()
        self._last = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def watch(self, account_id: str, region: str) -> None:
        """Evaluate the alarms of this account and region from now on."""
        with self._lock:
            self._watched.add((account_id, region))

    def start(self, interval: float = TICK_SECONDS) -> None:
        """Evaluate every ``interval`` seconds from now on, in a thread of its own."""

        def tick() -> None:
            while not self._stop.wait(interval):
                self.evaluate(force=True)

        self._thread = threading.Thread(target=tick, name="alarm-evaluation", daemon=True)
        self._thread.start()

    def shutdown(self) -> None:
        """Stop the periodic evaluation."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def evaluate(self, *, force: bool = False) -> None:
        """Evaluate every watched alarm in scope once; change the state of those whose evaluation changed.

        Without ``force``, nothing is done when no data point and no alarm came or went since the last
        evaluation, less than ``TICK_SECONDS`` ago (it is called after every write of metrics).
        """
        if self._scope == "none":
            return
        with self._lock:
            backends = [cloudwatch_backends[a][r] for a, r in sorted(self._watched)]
            seen = tuple((len(b.metric_data), *map(id, b.alarms.values())) for b in backends)
            if not force and seen == self._seen and time.monotonic() - self._last < TICK_SECONDS:
                return
            self._seen, self._last = seen, time.monotonic()
            now = self._now()
            for backend in backends:
                alarms = [a for a in list(backend.alarms.values()) if in_scope(a, self._scope)]
                if not alarms:
                    continue
                series: dict[tuple[str, str], list[Any]] = {}
                for datum in list(backend.metric_data):
                    series.setdefault((datum.namespace, datum.name), []).append(datum)
                for alarm in alarms:
                    self._apply(alarm, series.get((alarm.namespace, alarm.metric_name), []), now)

    def _apply(self, alarm: Any, data: list[Any], now: datetime) -> None:
        state, reason = evaluate_alarm(alarm, data, now)
        # Only a change of the evaluation changes the state (see the module docstring). An alarm whose state
        # never changed (a new one, or one re-created under the same name) counts as evaluated in the state
        # it was created in. Of one whose state was set before the evaluator saw it, a first evaluation only
        # counts when it breaches.
        previous = self._evaluated.get(alarm.alarm_arn) if _changed_state(alarm) else INITIAL_STATE
        self._evaluated[alarm.alarm_arn] = state
        if state == previous or (previous is None and state != "ALARM") or alarm.state_value == state:
            return
        alarm.update_state(reason, json.dumps({"version": "1.0", "evaluatedBy": "localcloud"}), state)


def evaluate_alarm(alarm: Any, data: list[Any], now: datetime | None = None) -> tuple[str, str]:
    """``(state, reason)`` of one moto alarm over the data points of its namespace, at ``now``.

    ``now`` is naive UTC (moto's times); the machine's time when None.
    """
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
    now = _naive(now) if now is not None else moto_utils.utcnow()
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
