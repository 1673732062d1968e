"""Calls made as one of the deployed platform's roles, and what AWS answers them (least-privilege tests).

A role is named by its stack and its logical id without CDK's hash ("mlops-training/TrainingJobRole"):
the name a reader finds in the construct tree, stable when CDK's hash changes. A call names its request
with placeholders (``{bucket}``, ``{fn[TrainingPrepareFunction]}``...) that ``Deployed`` fills in from
the running deployment, and the IAM action and resource AWS decides it on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from localcloud import LocalCloud
from localcloud.sagemaker.roles import SAGEMAKER_PRINCIPAL, SESSION_NAME

_HASH = re.compile(r"[0-9A-F]{8}$")  # the hash CDK appends to a logical id
_NO_RETRIES = Config(retries={"max_attempts": 1, "mode": "standard"})
_STACK_TAG = "aws:cloudformation:stack-name"
_LOGICAL_ID_TAG = "aws:cloudformation:logical-id"

# The error code each service answers a denial with (AWS's documented answers per protocol).
DENIAL_CODES = {
    "s3": "AccessDenied",
    "sns": "AuthorizationError",
    "sqs": "AccessDenied",
    "logs": "AccessDeniedException",
    "dynamodb": "AccessDeniedException",
    "events": "AccessDeniedException",
    "lambda": "AccessDeniedException",
    "sagemaker": "AccessDeniedException",
    "sagemaker-runtime": "AccessDeniedException",
    "stepfunctions": "AccessDeniedException",
}


@dataclass(frozen=True)
class Call:
    """One boto3 call and the IAM action and resource AWS decides it on.

    ``answers`` is the error code the service gives an allowed call when the resource is not there (an
    allowed call must get past IAM, not succeed); None when it succeeds.
    """

    service: str
    operation: str
    params: dict[str, Any]
    action: str
    resource: str
    answers: str | None = None

    def __str__(self) -> str:
        return f"{self.action} on {self.resource}"


@dataclass(frozen=True)
class RoleCase:
    """A role's purpose (calls it must be allowed) and the calls just outside it (denied)."""

    role: str
    allowed: tuple[Call, ...]
    denied: tuple[Call, ...]


# Builders of the calls the tables are made of.
S3 = "arn:aws:s3:::{bucket}/"
SAGEMAKER = "arn:aws:sagemaker:{region}:{account}:"


def get(key: str) -> Call:
    """A read of ``key`` in the data bucket."""
    return Call("s3", "get_object", {"Bucket": "{bucket}", "Key": key}, "s3:GetObject", S3 + key)


def put(key: str) -> Call:
    """A write of ``key`` in the data bucket."""
    return Call(
        "s3", "put_object", {"Bucket": "{bucket}", "Key": key, "Body": b"x"}, "s3:PutObject", S3 + key
    )


def listing(prefix: str) -> Call:
    """A listing of the data bucket under ``prefix`` (decided on the bucket, with ``s3:prefix``)."""
    return Call(
        "s3",
        "list_objects_v2",
        {"Bucket": "{bucket}", "Prefix": prefix},
        "s3:ListBucket",
        "arn:aws:s3:::{bucket}",
    )


def query(table: str) -> Call:
    """A query of one partition: the catalog's or decisions' (a dataset), the deployments' (an endpoint)."""
    partition = {
        "catalogTableName": "dataset",
        "deploymentsTableName": "endpoint",
        "decisionsTableName": "dataset",
    }[table]
    return Call(
        "dynamodb",
        "query",
        {
            "TableName": f"{{{table}}}",
            "KeyConditionExpression": "#key = :value",
            "ExpressionAttributeNames": {"#key": partition},
            "ExpressionAttributeValues": {":value": {"S": "churn"}},
        },
        "dynamodb:Query",
        f"arn:aws:dynamodb:{{region}}:{{account}}:table/{{{table}}}",
    )


def by_arn(service: str, operation: str, parameter: str, arn: str, action: str, **answers: str) -> Call:
    """A call whose one parameter is the ARN it is decided on."""
    return Call(service, operation, {parameter: arn}, action, arn, **answers)


def start(machine: str) -> Call:
    """An execution of the "training" or "deployment" state machine."""
    arn = f"{{{machine}StateMachineArn}}"
    return by_arn("stepfunctions", "start_execution", "stateMachineArn", arn, "states:StartExecution")


def describe_execution(machine: str) -> Call:
    """A look at an execution of ``machine`` (one that never ran: allowed, it is not found)."""
    arn = f"{{{machine}Execution}}"
    return by_arn(
        "stepfunctions",
        "describe_execution",
        "executionArn",
        arn,
        "states:DescribeExecution",
        answers="ExecutionDoesNotExist",
    )


def invoke(function: str) -> Call:
    """A dry run of a function (named by its logical id unhashed): IAM decides it, nothing runs."""
    return Call(
        "lambda",
        "invoke",
        {"FunctionName": f"{{fn[{function}]}}", "InvocationType": "DryRun"},
        "lambda:InvokeFunction",
        f"{{fn_arn[{function}]}}",
    )


def invoke_endpoint(dataset: str, answers: str | None = None) -> Call:
    """A prediction asked of ``dataset``'s endpoint."""
    return Call(
        "sagemaker-runtime",
        "invoke_endpoint",
        {"EndpointName": f"mlops-{dataset}", "Body": b"1", "ContentType": "text/csv"},
        "sagemaker:InvokeEndpoint",
        f"{SAGEMAKER}endpoint/mlops-{dataset}",
        answers=answers,
    )


