"""EventBridge Scheduler's schedules, fired: moto stores them and never invokes a target.

A schedule in state ``ENABLED`` fires at the times of its expression (``expressions``), within its
``StartDate``/``EndDate``, on the local cloud's clock: in real time (a background tick every second
while the cloud runs) and when a test advances the clock (``Clock.advance``: each firing at its own time).
A ``FLEXIBLE`` time window fires at the window's start (Scheduler picks a moment within it). A schedule
first seen by the local cloud counts from that moment: a rate schedule without ``StartDate`` fires at once
and every interval after, as Scheduler starts one "immediately"; a disabled schedule's times pass unfired.

A firing acts as Scheduler does, as the schedule's ``RoleArn``: ``scheduler.amazonaws.com`` assumes the role
through its trust policy (``aws:SourceAccount`` and ``aws:SourceArn``, the schedule group's ARN, as CDK writes
them), and the role must allow ``lambda:InvokeFunction`` on a Lambda target (invoked asynchronously, as
Scheduler does: Lambda's own retries follow) or ``states:StartExecution`` on a state machine, and
``kms:Decrypt`` on the schedule's ``KmsKeyArn`` when it has one. All are decided by the local cloud's IAM
evaluator (``localcloud.roles``). The target's ``Input`` gets its context attributes
(``<aws.scheduler.scheduled-time>`` in ISO-8601 UTC with ``Z``, ``<aws.scheduler.schedule-arn>``,
``<aws.scheduler.execution-id>``, ``<aws.scheduler.attempt-number>``); without one, the target receives
``{}``. A firing that cannot be made (refused, missing target, an ``Input`` that is not JSON) is recorded and
logged, and its input goes to the target's dead-letter queue (``DeadLetterConfig``) when the role may send
there, with Scheduler's attributes. It is not retried: the ``RetryPolicy`` covers failures AWS retries
(throttling, a service unavailable) that do not happen here.
A one-time schedule with ``ActionAfterCompletion: DELETE`` is deleted once it fired.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from moto.scheduler.models import Schedule, scheduler_backends

from localcloud.awslambda.async_failures import send_to_queue
from localcloud.awslambda.async_invoke import AsyncInvoker
from localcloud.awslambda.service import find_function
from localcloud.clock import Clock
from localcloud.roles import refusal
from localcloud.scheduler.expressions import At, ScheduleExpressionError, Timing
from localcloud.stepfunctions.executions import start_execution

SCHEDULER_PRINCIPAL = "scheduler.amazonaws.com"
TICK_SECONDS = 1.0
FiringStatus = Literal["invoked", "started", "refused", "failed", "unsupported"]

logger = logging.getLogger(__name__)
iam_logger = logging.getLogger("localcloud.iam")


@dataclass(frozen=True)
class ScheduleFiring:
    """One time a schedule fired, and what came of it.

    Attributes
    ----------
    schedule_arn, schedule_name, group_name, target_arn : str
        The schedule and its target.
    scheduled_time : datetime
        The time it fired for (aware UTC): ``<aws.scheduler.scheduled-time>``.
    execution_id : str
        ``<aws.scheduler.execution-id>``.
    status : str
        ``invoked`` (a Lambda target, asynchronously), ``started`` (a state machine's execution),
        ``refused`` (the role may not, or Scheduler may not assume it), ``failed`` (no such target, an
        input that is not JSON), ``unsupported`` (a target type the local cloud does not deliver to).
    error : str | None
        Why it was refused or failed.
    dead_lettered : bool
        Whether the input went to the target's dead-letter queue.
    delivery_id : str | None
        The asynchronous Lambda delivery (``cloud.deliveries()``).
    result : str | None
        The delivery's status when read (``pending``, ``succeeded``, ``failed``), or the execution's ARN.
    """

    schedule_arn: str
    schedule_name: str
    group_name: str
    target_arn: str
    scheduled_time: datetime
    execution_id: str
    status: FiringStatus
    error: str | None = None
    dead_lettered: bool = False
    delivery_id: str | None = None
    result: str | None = None


@dataclass
class _Track:
    signature: tuple[Any, ...]
    anchor: datetime  # when the local cloud first saw the schedule (its rate's origin without StartDate)
    fired_until: datetime  # every time up to this one has fired (or passed)
    timing: Timing | None


class ScheduleRunner:
    """Fires the schedules of moto's Scheduler backends on the local cloud's clock.

    Parameters
    ----------
    clock : Clock
        The time schedules fire at.
    invoker : AsyncInvoker
        Delivers to Lambda targets asynchronously.
    where : list[tuple[str, str]]
        The (account, region) pairs whose schedules fire.
    """

    def __init__(self, *, clock: Clock, invoker: AsyncInvoker, where: list[tuple[str, str]]) -> None:
        self._clock = clock
        self._invoker = invoker
        self._where = list(where)
        self._tracks: dict[str, _Track] = {}
        self._firings: list[ScheduleFiring] = []
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tick, name="scheduler-tick", daemon=True)

    def start(self) -> None:
        """Fire in real time from now on."""
        self._thread.start()

    def shutdown(self) -> None:
        """Stop firing in real time."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def firings(self) -> list[ScheduleFiring]:
        """Every firing so far, in order, with the Lambda delivery's status as it is now."""
        deliveries = {d.delivery_id: d.status for d in self._invoker.deliveries()}
        with self._lock:
            firings = list(self._firings)
        return [
            replace(f, result=deliveries.get(f.delivery_id)) if f.delivery_id is not None else f
            for f in firings
        ]

    def next_due(self, until: datetime) -> datetime | None:
        """The earliest time not after ``until`` at which an enabled schedule fires (``Timed``)."""
        with self._lock:
            dues = [due for _, due in self._pending(until)]
        return min(dues) if dues else None

    def run_due(self, until: datetime) -> None:
        """Fire, in time order, every schedule time up to ``until`` (``Timed``)."""
        with self._lock:
            while pending := self._pending(until):
                schedule, due = min(pending, key=lambda item: item[1])
                self._tracks[schedule.arn].fired_until = due
                if schedule.state == "ENABLED":
                    self._fire(schedule, due)
                    if _one_time(self._tracks[schedule.arn]) and schedule.action_after_completion == "DELETE":
                        _delete(schedule)

    def _pending(self, until: datetime) -> list[tuple[Schedule, datetime]]:
        found = []
        for schedule in self._schedules():
            track = self._track(schedule)
            if track.timing is None:
                continue
            due = track.timing.next_after(track.fired_until, track.anchor)
            if due is not None and due <= until:
                found.append((schedule, due))
        return found

    def _schedules(self) -> list[Schedule]:
        schedules = []
        for account_id, region in self._where:
            backend = scheduler_backends[account_id][region]
            for group in list(backend.schedule_groups.values()):
                schedules.extend(list(group.schedules.values()))
        return schedules

    def _track(self, schedule: Schedule) -> _Track:
        start, end = _moment(schedule.start_date), _moment(schedule.end_date)
        # A schedule deleted and created again under its name starts afresh (no catching up).
        signature = (
            schedule.schedule_expression,
            schedule.schedule_expression_timezone,
            start,
            end,
            schedule.creation_date,
        )
        track = self._tracks.get(schedule.arn)
        if track is not None and track.signature == signature:
            return track
        now = self._clock.now().replace(microsecond=0)  # Scheduler's times are whole seconds at most
        try:
            timing: Timing | None = Timing.parse(
                schedule.schedule_expression, schedule.schedule_expression_timezone, start, end
            )
        except ScheduleExpressionError as error:
            logger.warning("schedule %s never fires locally: %s", schedule.arn, error)
            timing = None
        track = _Track(signature=signature, anchor=now, fired_until=now, timing=timing)
        if not _one_time(track):  # a rate schedule fires at its origin itself: count from just before it
            track.fired_until = now - timedelta(microseconds=1)
        self._tracks[schedule.arn] = track
        return track

    def _fire(self, schedule: Schedule, due: datetime) -> None:
        target = dict(schedule.target)
        execution_id = str(uuid.uuid4())
        group_arn = schedule.arn.replace(":schedule/", ":schedule-group/").rsplit("/", 1)[0]
        text = _substitute(target.get("Input") or "{}", schedule.arn, due, execution_id)
        firing = ScheduleFiring(
            schedule_arn=schedule.arn,
            schedule_name=schedule.name,
            group_name=schedule.group_name,
            target_arn=str(target.get("Arn")),
            scheduled_time=due,
            execution_id=execution_id,
            status="failed",
        )
        firing = self._deliver(firing, target, text, group_arn, schedule.kms_key_arn)
        if firing.status in ("refused", "failed"):
            firing = replace(firing, dead_lettered=_dead_letter(firing, target, text, group_arn))
        with self._lock:
            self._firings.append(firing)

    def _deliver(
        self, firing: ScheduleFiring, target: dict[str, Any], text: str, group_arn: str, key: str | None
    ) -> ScheduleFiring:
        service = firing.target_arn.split(":")[2] if firing.target_arn.count(":") >= 5 else ""
        if service not in ("lambda", "states"):
            logger.warning(
                "schedule %s: targets of %s are not delivered locally", firing.schedule_arn, service
            )
            return replace(firing, status="unsupported", error=f"{service or firing.target_arn} targets")
        try:
            payload = json.loads(text)
        except ValueError as error:
            return replace(firing, error=f"the schedule's Input is not JSON ({error}); the target refuses it")
        action = "lambda:InvokeFunction" if service == "lambda" else "states:StartExecution"
        refused = _decrypt_refusal(target.get("RoleArn"), key, firing.schedule_arn, group_arn) or refusal(
            target.get("RoleArn"),
            service=SCHEDULER_PRINCIPAL,
            action=action,
            resource=firing.target_arn,
            source_arn=group_arn,
        )
        if refused is not None:
            iam_logger.warning(
                "schedule %s cannot reach %s: %s", firing.schedule_arn, firing.target_arn, refused
            )
            return replace(firing, status="refused", error=refused)
        try:
            if service == "states":
                return replace(firing, status="started", result=start_execution(firing.target_arn, payload))
            find_function(firing.target_arn)
        except Exception as error:  # moto's not-found types differ per service; the firing fails either way
            logger.warning("schedule %s: %s: %s", firing.schedule_arn, firing.target_arn, error)
            return replace(firing, error=f"{type(error).__name__}: {error}")
        delivery = self._invoker.submit(firing.target_arn, payload, source=firing.schedule_arn)
        return replace(firing, status="invoked", delivery_id=delivery.delivery_id)

    def _tick(self) -> None:
        while not self._stop.wait(TICK_SECONDS):
            try:
                self.run_due(self._clock.now())
            except Exception:  # a firing never stops the ticking
                logger.exception("firing the schedules failed")


def _delete(schedule: Schedule) -> None:
    account_id, region = schedule.arn.split(":")[4], schedule.arn.split(":")[3]
    scheduler_backends[account_id][region].delete_schedule(schedule.group_name, schedule.name)


def _one_time(track: _Track) -> bool:
    return track.timing is not None and isinstance(track.timing.expression, At)


def _substitute(text: str, schedule_arn: str, due: datetime, execution_id: str) -> str:
    """The Input with Scheduler's context attributes filled in."""
    values = {
        "<aws.scheduler.scheduled-time>": due.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "<aws.scheduler.schedule-arn>": schedule_arn,
        "<aws.scheduler.execution-id>": execution_id,
        "<aws.scheduler.attempt-number>": "1",
    }
    for placeholder, value in values.items():
        text = text.replace(placeholder, value)
    return text


def _decrypt_refusal(role_arn: str | None, key: str | None, schedule_arn: str, group_arn: str) -> str | None:
    """Why Scheduler may not decrypt the schedule's payload as its role; None if it may or need not.

    A schedule encrypted with a customer managed key (``KmsKeyArn``) is decrypted with the execution
    role's permissions: the role needs ``kms:Decrypt`` on the key (CDK's targets grant it).
    """
    if not key:
        return None
    region, account = schedule_arn.split(":")[3], schedule_arn.split(":")[4]
    context = {
        "kms:ViaService": f"scheduler.{region}.amazonaws.com",
        "kms:CallerAccount": account,
        "kms:EncryptionContext:aws:scheduler:schedule:arn": schedule_arn,
    }
    return refusal(
        role_arn,
        service=SCHEDULER_PRINCIPAL,
        action="kms:Decrypt",
        resource=key,
        source_arn=group_arn,
        context=context,
    )


def _dead_letter(firing: ScheduleFiring, target: dict[str, Any], text: str, group_arn: str) -> bool:
    """Send the input to the target's dead-letter queue, as the schedule's role; whether it went."""
    queue_arn = (target.get("DeadLetterConfig") or {}).get("Arn")
    if not queue_arn:
        return False
    refused = refusal(
        target.get("RoleArn"),
        service=SCHEDULER_PRINCIPAL,
        action="sqs:SendMessage",
        resource=queue_arn,
        source_arn=group_arn,
    )
    if refused is not None:
        iam_logger.warning(
            "schedule %s cannot send to its dead-letter queue: %s", firing.schedule_arn, refused
        )
        return False
    attributes = {
        "ERROR_CODE": "AccessDenied" if firing.status == "refused" else "Failed",
        "ERROR_MESSAGE": firing.error or "",
        "EXECUTION_ID": firing.execution_id,
        "RETRY_ATTEMPTS": "0",
        "SCHEDULE_ARN": firing.schedule_arn,
        "TARGET_ARN": firing.target_arn,
    }
    send_to_queue(queue_arn, text, attributes)
    return True


def _moment(value: Any) -> datetime | None:
    """A StartDate/EndDate as moto keeps it (epoch seconds, or a datetime) as aware UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromtimestamp(float(value), UTC)
