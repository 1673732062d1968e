"""Step Functions' optimized SageMaker integration, which moto's interpreter does not run.

moto treats ``arn:aws:states:::sagemaker:*`` as unsupported: its plain form is forwarded to the API,
and ``createTrainingJob.sync`` (what CDK's ``SageMakerCreateTrainingJob`` emits with ``RUN_JOB``)
fails with "Unsupported .sync callback procedure". This task calls the action with the state's
parameters and, for ``.sync``, waits as Step Functions does:

* the task's result is the ``DescribeTrainingJob`` response of the finished job, timestamps as epoch
  milliseconds (as the Step Functions output of the SageMaker integration shows them);
* a job that ends ``Failed`` or ``Stopped`` fails the task with ``States.TaskFailed``, the cause being
  that response as JSON (``FailureReason`` included), so that a ``Catch`` can route it;
* an API error fails the task with ``SageMaker.<Error>`` and the message in the cause;
* an execution stopped while it waits stops the job (``StopTrainingJob``), as AWS does.
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Callable
from typing import Any, Final, cast

from botocore.exceptions import ClientError
from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task import state_task_factory
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_callback as callback,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import (
    ResourceCondition,
    ResourceRuntimePart,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import (
    StateTaskService,
)
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.utils.boto_client import boto_client_for
from moto.stepfunctions.parser.asl.utils.encoding import to_json_str

from localcloud.patches import Patch

# The actions of Step Functions' optimized SageMaker integration; only training jobs have .sync here.
_ACTIONS: Final = {
    "createendpoint",
    "createendpointconfig",
    "createhyperparametertuningjob",
    "createlabelingjob",
    "createmodel",
    "createprocessingjob",
    "createtrainingjob",
    "createtransformjob",
    "updateendpoint",
}
_RUNNING: Final = {"InProgress", "Stopping"}
# SageMaker's modeled exceptions keep their name in the error; the rest surface as the base type.
_MODELED_ERRORS: Final = {"ResourceInUse", "ResourceLimitExceeded", "ResourceNotFound", "ConflictException"}


class StateTaskServiceSageMaker(callback.StateTaskServiceCallback):
    """``arn:aws:states:::sagemaker:<action>[.sync|.waitForTaskToken]``."""

    def __init__(self) -> None:
        patterns: set[Any] = {ResourceCondition.WaitForTaskToken, ResourceCondition.Sync}
        super().__init__(supported_integration_patterns=patterns)

    def _validate_service_integration_is_supported(self) -> None:
        action = self.resource.api_action.lower()
        if action not in _ACTIONS:
            raise ValueError(f"The resource provided {self.resource.resource_arn} not recognized.")

    def _eval_service_task(
        self,
        env: Environment,
        resource_runtime_part: ResourceRuntimePart,
        normalised_parameters: dict[str, Any],
        state_credentials: Any,
    ) -> None:
        client = boto_client_for(
            region=resource_runtime_part.region, service="sagemaker", state_credentials=state_credentials
        )
        response = getattr(client, self._get_boto_service_action())(**normalised_parameters)
        response.pop("ResponseMetadata", None)
        env.stack.append(sfn_output(response))

    def _build_sync_resolver(
        self,
        env: Environment,
        resource_runtime_part: ResourceRuntimePart,
        normalised_parameters: dict[str, Any],
        state_credentials: Any,
    ) -> Callable[[], Any] | None:
        if self._get_boto_service_action() != "create_training_job":
            # Refused at run time, not in the definition: the rest of the machine still deploys and runs.
            raise RuntimeError(
                f"The local cloud runs .sync for createTrainingJob only, not {self.resource.resource_arn}"
            )
        env.stack.pop()  # CreateTrainingJob's own response; the job's description replaces it
        client = boto_client_for(
            region=resource_runtime_part.region, service="sagemaker", state_credentials=state_credentials
        )
        return _TrainingJobWaiter(self, env, client, normalised_parameters["TrainingJobName"])

    def _eval_sync(
        self,
        env: Environment,
        sync_resolver: Callable[[], Any] | None,
        timeout_seconds: int | None,
        callback_endpoint: Any,
        heartbeat_endpoint: Any,
    ) -> Any:
        outcome = super()._eval_sync(
            env=env,
            sync_resolver=sync_resolver,
            timeout_seconds=timeout_seconds,
            callback_endpoint=callback_endpoint,
            heartbeat_endpoint=heartbeat_endpoint,
        )
        if not env.is_running() and isinstance(sync_resolver, _TrainingJobWaiter):
            sync_resolver.stop_job()
        return outcome

    def _from_error(self, env: Environment, ex: Exception) -> FailureEvent:
        if not isinstance(ex, ClientError):
            return super()._from_error(env=env, ex=ex)
        code = ex.response["Error"]["Code"]
        name = (
            f"SageMaker.{code.removesuffix('Exception')}Exception"
            if code in _MODELED_ERRORS
            else "SageMaker.AmazonSageMakerException"
        )
        metadata = ex.response["ResponseMetadata"]
        cause = (
            f"{ex.response['Error']['Message']} (Service: AmazonSageMaker; Status Code: "
            f"{metadata['HTTPStatusCode']}; Error Code: {code}; Request ID: {metadata.get('RequestId')}; "
            "Proxy: null)"
        )
        return self._task_failed(env, name, cause)

    def _task_failed(self, env: Environment, error: str, cause: str) -> FailureEvent:
        error_name = (
            StatesErrorName(typ=StatesErrorNameType.StatesTaskFailed)
            if error == StatesErrorNameType.StatesTaskFailed.to_name()
            else CustomErrorName(error)
        )
        details = TaskFailedEventDetails(
            error=error,
            cause=cause,
            resource=self._get_sfn_resource(),
            resourceType=self._get_sfn_resource_type(),
        )
        return FailureEvent(
            env=env,
            error_name=error_name,
            event_type=HistoryEventType.TaskFailed,
            # moto's EventDetails is a total TypedDict, built with one key as moto itself does.
            event_details=cast(EventDetails, {"taskFailedEventDetails": details}),
        )


class _TrainingJobWaiter:
    """The ``.sync`` resolver: None while the job runs, its description once it completed."""

    def __init__(self, task: StateTaskServiceSageMaker, env: Environment, client: Any, name: str) -> None:
        self._task = task
        self._env = env
        self._client = client
        self._name = name

    def __call__(self) -> dict[str, Any] | None:
        described: dict[str, Any] = self._client.describe_training_job(TrainingJobName=self._name)
        described.pop("ResponseMetadata", None)
        if described["TrainingJobStatus"] in _RUNNING:
            return None
        output = sfn_output(described)
        if described["TrainingJobStatus"] == "Completed":
            return cast(dict[str, Any], output)
        failed = self._task._task_failed(
            self._env, StatesErrorNameType.StatesTaskFailed.to_name(), to_json_str(output)
        )
        raise FailureEventException(failed)

    def stop_job(self) -> None:
        with contextlib.suppress(ClientError):  # it ended meanwhile: nothing left to stop
            self._client.stop_training_job(TrainingJobName=self._name)


def sfn_output(response: Any) -> Any:
    """A SageMaker response as Step Functions outputs it: timestamps as epoch milliseconds."""
    if isinstance(response, dict):
        return {key: sfn_output(value) for key, value in response.items()}
    if isinstance(response, list):
        return [sfn_output(value) for value in response]
    if isinstance(response, datetime.datetime):
        moment = response if response.tzinfo else response.replace(tzinfo=datetime.UTC)
        return int(moment.timestamp() * 1000)
    return response


def patches() -> list[Patch]:
    """Route ``sagemaker`` task resources to ``StateTaskServiceSageMaker`` (others stay moto's)."""
    # The factory module's own binding is what the parser calls (it imported the function by name).
    original = vars(state_task_factory)["state_task_service_for"]

    def state_task_service_for(service_name: str) -> StateTaskService:
        if service_name == "sagemaker":
            return StateTaskServiceSageMaker()
        return cast(StateTaskService, original(service_name=service_name))

    return [Patch(state_task_factory, "state_task_service_for", state_task_service_for)]
