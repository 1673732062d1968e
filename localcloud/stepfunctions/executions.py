"""Step Functions executions that behave as AWS's: names, timestamps, JSON outputs, and ``wait_idle``.

moto's ASL interpreter (``execute_state_machine``) runs real definitions, with a few gaps:

* An execution started without a ``name`` is named ``None`` (so the second such start fails with
  ``ExecutionAlreadyExists``); AWS names it with a UUID. A name AWS would refuse (over 80 characters,
  whitespace, brackets, wildcards, ``"#%\\^|~`$&,;:/`` or control characters) gets ``InvalidName``.
* ``$$.Execution.StartTime`` is a ``datetime`` object where AWS gives an ISO 8601 string.
* A task's result keeps the SDK's ``datetime`` objects (SDK integrations, SageMaker, ...): a later
  ``DescribeExecution`` then fails to serialize the output. Results are made JSON as AWS makes them.
* An execution whose interpreter raises stays ``RUNNING`` forever; here it ends ``FAILED`` with
  ``States.Runtime``, as AWS reports an internal failure of a state.
* No "Step Functions Execution Status Change" event is sent. Here a standard workflow's execution that
  ends (``SUCCEEDED``, ``FAILED``, ``TIMED_OUT``, ``ABORTED``) sends it to the default bus, in AWS's
  shape (:func:`status_change_event`); the start (``RUNNING``) is not sent.

Every execution also holds one unit of the local cloud's ``Activity`` while it runs, so that
``wait_idle`` returns only once the executions that events and handlers started have ended.
"""

from __future__ import annotations

import datetime
import json
import logging
import re
import threading
import uuid
from typing import Any

from moto.core import utils as moto_utils  # its utcnow is the clock (moto_times)
from moto.stepfunctions.exceptions import InvalidName, NameTooLongException, ValidationException
from moto.stepfunctions.parser.api import ExecutionStatus, StateMachineType
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import (
    StateTaskService,
)
from moto.stepfunctions.parser.asl.utils.encoding import to_json_str
from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication, Execution
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
from moto.stepfunctions.parser.models import StepFunctionsParserBackend
from moto.stepfunctions.responses import get_backend

from domain.name_rules import EXECUTION
from localcloud.errors import SENSITIVE, constraint_failure, validation_errors
from localcloud.events.default_bus import send_to_default_bus
from localcloud.patches import Patch
from localcloud.records import Activity

logger = logging.getLogger(__name__)

_MAX_INPUT_LENGTH = 256 * 1024
# StartExecution's name: 1-80 characters, no whitespace, brackets, wildcards, "#%\\^|~`$&,;:/, control
# characters, surrogates or U+10FFFF: the rule the platform's names are built to (domain.name_rules).
_INVALID_NAME = re.compile(str(EXECUTION.forbidden))


def patches(activity: Activity) -> list[Patch]:
    """The replacements that make executions behave as AWS's and count in ``activity``."""
    start_execution = StepFunctionsParserBackend.start_execution
    start_details = Execution.get_start_execution_details
    reflect = BaseExecutionWorkerCommunication._reflect_execution_status
    after_task = StateTaskService._after_eval_execution

    def named_start(
        backend: StepFunctionsParserBackend,
        state_machine_arn: str,
        name: str | None = None,
        execution_input: str | None = None,
        trace_header: str | None = None,
    ) -> Execution:
        if name is None:
            name = str(uuid.uuid4())
        else:
            check_name(name)
        check_input(execution_input)
        return start_execution(backend, state_machine_arn, name, execution_input, trace_header)  # type: ignore[arg-type]

    def details_with_iso_start(execution: Execution) -> Any:
        details: Any = start_details(execution)
        if isinstance(details.start_time, datetime.datetime):
            details.start_time = aws_timestamp(details.start_time)
        return details

    def reflect_json_output(communication: BaseExecutionWorkerCommunication) -> None:
        reflect(communication)  # type: ignore[no-untyped-call]
        execution = communication.execution
        if execution.output is not None:
            execution.output = as_json(execution.output)
        announce_end(execution)

    def task_result_as_json(task: StateTaskService, env: Any, *args: Any, **kwargs: Any) -> None:
        # The result is on top of the stack from here on: ResultSelector, ResultPath and the history
        # events all read it, and AWS hands them JSON.
        if env.stack:
            env.stack[-1] = as_json(env.stack[-1])
        after_task(task, env, *args, **kwargs)

    def start_worker(worker: ExecutionWorker) -> None:
        activity.begin()  # before StartExecution returns, so wait_idle right after it waits
        thread = threading.Thread(
            target=_run_worker, args=(worker, activity), name="localcloud-execution", daemon=True
        )
        thread.start()

    return [
        Patch(StepFunctionsParserBackend, "start_execution", named_start),
        Patch(Execution, "get_start_execution_details", details_with_iso_start),
        Patch(BaseExecutionWorkerCommunication, "_reflect_execution_status", reflect_json_output),
        Patch(StateTaskService, "_after_eval_execution", task_result_as_json),
        Patch(ExecutionWorker, "start", start_worker),
    ]


