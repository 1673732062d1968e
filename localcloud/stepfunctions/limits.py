"""Step Functions' hard limits on an execution, as AWS applies them: payload size and history length.

moto's interpreter checks a task's result and a state's output against 256 KiB, but:

* its ``States.ALL`` (and ``States.TaskFailed``) catches and retries ``States.DataLimitExceeded`` and
  ``States.Runtime``; AWS's never does: "The States.ALL error type ... can't catch the
  States.DataLimitExceeded terminal error or Runtime error types" (only a Catch or Retry that names the
  error matches it),
  https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html;
* a state's input once ``Parameters`` are applied (a Lambda task's payload) is not checked; AWS reports
  ``States.DataLimitExceeded`` for it too (same page);
* an execution's history grows without bound. AWS ends an execution at 25,000 events: event 25,000 is
  ``ExecutionFailed`` with ``States.Runtime`` and "The execution reached the maximum number of history
  events (25000)." unless it is ``ExecutionSucceeded``,
  https://docs.aws.amazon.com/step-functions/latest/dg/bp-history-limit.html and
  https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html.

The limits are module constants so that a test can lower one for itself (``monkeypatch.setattr``)
instead of producing 25,000 events or 256 KiB; they are read at each check.
"""

from __future__ import annotations

import threading
from typing import Any, cast

from moto.stepfunctions.parser.api import (
    ExecutionFailedEventDetails,
    HistoryEventType,
    TaskFailedEventDetails,
)
from moto.stepfunctions.parser.asl.component.common import parargs
from moto.stepfunctions.parser.asl.component.common.error_name import error_equals_decl
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.component.state import state
from moto.stepfunctions.parser.asl.component.state.exec.state_task import state_task_lambda
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.eval.event.event_manager import EventHistoryContext, EventManager
from moto.stepfunctions.parser.asl.utils.encoding import to_json_str
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

from localcloud.patches import Patch

# "Maximum input or output size for a task, state, or execution: 256 KiB of data as a UTF-8 encoded
# string", https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html. Tests may lower it.
MAX_PAYLOAD_BYTES = 256 * 1024
# "Maximum execution history size: 25,000 events" (same page). Tests may lower it.
MAX_HISTORY_EVENTS = 25_000

_DATA_LIMIT = StatesErrorNameType.StatesStatesDataLimitExceeded
_RUNTIME = StatesErrorNameType.StatesRuntime
_UNCATCHABLE_BY_WILDCARD = frozenset({_DATA_LIMIT, _RUNTIME})
_SIZE_CHECKS = (state, state_task_lambda, state_task_service)  # modules that imported moto's check


def patches() -> list[Patch]:
    """The replacements that apply Step Functions' payload and history limits."""
    get_environment = ExecutionWorker._get_evaluation_environment
    eval_parameters = parargs.Parargs._eval_body
    error_equals = error_equals_decl.ErrorEqualsDecl._eval_body

    def bounded_environment(worker: ExecutionWorker) -> Environment:
        env: Environment = get_environment(worker)
        BoundedHistory.attach(env)
        return env

    def checked_parameters(component: parargs.Parargs, env: Environment) -> None:
        eval_parameters(component, env)
        if env.stack and not within_payload_limit(env.stack[-1]):
            state_name = env.next_state_name or "?"
            raise FailureEventException(
                FailureEvent(
                    env=env,
                    error_name=StatesErrorName(typ=_DATA_LIMIT),
                    event_type=HistoryEventType.TaskFailed,
                    event_details=_details(
                        taskFailedEventDetails=TaskFailedEventDetails(
                            error=_DATA_LIMIT.to_name(),
                            cause=f"The state/task '{state_name}' has an input (after Parameters) with a "
                            "size exceeding the maximum number of bytes service limit.",
                        )
                    ),
                )
            )

    def matching_errors(declaration: error_equals_decl.ErrorEqualsDecl, env: Environment) -> None:
        error = env.stack[-1]
        if isinstance(error, StatesErrorName) and error.typ in _UNCATCHABLE_BY_WILDCARD:
            env.stack.pop()
            named = {n.typ for n in declaration.error_names if isinstance(n, StatesErrorName)}
            env.stack.append(error.typ in named)
            return
        error_equals(declaration, env)

    return [
        Patch(ExecutionWorker, "_get_evaluation_environment", bounded_environment),
        Patch(parargs.Parargs, "_eval_body", checked_parameters),
        Patch(error_equals_decl.ErrorEqualsDecl, "_eval_body", matching_errors),
        *(Patch(module, "is_within_size_quota", within_payload_limit) for module in _SIZE_CHECKS),
    ]


def _details(**details: Any) -> EventDetails:
    # moto's EventDetails is a TypedDict of every kind of details, of which an event has one.
    return cast(EventDetails, details)


def within_payload_limit(value: Any) -> bool:
    """Whether ``value`` (JSON text, or data written as JSON) fits in ``MAX_PAYLOAD_BYTES`` as UTF-8."""
    text = value if isinstance(value, str) else to_json_str(value)
    return len(text.encode("utf-8")) <= MAX_PAYLOAD_BYTES


class BoundedHistory(EventManager):
    """An execution's event history that ends the execution when it reaches ``MAX_HISTORY_EVENTS``.

    The event that would be number ``MAX_HISTORY_EVENTS`` is replaced by ``ExecutionFailed`` (unless it
    is ``ExecutionSucceeded``), the program is set to fail with AWS's error, and whatever the state in
    progress still reports is not recorded (the execution has ended).
    """

    _env: Environment
    _limit_lock: threading.Lock
    failure: ExecutionFailedEventDetails | None

    @classmethod
    def attach(cls, env: Environment) -> None:
        """Give ``env`` (and the frames it opens later, which share it) a bounded history."""
        history = env.event_manager
        history.__class__ = cls
        bounded: BoundedHistory = history  # type: ignore[assignment]
        bounded._env = env
        bounded._limit_lock = threading.Lock()
        bounded.failure = None
        set_error = env.set_error

        def first_failure_wins(error: ExecutionFailedEventDetails) -> None:
            # Once the history is full, the execution has failed for that reason, whatever comes after.
            set_error(bounded.failure or error)

        env.set_error = first_failure_wins  # type: ignore[method-assign]

    def add_event(
        self,
        context: EventHistoryContext,
        event_type: HistoryEventType,
        event_details: EventDetails | None = None,
        timestamp: Any = None,
        update_source_event_id: bool = True,
    ) -> int:
        """Record an event, or end the execution if this one would be the last the history holds."""
        with self._limit_lock:
            recorded = len(self._history_event_list)
            if self.failure is not None:
                return recorded
            if recorded + 1 >= MAX_HISTORY_EVENTS and event_type != HistoryEventType.ExecutionSucceeded:
                self.failure = ExecutionFailedEventDetails(
                    error=_RUNTIME.to_name(),
                    cause="The execution reached the maximum number of history events "
                    f"({MAX_HISTORY_EVENTS}).",
                )
                event_id = super().add_event(
                    context,
                    HistoryEventType.ExecutionFailed,
                    _details(executionFailedEventDetails=self.failure),
                    timestamp,
                    update_source_event_id,
                )
                self._env.set_error(self.failure)
                return event_id
            return super().add_event(context, event_type, event_details, timestamp, update_source_event_id)
