"""Step Functions' and Lambda's hard limits in the local cloud, applied as AWS applies them.

State machines and a function are created through the APIs (no CDK app): each test needs only a few
states. Where a limit would take long to reach for real (25,000 history events), the test lowers the
module constant for itself, as the modules say it may.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

import domain
from localcloud import LocalCloud
from localcloud.awslambda import payload_limits
from localcloud.stepfunctions import limits

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:Tried to parse:UserWarning")]

# Returns {"blob": "x" * n}: a result of the size a test asks for.
HANDLER = "def handler(event, context):\n    return {'blob': 'x' * event.get('n', 0)}\n"
# One role for the machines and the function: Step Functions and Lambda may both assume it.
SERVICES = ["states.amazonaws.com", "lambda.amazonaws.com"]
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": SERVICES}, "Action": "sts:AssumeRole"}],
}


@dataclass(frozen=True)
class Cloud:
    cloud: LocalCloud
    role_arn: str
    function_arn: str

    def run(self, definition: dict[str, Any], execution_input: object) -> dict[str, Any]:
        """Create a state machine of ``definition``, run it to its end, and describe the execution."""
        sfn = self.cloud.client("stepfunctions")
        machine = sfn.create_state_machine(
            name=f"limits-{len(sfn.list_state_machines()['stateMachines'])}",
            definition=json.dumps(definition),
            roleArn=self.role_arn,
        )["stateMachineArn"]
        execution = sfn.start_execution(stateMachineArn=machine, input=json.dumps(execution_input))
        self.cloud.wait_idle(timeout=60)
        return dict(sfn.describe_execution(executionArn=execution["executionArn"]))

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        return list(
            self.cloud.client("stepfunctions").get_execution_history(executionArn=execution_arn)["events"]
        )

    def invoke(self, payload: bytes, **arguments: str) -> dict[str, Any]:
        return dict(
            self.cloud.client("lambda").invoke(FunctionName=self.function_arn, Payload=payload, **arguments)
        )


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    with LocalCloud(work_dir=tmp_path_factory.mktemp("localcloud-limits")) as cloud:
        role = cloud.client("iam").create_role(RoleName="limits", AssumeRolePolicyDocument=json.dumps(TRUST))
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as files:
            files.writestr("handler.py", HANDLER)
        function = cloud.client("lambda").create_function(
            FunctionName="sized",
            Runtime="python3.12",
            Role=role["Role"]["Arn"],
            Handler="handler.handler",
            Code={"ZipFile": archive.getvalue()},
        )
        # The machines invoke this function and the ones tests add.
        functions = function["FunctionArn"].rsplit(":", 1)[0] + ":*"
        invoke = {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": functions}
        cloud.client("iam").put_role_policy(
            RoleName="limits",
            PolicyName="invoke",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [invoke]}),
        )
        yield Cloud(cloud, role["Role"]["Arn"], function["FunctionArn"])


def _task(function_arn: str, catch: list[str], payload: str = "$") -> dict[str, Any]:
    """A machine whose Lambda task's errors in ``catch`` go to a Pass state."""
    return {
        "StartAt": "Sized",
        "States": {
            "Sized": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": function_arn, "Payload.$": payload},
                "ResultSelector": {"blob.$": "$.Payload.blob"},
                "Catch": [{"ErrorEquals": catch, "Next": "Caught", "ResultPath": "$.error"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }


def test_a_result_over_256_kib_fails_the_execution_whatever_states_all_catches(local: Cloud) -> None:
    # Given a task whose result is over 256 KiB, with a Catch on States.ALL
    definition = _task(local.function_arn, ["States.ALL"])

    # When it runs
    described = local.run(definition, {"n": 300_000})

    # Then the execution fails with States.DataLimitExceeded, which States.ALL does not catch on AWS
    assert described["status"] == "FAILED"
    assert described["error"] == "States.DataLimitExceeded"
    assert "exceeding the maximum number of bytes service limit" in described["cause"]


def test_a_result_within_256_kib_passes(local: Cloud) -> None:
    described = local.run(_task(local.function_arn, ["States.ALL"]), {"n": 200_000})

    assert described["status"] == "SUCCEEDED"
    assert len(json.loads(described["output"])["blob"]) == 200_000


def test_a_catch_that_names_states_data_limit_exceeded_catches_it(local: Cloud) -> None:
    described = local.run(_task(local.function_arn, ["States.DataLimitExceeded"]), {"n": 300_000})

    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"])["error"]["Error"] == "States.DataLimitExceeded"


def test_an_input_over_the_limit_once_parameters_are_applied_fails(
    local: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a payload limit of 1,000 bytes and a task whose Parameters double an input of 700
    monkeypatch.setattr(limits, "MAX_PAYLOAD_BYTES", 1_000)
    definition = _task(local.function_arn, ["States.ALL"], payload="States.Array($.pad, $.pad)")

    # When it runs
    described = local.run(definition, {"pad": "y" * 690})

    # Then the state's input is refused, uncaught by States.ALL
    assert (described["status"], described["error"]) == ("FAILED", "States.DataLimitExceeded")
    assert "'Sized'" in described["cause"]


def _loop(stop_after: str) -> dict[str, Any]:
    return {
        "StartAt": "Spin",
        "States": {
            "Spin": {"Type": "Pass", "Next": "Again?"},
            "Again?": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.stop", "StringEquals": stop_after, "Next": "Done"}],
                "Default": "Spin",
            },
            "Done": {"Type": "Succeed"},
        },
    }


def test_an_execution_that_reaches_the_history_limit_fails_as_aws_fails_it(
    local: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a history limit of 50 events and a loop that never ends
    monkeypatch.setattr(limits, "MAX_HISTORY_EVENTS", 50)

    # When it runs
    described = local.run(_loop("never"), {"stop": "no"})

    # Then event 50 is ExecutionFailed with AWS's error; event 49 was the last of the loop's own
    assert (described["status"], described["error"]) == ("FAILED", "States.Runtime")
    assert described["cause"] == "The execution reached the maximum number of history events (50)."
    events = local.history(described["executionArn"])
    assert [e["id"] for e in events] == list(range(1, 51))
    assert events[-1]["type"] == "ExecutionFailed"
    assert events[-2]["type"] in (
        "PassStateEntered",
        "PassStateExited",
        "ChoiceStateEntered",
        "ChoiceStateExited",
    )


def test_an_execution_whose_last_allowed_event_is_its_success_succeeds(
    local: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a machine whose history has 6 events
    definition = {
        "StartAt": "Once",
        "States": {"Once": {"Type": "Pass", "Next": "Done"}, "Done": {"Type": "Succeed"}},
    }
    # ExecutionStarted, PassStateEntered, PassStateExited, SucceedStateEntered, SucceedStateExited,
    # ExecutionSucceeded: with a limit of 6, the sixth is the success, which AWS records
    monkeypatch.setattr(limits, "MAX_HISTORY_EVENTS", 6)
    assert local.run(definition, {})["status"] == "SUCCEEDED"

    # With one event fewer, the fifth would be SucceedStateExited: the execution fails instead
    monkeypatch.setattr(limits, "MAX_HISTORY_EVENTS", 5)
    assert local.run(definition, {})["error"] == "States.Runtime"


def test_a_synchronous_request_over_6_mb_is_refused_before_the_function_runs(local: Cloud) -> None:
    before = len(local.cloud.invocations())

    with pytest.raises(ClientError) as refused:
        local.invoke(json.dumps({"pad": "y" * (6 * 1024 * 1024)}).encode())

    error = refused.value.response
    assert error["Error"]["Code"] == "RequestEntityTooLargeException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert "smaller than 6291456 bytes" in error["Error"]["Message"]
    assert len(local.cloud.invocations()) == before


def test_an_asynchronous_request_over_1_mb_is_refused(local: Cloud) -> None:
    with pytest.raises(ClientError) as refused:
        local.invoke(json.dumps({"pad": "y" * (1024 * 1024)}).encode(), InvocationType="Event")

    error = refused.value.response["Error"]
    assert error["Code"] == "RequestEntityTooLargeException"
    assert "too large for the Event invocation type (limit 1048576 bytes)" in error["Message"]


def test_a_synchronous_response_over_the_limit_fails_the_invocation(
    local: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a response limit of 1,000 bytes
    monkeypatch.setattr(payload_limits, "MAX_SYNC_RESPONSE_BYTES", 1_000)

    # When the function answers 2,000 bytes
    response = local.invoke(json.dumps({"n": 2_000}).encode())

    # Then the invocation failed as Lambda fails it
    assert response["FunctionError"] == "Unhandled"
    payload = json.loads(response["Payload"].read())
    assert payload["errorType"] == "Function.ResponseSizeTooLarge"
    assert payload["errorMessage"] == (
        "Response payload size (2012 bytes) exceeded maximum allowed payload size (1000 bytes)."
    )
    # and one within it is answered
    assert json.loads(local.invoke(json.dumps({"n": 900}).encode())["Payload"].read()) == {"blob": "x" * 900}


# A workflow step's handler as the platform writes them: what it raises goes through bounded_errors.
FAILING_STEP = (
    "from domain.state_limits import bounded_errors\n"
    "@bounded_errors\n"
    "def handler(event, context):\n"
    "    raise KeyError('column ' + 'v' * event['n'] + ' is not in the contract')\n"
)


def test_a_step_that_fails_with_a_1_mb_message_is_caught_and_its_error_stays_small(local: Cloud) -> None:
    # Given a step whose handler raises an error quoting 1 MB, caught into $.error by States.ALL
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as files:
        files.writestr("handler.py", FAILING_STEP)
        for module in ("__init__.py", "state_limits.py"):
            files.write(Path(domain.__file__).parent / module, f"domain/{module}")
    function = local.cloud.client("lambda").create_function(
        FunctionName="failing-step",
        Runtime="python3.12",
        Role=local.role_arn,
        Handler="handler.handler",
        Code={"ZipFile": archive.getvalue()},
    )
    definition = _task(function["FunctionArn"], ["States.ALL"])

    # When it runs
    described = local.run(definition, {"n": 1024 * 1024})

    # Then the catch ran (the state stayed within 256 KiB): the error keeps its name, a short message
    assert described["status"] == "SUCCEEDED", described.get("cause", "")[:300]
    error = json.loads(described["output"])["error"]
    assert error["Error"] == "KeyError"
    cause = json.loads(error["Cause"])
    assert cause["errorType"] == "KeyError"
    assert cause["errorMessage"].startswith("'column vvv")
    assert len(error["Cause"]) < 32_768
