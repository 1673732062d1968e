"""Step Functions acts as the state machine's role: each task's service calls, and what its integration needs.

moto's interpreter makes every task's client with ``boto_client_for(region, service, state_credentials)``
(imported by name in each module that calls a service, ``sagemaker_task`` included), signed with a
fixed key. With IAM enforcement on, each such client is signed instead with a session of the task's
role (``state_credentials.role_arn``: the machine's role, or the task's ``Credentials``), assumed as
``states.amazonaws.com`` (else ``states.<region>.amazonaws.com``) for the machine (``aws:SourceArn``),
on the local cloud's endpoint, so that the server decides each call as that
role. Before a task calls, what Step Functions itself needs of the role for the integration is decided
too (the table's ``INTEGRATIONS``: ``lambda:InvokeFunction`` for ``lambda:invoke``; the events rule and
``iam:PassRole`` of a ``.sync`` training job).

A denial fails the task as the service's own access-denied error fails it on AWS, so that a ``Catch``
can route it: Lambda's SDK does not model ``AccessDeniedException``, so Step Functions reports
``Lambda.AWSLambdaException`` with the SDK's details in the cause; the other services' errors are named
by their task as any error of theirs (``SageMaker.AmazonSageMakerException``,
``SNS.AuthorizationErrorException``...). A state machine whose role does not let
``states.amazonaws.com`` assume it cannot be created or updated (``AccessDeniedException``, in
CreateStateMachine's words). With enforcement off, moto's clients are used and nothing is checked.
"""

from __future__ import annotations

