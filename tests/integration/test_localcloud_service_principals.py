"""Services act as their principals with IAM enforcement on: state machines, rules, API Gateway.

Each test builds its resources with the administrator's clients (what a deployment creates), then lets
the service act: a state machine's task calls as the machine's role, an EventBridge rule starts a
machine as its target's role or invokes a function the function's policy lets it invoke, and API
Gateway lets a caller in only with ``execute-api:Invoke``.
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from localcloud import LocalCloud
from tests.iam_roles import create_role

pytestmark = [pytest.mark.slow]

STATES = "states.amazonaws.com"
EVENTS = "events.amazonaws.com"
LAMBDA = "lambda.amazonaws.com"
PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    started = LocalCloud(work_dir=tmp_path_factory.mktemp("localcloud-principals"), enforce_iam=True).start()
    try:
        yield started
    finally:
        started.stop()


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _function(cloud: LocalCloud, body: str = "return {'ok': True}") -> str:
    """A function that answers ``body``, with a role that may do nothing; its ARN."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as code:
        code.writestr("index.py", f"def handler(event, context):\n    {body}\n")
    role = create_role(cloud.client("iam"), _name("fn-role"), trusts=LAMBDA, statements=[])
    created = cloud.client("lambda").create_function(
        FunctionName=_name("fn"),
        Runtime="python3.11",
        Role=role,
        Handler="index.handler",
        Code={"ZipFile": archive.getvalue()},
    )
    return str(created["FunctionArn"])


def _machine(cloud: LocalCloud, definition: dict[str, Any], statements: list[dict[str, Any]]) -> str:
    role = create_role(cloud.client("iam"), _name("sm-role"), trusts=STATES, statements=statements)
    created = cloud.client("stepfunctions").create_state_machine(
        name=_name("machine"), definition=json.dumps(definition), roleArn=role
    )
    return str(created["stateMachineArn"])


def _run(cloud: LocalCloud, machine: str) -> dict[str, Any]:
    sfn = cloud.client("stepfunctions")
    execution = sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
    cloud.wait_idle(timeout=60)
    return dict(sfn.describe_execution(executionArn=execution))


def _invoke_lambda(function_arn: str, **extra: Any) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": function_arn, "Payload": {}},
        "ResultSelector": {"ok.$": "$.Payload.ok"},
        **extra,
    }


def _caught(result_path: str, next_state: str) -> list[dict[str, Any]]:
    return [{"ErrorEquals": ["States.ALL"], "ResultPath": result_path, "Next": next_state}]


