"""How long the deployment workflow may run and how many history events it can write, known at synth.

Step Functions ends a standard execution at 25,000 history events ("Maximum execution history size",
https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html): event 25,000 is
``ExecutionFailed`` (``States.Runtime``), which nothing in the definition catches. The deployment
workflow loops twice: while the endpoint updates (``WaitForUpdate`` → ``DescribeEndpoint`` →
``Settled?``) and while another deployment holds the endpoint (``WaitForEndpoint`` → ``Prepare`` →
``Endpoint taken?``). Each turn writes 9 events (a Wait state 2, a task 5, a Choice 2) and each retry of
the task 3 more (``TaskScheduled``, ``TaskStarted``, ``TaskFailed``), and each turn takes at least its
wait plus the retries' intervals. So however the time is spent, the loops write at most
``timeout x (the largest events-per-second of any turn)`` events, plus the states run once. Synth
refuses a configuration whose bound reaches the limit.

The retry policies are defined here, and the construct uses them, so that the bound is computed from
the very definition that is deployed.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

__all__ = [
    "DESCRIBE_RETRY",
    "ENDPOINT_START_SECONDS",
    "HISTORY_BUDGET",
    "MAX_HISTORY_EVENTS",
    "PREPARE_RETRY",
    "THROTTLE_RETRY",
    "Retry",
    "worst_case_events",
]

MAX_HISTORY_EVENTS = 25_000
WAIT_EVENTS, TASK_EVENTS, CHOICE_EVENTS, RETRY_EVENTS = 2, 5, 2, 3
LOOP_EVENTS = WAIT_EVENTS + TASK_EVENTS + CHOICE_EVENTS
# The states outside the loops, each run at most once, with every retry they allow: started/ended (2),
# Begin (2), Finish and RecordFailure (2 x (5 + 4 retries x 3)), Outcome? (2), an announcement or the
# unrecorded alert (5 each, at most two), the final state (2); and one turn of each loop cut short by
# the end (2 x (9 + 7 retries x 3)). Rounded up.
ONCE_EVENTS = 140
HISTORY_BUDGET = MAX_HISTORY_EVENTS - 1  # event 25,000 must be the execution's end
# Creating or updating an endpoint's instances, and the workflow's own steps, besides the rollout's
# waits (SageMaker takes minutes to start instances).
ENDPOINT_START_SECONDS = 900


@dataclass(frozen=True)
class Retry:
    """A Retry field's timing: ``IntervalSeconds``, ``MaxAttempts``, ``BackoffRate``."""

    interval_seconds: int
    max_attempts: int
    backoff_rate: float

    def waits(self) -> list[float]:
        """The pause before each retry, in order."""
        return [self.interval_seconds * self.backoff_rate**n for n in range(self.max_attempts)]


THROTTLE_RETRY = Retry(interval_seconds=2, max_attempts=4, backoff_rate=2)  # Lambda throttles, per task
PREPARE_RETRY = Retry(interval_seconds=10, max_attempts=3, backoff_rate=2)  # the endpoint, table, registry
DESCRIBE_RETRY = Retry(interval_seconds=5, max_attempts=3, backoff_rate=2)  # DescribeEndpoint's errors


def _fastest_rate(wait_seconds: int, retries: tuple[Retry, ...]) -> float:
    """The most events per second one turn of a loop can write (any number of each retrier's retries)."""
    rates = []
    for used in itertools.product(*(range(r.max_attempts + 1) for r in retries)):
        events = LOOP_EVENTS + RETRY_EVENTS * sum(used)
        seconds = wait_seconds + sum(sum(r.waits()[:n]) for r, n in zip(retries, used, strict=True))
        rates.append(events / seconds)
    return max(rates)


def worst_case_events(*, poll_seconds: int, lock_wait_seconds: int, timeout_minutes: int) -> int:
    """An upper bound of the history events of one deployment execution.

    Parameters
    ----------
    poll_seconds, lock_wait_seconds, timeout_minutes : int
        ``mlops.deployment`` in ``cdk.json``.

    Returns
    -------
    int
        At most this many events, whatever SageMaker, Lambda and the other deployments do.
    """
    update_loop = _fastest_rate(poll_seconds, (DESCRIBE_RETRY,))
    lock_loop = _fastest_rate(lock_wait_seconds, (THROTTLE_RETRY, PREPARE_RETRY))
    return ONCE_EVENTS + math.ceil(timeout_minutes * 60 * max(update_loop, lock_loop))


def slowest_safe_timeout(*, poll_seconds: int, lock_wait_seconds: int) -> int:
    """The longest ``timeout_minutes`` whose worst case stays within the history limit (0: none)."""
    update_loop = _fastest_rate(poll_seconds, (DESCRIBE_RETRY,))
    lock_loop = _fastest_rate(lock_wait_seconds, (THROTTLE_RETRY, PREPARE_RETRY))
    return max(0, int((HISTORY_BUDGET - ONCE_EVENTS) / max(update_loop, lock_loop) // 60))


def shortest_safe_wait(*, timeout_minutes: int, lock: bool) -> int:
    """The shortest poll (or lock wait, with ``lock``) that keeps ``timeout_minutes`` within the limit."""
    retries = (THROTTLE_RETRY, PREPARE_RETRY) if lock else (DESCRIBE_RETRY,)
    allowed = (HISTORY_BUDGET - ONCE_EVENTS) / (timeout_minutes * 60)
    return next(s for s in range(1, 100_000) if _fastest_rate(s, retries) <= allowed)