import importlib
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, cast

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from moto.core.exceptions import AWSError
from moto.stepfunctions.parser.api import (
    HistoryEventType,
    LambdaFunctionStartFailedEventDetails,
    TaskFailedEventDetails,
)
from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.credentials import StateCredentials
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import (
    StateTaskService,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task import StateTask
from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_lambda import StateTaskLambda
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.utils import boto_client
from moto.stepfunctions.parser.models import StepFunctionsParserBackend

from localcloud.iam.errors import AccessDeniedError
from localcloud.iam.local_iam import LocalIam
from localcloud.iam.sessions import Session
from localcloud.patches import Patch
from localcloud.stepfunctions import sagemaker_task

STATES_PRINCIPAL: Final = "states.amazonaws.com"
_INTEGRATION_PREFIX: Final = "arn:aws:states:::"
_PARSER: Final = "moto.stepfunctions.parser.asl.component.state"
# Every module of moto's interpreter that imported boto_client_for by name (tests/unit holds this list
# to moto's sources), and ours.
CLIENT_MODULES: Final = (
    f"{_PARSER}.exec.state_map.result_writer.resource_eval.resource_eval_s3",
    f"{_PARSER}.exec.state_map.item_reader.eval.resource_eval_s3",
    f"{_PARSER}.exec.state_task.lambda_eval_utils",
    *(
        f"{_PARSER}.exec.state_task.service.state_task_service_{name}"
        for name in (
            "unsupported",
            "glue",
            "events",
            "ecs",
            "sqs",
            "sfn",
            "dynamodb",
            "batch",
            "sns",
            "aws_sdk",
        )
    ),
    sagemaker_task.__name__,
)
# What each service answers a denied caller (the code its task names the error from), and its status.
_DENIAL_CODES: Final = {"sns": ("AuthorizationError", 403), "s3": ("AccessDenied", 403)}
_ROLE_NOT_TRUSTED: Final = (
    "Neither the global service principal states.amazonaws.com, nor the regional one is authorized to "
    "assume the provided role."
)


@dataclass
class MachineCredentials(StateCredentials):
    """A task's role and the state machine it acts for (``aws:SourceArn`` for the role's trust policy)."""

    machine_arn: str | None = None


class RoleNotAssumableError(AWSError):
    """CreateStateMachine's and UpdateStateMachine's answer for a role Step Functions cannot assume."""

    TYPE = "AccessDeniedException"
    STATUS = 400


def patches(iam: LocalIam, endpoint_url: Callable[[], str]) -> list[Patch]:
    """Tasks call as their role on ``endpoint_url()`` and are checked by ``iam`` (when it enforces)."""
    original_client = boto_client.boto_client_for
    clients: dict[tuple[str, str, str], Any] = {}
    lock = threading.Lock()
    boto_session = boto3.session.Session()

    def assume(role_arn: str, machine_arn: str | None) -> Session:
        # CDK's state machine roles trust Step Functions only for this account's machines (SourceArn).
        # Step Functions tries its global principal, then its regional one (as its refusal says).
        try:
            return iam.sessions.assume(
                role_arn, service=STATES_PRINCIPAL, session_name=STATES_PRINCIPAL, source_arn=machine_arn
            )
        except AccessDeniedError as global_denied:
            region = machine_arn.split(":")[3] if machine_arn else iam.enforcer.region
            regional = f"states.{region}.amazonaws.com"
            try:
                return iam.sessions.assume(
                    role_arn, service=regional, session_name=regional, source_arn=machine_arn
                )
            except AccessDeniedError:
                raise global_denied from None

    def client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        role_arn = getattr(state_credentials, "role_arn", None)
        if not iam.enforcer.enabled or not role_arn:
            return original_client(region=region, service=service, state_credentials=state_credentials)
        session = assume(role_arn, getattr(state_credentials, "machine_arn", None))
        key = (region, service, session.access_key_id)
        with lock:
            if key not in clients:
                clients[key] = boto_session.client(
                    service,
                    region_name=region,
                    endpoint_url=endpoint_url(),
                    aws_access_key_id=session.access_key_id,
                    aws_secret_access_key=session.secret_access_key,
                    aws_session_token=session.session_token,
                    # moto's own settings for these clients: no retries (a task has its Retry).
                    config=Config(
                        parameter_validation=False, retries={"max_attempts": 0, "total_max_attempts": 1}
                    ),
                )
            return clients[key]

    def authorize(credentials: MachineCredentials, integration: str, params: dict[str, Any]) -> None:
        session = assume(credentials.role_arn, credentials.machine_arn)
        iam.enforcer.authorize_integration(session.arn, integration, params)

    credentials_of = StateTask._eval_state_credentials

    def machine_credentials(task: StateTask, env: Environment) -> MachineCredentials:
        credentials = credentials_of(task, env)
        machine = env.states.context_object.context_object_data["StateMachine"]["Id"]
        return MachineCredentials(role_arn=credentials.role_arn, machine_arn=machine)

    before_service_task = StateTaskService._before_eval_execution

    def checked_service_task(
        task: StateTaskService,
        env: Environment,
        resource_runtime_part: Any,
        raw_parameters: dict[str, Any],
        state_credentials: Any,
    ) -> None:
        before_service_task(task, env, resource_runtime_part, raw_parameters, state_credentials)
        if not iam.enforcer.enabled:
            return
        integration = task.resource.resource_arn.removeprefix(_INTEGRATION_PREFIX)
        if integration.startswith("aws-sdk:"):
            return  # an SDK integration needs only its call, which the server decides as the role
        try:
            authorize(state_credentials, integration, raw_parameters)
        except AccessDeniedError as denied:
            service = task._get_sfn_resource_type()
            if service == "lambda":
                raise FailureEventException(
                    _lambda_failure(env, denied, HistoryEventType.TaskFailed, task)
                ) from denied
            raise _service_error(service, denied) from denied

    def checked_lambda_task(task: StateTaskLambda, env: Environment) -> MachineCredentials:
        state_credentials = machine_credentials(task, env)
        if iam.enforcer.enabled:
            function_arn = task.resource.resource_arn
            try:
                authorize(state_credentials, "lambda:invoke", {"FunctionName": function_arn})
            except AccessDeniedError as denied:
                failure = _lambda_failure(env, denied, HistoryEventType.LambdaFunctionStartFailed)
                raise FailureEventException(failure) from denied
        return state_credentials

    create = StepFunctionsParserBackend.create_state_machine
    update = StepFunctionsParserBackend.update_state_machine

    def check_role(role_arn: str | None, machine_arn: str) -> None:
        if not iam.enforcer.enabled or not role_arn:
            return
        try:
            assume(role_arn, machine_arn)
        except AccessDeniedError as denied:
            raise RoleNotAssumableError(_ROLE_NOT_TRUSTED) from denied

    def created(
        backend: StepFunctionsParserBackend, name: str, definition: str, *args: Any, **kwargs: Any
    ) -> Any:
        machine_arn = (
            f"arn:{backend.partition}:states:{backend.region_name}:{backend.account_id}:stateMachine:{name}"
        )
        check_role(kwargs.get("roleArn") or (args[0] if args else None), machine_arn)
        return create(backend, name, definition, *args, **kwargs)

    def updated(backend: StepFunctionsParserBackend, arn: str, *args: Any, **kwargs: Any) -> Any:
        check_role(kwargs.get("role_arn") or (args[1] if len(args) > 1 else None), arn)
        return update(backend, arn, *args, **kwargs)

    return [
        *(Patch(importlib.import_module(name), "boto_client_for", client_for) for name in CLIENT_MODULES),
        Patch(StateTaskService, "_before_eval_execution", checked_service_task),
        Patch(StateTask, "_eval_state_credentials", machine_credentials),
        Patch(StateTaskLambda, "_eval_state_credentials", checked_lambda_task),
        Patch(StepFunctionsParserBackend, "create_state_machine", created),
        Patch(StepFunctionsParserBackend, "update_state_machine", updated),
    ]


def _lambda_failure(
    env: Environment, denied: AccessDeniedError, event_type: HistoryEventType, task: Any = None
) -> FailureEvent:
    """Lambda's denial as Step Functions reports it: the Java SDK's base exception, details in the cause."""
    error = "Lambda.AWSLambdaException"
    cause = (
        f"{denied.message} (Service: AWSLambda; Status Code: 403; Error Code: AccessDeniedException; "
        f"Request ID: {uuid.uuid4()}; Proxy: null)"
    )
    if event_type == HistoryEventType.LambdaFunctionStartFailed:
        details: Any = {
            "lambdaFunctionStartFailedEventDetails": LambdaFunctionStartFailedEventDetails(
                error=error, cause=cause
            )
        }
    else:
        details = {
            "taskFailedEventDetails": TaskFailedEventDetails(
                error=error,
                cause=cause,
                resource=task._get_sfn_resource(),
                resourceType=task._get_sfn_resource_type(),
            )
        }
    # moto's EventDetails is a total TypedDict, built with one key as moto itself does.
    return FailureEvent(
        env=env,
        error_name=CustomErrorName(error),
        event_type=event_type,
        event_details=cast(EventDetails, details),
    )


def _service_error(service: str, denied: AccessDeniedError) -> ClientError:
    """The denial as the service's SDK raises it; the task names it as it names the service's errors."""
    code, status = _DENIAL_CODES.get(service, ("AccessDeniedException", 400))
    metadata = {"HTTPStatusCode": status, "RequestId": str(uuid.uuid4())}
    return ClientError(
        {"Error": {"Code": code, "Message": denied.message}, "ResponseMetadata": metadata}, service
    )
