"""Test helpers: a role a service may assume with given permissions, a client acting as it, and a queue
policy letting a service send for one source."""

from __future__ import annotations

import json
from typing import Any

import boto3
from botocore.config import Config

from localcloud import LocalCloud

_NO_RETRIES = Config(retries={"max_attempts": 1, "mode": "standard"})
# What Lambda needs of a function's role to write its logs to the default group /aws/lambda/<name>
# (AWSLambdaBasicExecutionRole's grant): without it the function runs and its lines are dropped.
LAMBDA_LOGS = {
    "Effect": "Allow",
    "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
    "Resource": "arn:aws:logs:*:*:log-group:/aws/lambda/*",
}


def create_role(
    iam_client: Any,
    name: str,
    *,
    trusts: str,
    statements: list[dict[str, Any]],
    conditions: dict[str, Any] | None = None,
) -> str:
    """Create role ``name`` that service principal ``trusts`` may assume, with ``statements`` inline.

    Parameters
    ----------
    iam_client
        An IAM client of the local cloud (the administrator's).
    name : str
        The role's name; its inline policy is named ``<name>-policy``.
    trusts : str
        The service principal of the trust policy ("lambda.amazonaws.com").
    statements : list[dict]
        The identity policy's statements (none: the role may do nothing).
    conditions : dict | None
        The trust statement's ``Condition`` (``aws:SourceArn``...), if any.

    Returns
    -------
    str
        The role's ARN.
    """
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": trusts},
        "Action": "sts:AssumeRole",
    }
    if conditions:
        statement["Condition"] = conditions
    trust = {"Version": "2012-10-17", "Statement": [statement]}
    arn: str = iam_client.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"][
        "Arn"
    ]
    if statements:
        document = json.dumps({"Version": "2012-10-17", "Statement": statements})
        iam_client.put_role_policy(RoleName=name, PolicyName=f"{name}-policy", PolicyDocument=document)
    return arn


def session_client(cloud: LocalCloud, role_arn: str, service_principal: str, boto3_service: str) -> Any:
    """A boto3 client of ``boto3_service`` signed with the session ``service_principal`` gets for the role.

    The session is named "test" (its ARN ends ``assumed-role/<role name>/test``); the client does not
    retry, so a refusal is raised at once.
    """
    session = cloud.iam.sessions.assume(role_arn, service=service_principal, session_name="test")
    return boto3.session.Session().client(
        boto3_service,
        endpoint_url=cloud.endpoint_url,
        region_name=cloud.region,
        aws_access_key_id=session.access_key_id,
        aws_secret_access_key=session.secret_access_key,
        aws_session_token=session.session_token,
        config=_NO_RETRIES,
    )


def let_service_send(sqs: Any, queue_url: str, *, service: str, source_arn: str) -> None:
    """Set ``queue_url``'s policy: ``service`` may ``sqs:SendMessage`` for ``source_arn`` only.

    Parameters
    ----------
    sqs
        An SQS client of the local cloud.
    queue_url : str
        The queue's URL.
    service : str
        The service principal that sends ("events.amazonaws.com" for a rule, "sns.amazonaws.com").
    source_arn : str
        The rule or topic it sends for (``aws:SourceArn``, as CDK conditions it).
    """
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sqs:SendMessage",
        "Resource": queue_arn,
        "Condition": {"ArnEquals": {"aws:SourceArn": source_arn}},
    }
    policy = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": policy})