def describe_endpoint(answers: str | None = "ValidationException") -> Call:
    """A look at churn's endpoint (not deployed here: allowed, it is not found)."""
    return Call(
        "sagemaker",
        "describe_endpoint",
        {"EndpointName": "mlops-churn"},
        "sagemaker:DescribeEndpoint",
        f"{SAGEMAKER}endpoint/mlops-churn",
        answers=answers,
    )


def role_key(stack: str, logical_id: str) -> str:
    """The name a role goes by in the tests: its stack and its logical id without CDK's hash."""
    return f"{stack}/{_HASH.sub('', logical_id)}"


@dataclass
class Deployed:
    """The running deployment's names for the placeholders of ``Call``, and its roles by ``role_key``."""

    cloud: LocalCloud
    outputs: dict[str, str]
    roles: dict[str, str] = field(init=False)  # role key -> ARN
    names: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        iam = self.cloud.client("iam")
        self.roles = {}
        for role in iam.list_roles()["Roles"]:
            tags = {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName=role["RoleName"])["Tags"]}
            if _STACK_TAG in tags:
                self.roles[role_key(tags[_STACK_TAG], tags[_LOGICAL_ID_TAG])] = role["Arn"]
        functions = self.cloud.client("lambda").list_functions()["Functions"]
        sfn = self.cloud.client("stepfunctions")
        machines = [
            sfn.describe_state_machine(stateMachineArn=m["stateMachineArn"])
            for m in sfn.list_state_machines()["stateMachines"]
        ]
        self._functions = {f["Role"]: f for f in functions}
        self._machines = {m["roleArn"]: m["stateMachineArn"] for m in machines}
        scheduler = self.cloud.client("scheduler")
        self._schedule_groups = {
            scheduler.get_schedule(Name=s["Name"], GroupName=s["GroupName"])["Target"]["RoleArn"]: (
                f"arn:aws:scheduler:{self.cloud.region}:{self.cloud.account_id}:schedule-group/{s['GroupName']}"
            )
            for s in scheduler.list_schedules()["Schedules"]
        }
        self.names = {
            **{key[0].lower() + key[1:]: value for key, value in self.outputs.items()},
            "bucket": self.outputs["DataBucketName"],
            "account": self.cloud.account_id,
            "region": self.cloud.region,
            "fn": {_function_key(f["FunctionName"]): f["FunctionName"] for f in functions},
            "fn_arn": {_function_key(f["FunctionName"]): f["FunctionArn"] for f in functions},
            # an execution of each machine that never ran ("trainingExecution"): a resource to decide on
            **{
                f"{key[0].lower()}{key[1 : -len('StateMachineArn')]}Execution": arn.replace(
                    ":stateMachine:", ":execution:"
                )
                + ":least-privilege"
                for key, arn in self.outputs.items()
                if key.endswith("StateMachineArn")
            },
        }

    def fill(self, value: Any) -> Any:
        """``value`` with its placeholders replaced (in every string of a structure)."""
        if isinstance(value, str):
            return value.format(**self.names)
        if isinstance(value, dict):
            return {key: self.fill(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.fill(item) for item in value]
        return value

    def session_arn_and_client(self, role: str, service: str) -> tuple[str, Any]:
        """A client of ``service`` acting as ``role`` as the service that uses the role assumes it.

        A function's role is assumed by Lambda for the function (the session is the function's name), a
        state machine's by Step Functions for the machine, a schedule's by EventBridge Scheduler for the
        schedule's group, a training job's or a model's by SageMaker, any other by the service its trust
        policy names.
        """
        arn = self.roles[role]
        trusted = self._trusted_service(arn)
        function = self._functions.get(arn)
        if function is not None:
            name, source = function["FunctionName"], function["FunctionArn"]
        elif arn in self._machines:
            name, source = trusted, self._machines[arn]
        elif arn in self._schedule_groups:
            name, source = trusted, self._schedule_groups[arn]
        elif trusted == "scheduler.amazonaws.com":
            # A role only run-time schedules use (the retraining policy's deferral): the default group.
            group = f"arn:aws:scheduler:{self.cloud.region}:{self.cloud.account_id}:schedule-group/default"
            name, source = trusted, group
        else:
            name, source = (SESSION_NAME if trusted == SAGEMAKER_PRINCIPAL else trusted), None
        session = self.cloud.iam.sessions.assume(arn, service=trusted, session_name=name, source_arn=source)
        client = boto3.session.Session().client(
            service,
            endpoint_url=self.cloud.endpoint_url,
            region_name=self.cloud.region,
            aws_access_key_id=session.access_key_id,
            aws_secret_access_key=session.secret_access_key,
            aws_session_token=session.session_token,
            config=_NO_RETRIES,
        )
        return session.arn, client

    def _trusted_service(self, role_arn: str) -> str:
        role = self.cloud.client("iam").get_role(RoleName=role_arn.rsplit("/", 1)[1])["Role"]
        (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
        service: str = statement["Principal"]["Service"]
        return service


def attempt(client: Any, call: Call, deployed: Deployed) -> ClientError | None:
    """Make ``call`` with ``client``: the service's error, or None when it succeeded."""
    try:
        getattr(client, call.operation)(**deployed.fill(call.params))
    except ClientError as error:
        return error
    return None


def denial_message(session_arn: str, action: str, resource: str) -> str:
    """AWS's message for a call no identity-based policy of the session's role allows."""
    return (
        f"User: {session_arn} is not authorized to perform: {action} on resource: {resource} "
        f"because no identity-based policy allows the {action} action"
    )


def _function_key(name: str) -> str:
    # CloudFormation names a function <stack>-<logical id>-<suffix>: the key is the logical id unhashed
    return _HASH.sub("", name.split("-")[-2])
