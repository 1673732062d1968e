"""moto hands out the local cloud's time: one clock for the AWS APIs, their events and the Lambda handlers.

Lambda handlers run at the local cloud's clock (``localcloud.awslambda.bootstrap``); on AWS a function and
the services it calls share one time. A handler comparing a time an API gave it with its own (the
retraining policy's grace against a run's ``startDate``, a run-ended event's time against a version's
acceptance, label files newer than a version's labels) would otherwise see them apart by the clock's offset.
So moto's reads of "now" are replaced by the clock (naive UTC, as moto keeps times: ``Clock.moto_now``):

============================================== ======================================================
Replaced                                       What follows the clock
============================================== ======================================================
``moto.core.utils.utcnow``                     The default of ``unix_time``, ``unix_time_millis`` and
                                               ``iso_8601_datetime_*``: EventBridge PutEvents' ``time``,
                                               S3 notifications' ``eventTime``, SQS ``SentTimestamp``
                                               (and its visibility timeouts: 6 h on, a message is
                                               visible again, as on AWS), SNS ``Timestamp``,
                                               Scheduler's dates; the local cloud's own events (S3
                                               object events, model package state changes) and its
                                               SageMaker and alarm times, which call it through the
                                               module (``moto_utils.utcnow()``)
``utcnow`` of ``moto.s3.models``               Objects' ``LastModified`` (``from ... import utcnow``
                                               binds the function: each such module is patched)
``utcnow`` of ``moto.sagemaker.models``        Training jobs', models', endpoints' and endpoint
                                               configs' ``CreationTime``/``LastModifiedTime``, model
                                               packages' ``CreationTime``
``utcnow`` of ``moto.cloudwatch.models``       Alarms' ``StateUpdatedTimestamp``, a metric datum's
                                               default ``Timestamp``
``utcnow`` of ``moto.stepfunctions.models``,   Step Functions' dates in moto's plain backend, and a
``moto.scheduler.models``, ``moto.sns.models`` schedule's start check, SNS's signing certificate
``datetime`` of the Step Functions             ``startDate``/``stopDate`` of executions, history
interpreter's modules (``STATE_MACHINE``)      events' ``timestamp``, ``$$.State.EnteredTime``,
                                               machines' ``creationDate``, Wait-until-timestamp
============================================== ======================================================

Not replaced, on the machine's time: CloudWatch Logs (``moto.logs.models``: log events' timestamps are
the machine's, written by processes that do not read the clock, and moto refuses an event over 2 h ahead
of its now: an EventBridge rule's log group target, which none of the platform's rules has, would be
refused 2 h on), STS's credential ``Expiration`` (read by processes on the machine's time, the CLI and the
tests), IAM's and KMS's creation dates, and API Gateway's SigV4 date check (its callers are outside).
"""

from __future__ import annotations

import datetime as _datetime
import importlib
import types
from collections.abc import Callable
from typing import Any

import moto.core.utils

from localcloud.patches import Patch

#: Modules holding their own binding of ``moto.core.utils.utcnow`` (``from moto.core.utils import utcnow``).
UTCNOW_BINDINGS = (
    "moto.s3.models",
    "moto.sagemaker.models",
    "moto.cloudwatch.models",
    "moto.stepfunctions.models",
    "moto.scheduler.models",
    "moto.sns.models",
)

#: The Step Functions interpreter's modules that read ``datetime.datetime.now`` (``import datetime``).
STATE_MACHINE = (
    "moto.stepfunctions.parser.models",
    "moto.stepfunctions.parser.backend.execution",
    "moto.stepfunctions.parser.backend.state_machine",
    "moto.stepfunctions.parser.backend.activity",
    "moto.stepfunctions.parser.backend.alias",
    "moto.stepfunctions.parser.asl.eval.event.event_manager",
    "moto.stepfunctions.parser.asl.component.state.state",
    "moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp",
    "moto.stepfunctions.parser.asl.component.state.exec.state_parallel.branches_decl",
    "moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor.map_run_record",
)


def patches(now: Callable[[], _datetime.datetime]) -> list[Patch]:
    """moto reading ``now`` (naive UTC, as moto keeps times: ``Clock.moto_now``) wherever it reads the time.

    Every module is imported here, before its replacement is installed: moto imports a service's
    backend on the first request to it, which would otherwise find the original.
    """
    clock_datetime = _datetime_module(now)
    return [
        Patch(moto.core.utils, "utcnow", now),
        *(Patch(importlib.import_module(name), "utcnow", now) for name in UTCNOW_BINDINGS),
        *(Patch(importlib.import_module(name), "datetime", clock_datetime) for name in STATE_MACHINE),
    ]


class _ClockDatetime:
    """``datetime.datetime`` with ``now``, ``utcnow`` and ``today`` on the clock; the rest is the class's.

    Not a subclass: what the patched modules make (``fromisoformat``, the constructor) stays a real
    ``datetime``, and ``isinstance(x, datetime.datetime)`` there still holds for the datetimes others make.
    """

    def __init__(self, now: Callable[[], _datetime.datetime]) -> None:
        self._now = now

    def __getattr__(self, name: str) -> Any:
        return getattr(_datetime.datetime, name)

    def __call__(self, *args: Any, **kwargs: Any) -> _datetime.datetime:
        return _datetime.datetime(*args, **kwargs)

    def __instancecheck__(self, instance: Any) -> bool:
        return isinstance(instance, _datetime.datetime)

    def now(self, tz: _datetime.tzinfo | None = None) -> _datetime.datetime:
        moment = self._now().replace(tzinfo=_datetime.UTC)
        # Without a zone, datetime.now() is the local time, naive.
        return moment.astimezone(tz) if tz is not None else moment.astimezone().replace(tzinfo=None)

    def utcnow(self) -> _datetime.datetime:
        return self._now()

    def today(self) -> _datetime.datetime:
        return self.now()


def _datetime_module(now: Callable[[], _datetime.datetime]) -> types.ModuleType:
    """The ``datetime`` module, but ``datetime.now()``/``utcnow()``/``today()`` read ``now``."""
    module = types.ModuleType("datetime", _datetime.__doc__)
    module.__dict__.update({k: v for k, v in vars(_datetime).items() if not k.startswith("__")})
    module.datetime = _ClockDatetime(now)  # type: ignore[attr-defined]
    return module