def start_execution(state_machine_arn: str, execution_input: Any, *, name: str | None = None) -> str:
    """Start an execution of ``state_machine_arn`` in-process, as a service (EventBridge) does.

    Parameters
    ----------
    state_machine_arn : str
        The machine's ARN (its region and account select moto's backend).
    execution_input : Any
        The input, as JSON-ready data (a string is passed as a JSON string).
    name : str | None
        The execution's name; a UUID when None, as AWS names executions that services start.

    Returns
    -------
    str
        The new execution's ARN.
    """
    _, _, _, region, account_id, *_ = state_machine_arn.split(":")
    backend: Any = get_backend(account_id, region)
    execution = backend.start_execution(state_machine_arn, name, json.dumps(execution_input))
    return str(execution.execution_arn)


def check_name(name: str) -> None:
    """Refuse a name StartExecution refuses, as the API answers.

    Raises
    ------
    ValidationException
        For a length outside 1-80 (the API's constraint, checked before the service's own rules).
    InvalidName
        For a character the name may not hold.
    """
    if not name:
        raise ValidationException(
            validation_errors(
                [constraint_failure(name, "name", "Member must have length greater than or equal to 1")]
            )
        )
    if len(name) > EXECUTION.max_length:
        raise NameTooLongException(name)  # moto's, in AWS's words; moto's own check is replaced here
    if _INVALID_NAME.search(name):
        raise InvalidName(f"Invalid Name: '{name}'")


def check_input(execution_input: str | None) -> None:
    """Raise the API's ``ValidationException`` for an input longer than StartExecution takes.

    StartExecution's ``input``: "Length Constraints: Maximum length of 262144" (256 KiB), a sensitive
    member, whose value the message leaves out,
    https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html
    """
    if execution_input is not None and len(execution_input) > _MAX_INPUT_LENGTH:
        raise ValidationException(
            validation_errors(
                [
                    constraint_failure(
                        SENSITIVE,
                        "input",
                        f"Member must have length less than or equal to {_MAX_INPUT_LENGTH}",
                    )
                ]
            )
        )


def aws_timestamp(moment: datetime.datetime) -> str:
    """``moment`` as Step Functions writes context timestamps: ``2024-05-01T12:00:00.123Z``."""
    utc = moment.astimezone(datetime.UTC) if moment.tzinfo else moment
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def as_json(value: Any) -> Any:
    """``value`` with every ``datetime`` as ISO 8601 text (and anything else unknown as text)."""
    return json.loads(to_json_str(value))


def _run_worker(worker: ExecutionWorker, activity: Activity) -> None:
    try:
        worker._execution_logic()  # type: ignore[no-untyped-call]
    except Exception as error:
        # moto leaves the execution RUNNING when its interpreter raises; AWS ends it.
        logger.exception("the interpreter failed while running an execution")
        _fail(worker, error)
    finally:
        activity.end()


def _fail(worker: ExecutionWorker, error: Exception) -> None:
    execution = getattr(worker._execution_communication, "execution", None)
    if execution is None or execution.exec_status != ExecutionStatus.RUNNING:
        return
    execution.error = "States.Runtime"
    execution.cause = f"{type(error).__name__}: {error}"
    execution.stop_date = moto_utils.utcnow().replace(tzinfo=datetime.UTC)
    execution.exec_status = ExecutionStatus.FAILED
    announce_end(execution)


STATUS_CHANGE = "Step Functions Execution Status Change"


def announce_end(execution: Any) -> None:
    """Send the ended execution's "Step Functions Execution Status Change" to the default bus.

    Standard workflows only: Express workflows send no status change events.
    """
    # moto keeps the type CreateStateMachine was given in ``type`` (its ``sm_type`` is always STANDARD).
    if getattr(execution.state_machine, "type", StateMachineType.STANDARD) != StateMachineType.STANDARD:
        return
    send_to_default_bus(
        execution.account_id,
        execution.region_name,
        status_change_event(execution),
        about=f"execution {execution.exec_arn}",
    )


def status_change_event(execution: Any) -> dict[str, Any]:
    """Step Functions' event for ``execution`` (moto's) in its status now, as AWS documents it.

    https://docs.aws.amazon.com/step-functions/latest/dg/eventbridge-integration.html: ``detail`` holds
    the execution's ARN, its machine's, its name and status, start and stop in epoch milliseconds, its
    input and output (JSON strings), and the error and cause of a failed one.
    """

    def millis(moment: Any) -> int | None:
        return int(moment.timestamp() * 1000) if isinstance(moment, datetime.datetime) else None

    output = execution.output
    stopped = execution.stop_date or moto_utils.utcnow().replace(tzinfo=datetime.UTC)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": STATUS_CHANGE,
        "source": "aws.states",
        "account": execution.account_id,
        "time": stopped.timestamp(),  # moto keeps event times as Unix seconds; deliveries write ISO 8601
        "region": execution.region_name,
        "resources": [execution.exec_arn],
        "detail": {
            "executionArn": execution.exec_arn,
            "stateMachineArn": execution.state_machine.arn,
            "name": execution.name,
            "status": execution.exec_status.value,
            "startDate": millis(execution.start_date),
            "stopDate": millis(execution.stop_date),
            "input": json.dumps(execution.input_data, separators=(",", ":")),
            "inputDetails": {"included": True},
            "output": None if output is None else json.dumps(output, separators=(",", ":")),
            "outputDetails": {"included": True},
            "error": execution.error,
            "cause": execution.cause,
        },
    }