def test_a_task_whose_role_may_not_invoke_its_function_fails_as_lambda_s_access_denied_and_is_caught(
    cloud: LocalCloud,
) -> None:
    # Given a machine whose role may invoke one function and not the other, each task with a Catch
    allowed, forbidden = _function(cloud), _function(cloud)
    definition = {
        "StartAt": "Allowed",
        "States": {
            "Allowed": _invoke_lambda(allowed, ResultPath="$.allowed", Next="ByIntegration"),
            "ByIntegration": _invoke_lambda(
                forbidden, ResultPath="$.unused", Next="ByArn", Catch=_caught("$.byIntegration", "ByArn")
            ),
            "ByArn": {
                "Type": "Task",
                "Resource": forbidden,
                "ResultPath": "$.unused",
                "End": True,
                "Catch": _caught("$.byArn", "Done"),
            },
            "Done": {"Type": "Succeed"},
        },
    }
    grant = [{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": allowed}]
    machine = _machine(cloud, definition, grant)

    # When it runs
    execution = _run(cloud, machine)

    # Then the allowed task ran and both forbidden ones failed with Lambda's error, which the Catch routed
    assert execution["status"] == "SUCCEEDED", execution
    output = json.loads(execution["output"])
    assert output["allowed"] == {"ok": True}
    for caught in (output["byIntegration"], output["byArn"]):
        assert caught["Error"] == "Lambda.AWSLambdaException"
        assert (
            f"is not authorized to perform: lambda:InvokeFunction on resource: {forbidden}" in caught["Cause"]
        )
        assert ":assumed-role/sm-role-" in caught["Cause"]
        assert "Error Code: AccessDeniedException" in caught["Cause"]
    assert cloud.invocations(forbidden.rsplit(":", 1)[-1]) == []


def test_a_sync_training_task_whose_role_lacks_the_events_rule_fails_before_creating_the_job(
    cloud: LocalCloud,
) -> None:
    # Given a .sync training task whose role may run training jobs but not manage Step Functions' rule
    job_role = create_role(
        cloud.client("iam"), _name("job-role"), trusts="sagemaker.amazonaws.com", statements=[]
    )
    job = _name("job")
    definition = {
        "StartAt": "Train",
        "States": {
            "Train": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sagemaker:createTrainingJob.sync",
                "Parameters": {
                    "TrainingJobName": job,
                    "RoleArn": job_role,
                    "AlgorithmSpecification": {
                        "TrainingImage": "local/train:latest",
                        "TrainingInputMode": "File",
                    },
                    "OutputDataConfig": {"S3OutputPath": "s3://nowhere/out"},
                    "ResourceConfig": {
                        "InstanceCount": 1,
                        "InstanceType": "ml.m5.large",
                        "VolumeSizeInGB": 1,
                    },
                    "StoppingCondition": {"MaxRuntimeInSeconds": 60},
                },
                "End": True,
            }
        },
    }
    grant = [
        {"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"},
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": job_role},
    ]
    machine = _machine(cloud, definition, grant)

    # When it runs
    execution = _run(cloud, machine)

    # Then the task fails with SageMaker's error naming the events permission, and no job exists
    assert execution["status"] == "FAILED", execution
    assert execution["error"] == "SageMaker.AmazonSageMakerException"
    assert "events:PutTargets" in execution["cause"]
    with pytest.raises(ClientError):
        cloud.client("sagemaker").describe_training_job(TrainingJobName=job)


def test_a_state_machine_whose_role_does_not_trust_step_functions_is_not_created(cloud: LocalCloud) -> None:
    # Given a role that only Lambda may assume
    role = create_role(cloud.client("iam"), _name("lambda-only"), trusts=LAMBDA, statements=[])

    # When a state machine is created with it
    with pytest.raises(ClientError) as raised:
        cloud.client("stepfunctions").create_state_machine(
            name=_name("machine"),
            definition=json.dumps(PASS),
            roleArn=role,
        )

    # Then Step Functions refuses as AWS does
    error = raised.value.response["Error"]
    assert error["Code"] == "AccessDeniedException"
    assert error["Message"] == (
        "Neither the global service principal states.amazonaws.com, nor the regional one is authorized to "
        "assume the provided role."
    )


def _role_trusting_machines(
    cloud: LocalCloud, machines: str, statements: list[dict[str, Any]], principal: str = STATES
) -> str:
    """A role Step Functions may assume only for machines matching ``machines`` (CDK's trust policy)."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": principal},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "ArnLike": {
                        "aws:SourceArn": f"arn:aws:states:{cloud.region}:{cloud.account_id}:{machines}"
                    },
                    "StringEquals": {"aws:SourceAccount": cloud.account_id},
                },
            }
        ],
    }
    iam, name = cloud.client("iam"), _name("sm-role")
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    if statements:
        document = json.dumps({"Version": "2012-10-17", "Statement": statements})
        iam.put_role_policy(RoleName=name, PolicyName="tasks", PolicyDocument=document)
    return str(role)


@pytest.mark.parametrize("principal", [STATES, "states.us-east-1.amazonaws.com"], ids=["global", "regional"])
def test_a_role_trusted_for_the_account_s_machines_runs_their_tasks(
    cloud: LocalCloud, principal: str
) -> None:
    # Given a role trusting Step Functions (global or regional principal) for this account's machines only
    function = _function(cloud)
    grant = [{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": function}]
    role = _role_trusting_machines(cloud, "stateMachine:*", grant, principal)
    definition = {"StartAt": "Invoke", "States": {"Invoke": _invoke_lambda(function, End=True)}}
    sfn = cloud.client("stepfunctions")
    machine = sfn.create_state_machine(name=_name("machine"), definition=json.dumps(definition), roleArn=role)

    # When it runs
    execution = _run(cloud, machine["stateMachineArn"])

    # Then its task assumed the role for the machine (aws:SourceArn) and invoked the function
    assert execution["status"] == "SUCCEEDED", execution
    assert json.loads(execution["output"]) == {"ok": True}


def test_a_machine_cannot_be_updated_to_a_role_trusted_only_for_other_machines(cloud: LocalCloud) -> None:
    # Given a machine, and a role Step Functions may assume only for machines of another name
    sfn = cloud.client("stepfunctions")
    machine = _machine(cloud, PASS, [])
    elsewhere = _role_trusting_machines(cloud, "stateMachine:some-other-machine", [])

    # When the machine is updated to that role
    with pytest.raises(ClientError) as raised:
        sfn.update_state_machine(stateMachineArn=machine, roleArn=elsewhere)

    # Then Step Functions refuses, and the machine keeps its role
    assert raised.value.response["Error"]["Code"] == "AccessDeniedException"
    assert sfn.describe_state_machine(stateMachineArn=machine)["roleArn"] != elsewhere


def _rule_to(cloud: LocalCloud, target: dict[str, Any]) -> tuple[str, str]:
    """A rule on the default bus matching a test source, with one target; (rule ARN, source)."""
    events = cloud.client("events")
    source = f"test.{uuid.uuid4().hex[:8]}"
    name = _name("rule")
    rule = events.put_rule(Name=name, EventPattern=json.dumps({"source": [source]}))["RuleArn"]
    events.put_targets(Rule=name, Targets=[{"Id": "target", **target}])
    return str(rule), source


def _send(cloud: LocalCloud, source: str) -> None:
    entry = {"Source": source, "DetailType": "test", "Detail": "{}"}
    assert cloud.client("events").put_events(Entries=[entry])["FailedEntryCount"] == 0
    cloud.wait_idle(timeout=30)


def test_a_rule_whose_target_role_may_not_start_the_machine_starts_nothing_and_records_it(
    cloud: LocalCloud,
) -> None:
    # Given a rule targeting a machine with a role EventBridge may assume, without states:StartExecution
    machine = _machine(cloud, PASS, [])
    role = create_role(cloud.client("iam"), _name("rule-role"), trusts=EVENTS, statements=[])
    rule, source = _rule_to(cloud, {"Arn": machine, "RoleArn": role})

    # When a matching event arrives
    _send(cloud, source)

    # Then no execution starts, and the failed delivery names the missing permission
    assert cloud.client("stepfunctions").list_executions(stateMachineArn=machine)["executions"] == []
    (delivery,) = cloud.deliveries(machine)
    assert delivery.source == rule
    assert delivery.error is not None and delivery.error.startswith("AccessDenied")
    assert f"states:StartExecution on resource: {machine}" in delivery.error
    assert any(d.action == "states:StartExecution" for d in cloud.iam.enforcer.denials())


def test_a_rule_whose_target_role_may_start_the_machine_starts_it(cloud: LocalCloud) -> None:
    # Given the same rule with a role allowed states:StartExecution on the machine
    machine = _machine(cloud, PASS, [])
    grant = [{"Effect": "Allow", "Action": "states:StartExecution", "Resource": machine}]
    role = create_role(cloud.client("iam"), _name("rule-role"), trusts=EVENTS, statements=grant)
    _, source = _rule_to(cloud, {"Arn": machine, "RoleArn": role})

    # When a matching event arrives
    _send(cloud, source)

    # Then the machine runs
    (execution,) = cloud.client("stepfunctions").list_executions(stateMachineArn=machine)["executions"]
    assert execution["status"] == "SUCCEEDED"


def test_a_lambda_target_without_the_function_s_permission_is_not_invoked(cloud: LocalCloud) -> None:
    # Given a rule targeting a function whose policy does not let EventBridge invoke it
    function = _function(cloud)
    rule, source = _rule_to(cloud, {"Arn": function})

    # When a matching event arrives
    _send(cloud, source)

    # Then the function does not run, and the failed delivery is recorded
    assert cloud.invocations(function.rsplit(":", 1)[-1]) == []
    (delivery,) = cloud.deliveries(function)
    assert delivery.source == rule
    assert delivery.error is not None and "events.amazonaws.com" in delivery.error
    assert "lambda:InvokeFunction" in delivery.error


def _iam_api(cloud: LocalCloud) -> tuple[str, str]:
    """A REST API whose ``GET /`` is AWS_IAM-authorized and proxied to a function; (API id, stage)."""
    apigateway = cloud.client("apigateway")
    function = _function(cloud, "return {'statusCode': 200, 'body': 'hello'}")
    api = apigateway.create_rest_api(name=_name("api"))["id"]
    root = apigateway.get_resources(restApiId=api)["items"][0]["id"]
    apigateway.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="AWS_IAM")
    uri = f"arn:aws:apigateway:{cloud.region}:lambda:path/2015-03-31/functions/{function}/invocations"
    apigateway.put_integration(
        restApiId=api,
        resourceId=root,
        httpMethod="GET",
        type="AWS_PROXY",
        integrationHttpMethod="POST",
        uri=uri,
    )
    apigateway.create_deployment(restApiId=api, stageName="prod")
    cloud.client("lambda").add_permission(
        FunctionName=function,
        StatementId="apigateway",
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:{cloud.region}:{cloud.account_id}:{api}/*/*/*",
    )
    return api, "prod"


def _signed_get(cloud: LocalCloud, url: str, credentials: Credentials) -> requests.Response:
    request = AWSRequest(method="GET", url=url)
    SigV4Auth(credentials, "execute-api", cloud.region).add_auth(request)
    return requests.get(url, headers=dict(request.headers), timeout=30)


def test_an_iam_route_refuses_a_role_without_execute_api_invoke_and_serves_one_with_it(
    cloud: LocalCloud,
) -> None:
    # Given an AWS_IAM route, a role without execute-api:Invoke and one with it
    api, stage = _iam_api(cloud)
    url = cloud.api_url(api, stage)
    method_arn = f"arn:aws:execute-api:{cloud.region}:{cloud.account_id}:{api}/{stage}/GET/"
    iam = cloud.client("iam")
    grant = [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": method_arn}]
    without = create_role(iam, _name("caller"), trusts=LAMBDA, statements=[])
    with_grant = create_role(iam, _name("caller"), trusts=LAMBDA, statements=grant)

    def credentials(role: str) -> Credentials:
        session = cloud.iam.sessions.assume(role, service=LAMBDA, session_name="test")
        return Credentials(session.access_key_id, session.secret_access_key, session.session_token)

    # When each calls the route
    refused = _signed_get(cloud, url, credentials(without))
    served = _signed_get(cloud, url, credentials(with_grant))

    # Then the first is API Gateway's 403 naming the action and the method, the second is served
    assert refused.status_code == 403, refused.text
    assert refused.headers["x-amzn-ErrorType"] == "AccessDeniedException"
    message = refused.json()["Message"]
    assert f"is not authorized to perform: execute-api:Invoke on resource: {method_arn}" in message
    assert served.status_code == 200, served.text
    assert served.text == "hello"
