"""Enforcement in a running local cloud: a role session's requests are decided by the policies.

Built through the API (no app to synthesize): roles a service may assume, with the permissions each
test needs; the clients sign with the sessions the local cloud issues, and a refusal is the
``ClientError`` AWS's SDK raises.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from localcloud import LocalCloud
from localcloud.iam.enforcer import AccessDeniedError
from tests.iam_roles import create_role, session_client

pytestmark = pytest.mark.slow

ACCOUNT, REGION = "123456789012", "us-east-1"
LAMBDA = "lambda.amazonaws.com"
BUCKET = "data"


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(enforce_iam=True) as running:
        running.client("s3").create_bucket(Bucket=BUCKET)
        yield running


def _reader(cloud: LocalCloud, name: str, *statements: dict[str, Any]) -> tuple[str, Any]:
    arn = create_role(
        cloud.client("iam"),
        name,
        trusts=LAMBDA,
        statements=[
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/in/*"},
            {"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{BUCKET}/never/*"},
            *statements,
        ],
    )
    return arn, session_client(cloud, arn, LAMBDA, "s3")


def _error(raised: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = raised.value.response["Error"]
    return error["Code"], error["Message"]


def test_a_role_reads_its_prefix_and_is_denied_another(
    cloud: LocalCloud, caplog: pytest.LogCaptureFixture
) -> None:
    admin = cloud.client("s3")
    admin.put_object(Bucket=BUCKET, Key="in/a.csv", Body=b"a")
    admin.put_object(Bucket=BUCKET, Key="secret/b.csv", Body=b"b")
    _, s3 = _reader(cloud, "prefix-reader")

    assert s3.get_object(Bucket=BUCKET, Key="in/a.csv")["Body"].read() == b"a"
    with caplog.at_level(logging.WARNING, logger="localcloud.iam"), pytest.raises(ClientError) as raised:
        s3.get_object(Bucket=BUCKET, Key="secret/b.csv")

    code, message = _error(raised)
    assert code == "AccessDenied"
    assert message == (
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/prefix-reader/test is not authorized to perform:"
        f" s3:GetObject on resource: arn:aws:s3:::{BUCKET}/secret/b.csv because no identity-based policy"
        " allows the s3:GetObject action"
    )
    assert message in caplog.text
    assert cloud.iam.enforcer.denials()[-1].resource == f"arn:aws:s3:::{BUCKET}/secret/b.csv"


def test_a_bucket_policy_deny_wins_over_an_identity_allow(cloud: LocalCloud) -> None:
    admin = cloud.client("s3")
    admin.create_bucket(Bucket="guarded")
    admin.put_object(Bucket="guarded", Key="in/a.csv", Body=b"a")
    role, s3 = _reader(
        cloud,
        "guarded-reader",
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::guarded/*"},
    )
    assert s3.get_object(Bucket="guarded", Key="in/a.csv")["Body"].read() == b"a"
    deny = {
        "Effect": "Deny",
        "Principal": {"AWS": role},
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::guarded/*",
    }
    admin.put_bucket_policy(
        Bucket="guarded", Policy=json.dumps({"Version": "2012-10-17", "Statement": [deny]})
    )

    with pytest.raises(ClientError) as raised:
        s3.get_object(Bucket="guarded", Key="in/a.csv")

    code, message = _error(raised)
    assert code == "AccessDenied"
    assert message.endswith("with an explicit deny in a resource-based policy")


def test_reading_an_sse_kms_object_needs_decrypt_on_its_key(cloud: LocalCloud) -> None:
    key = cloud.client("kms").create_key()["KeyMetadata"]["Arn"]
    root = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }
    cloud.client("kms").put_key_policy(
        KeyId=key, PolicyName="default", Policy=json.dumps({"Version": "2012-10-17", "Statement": [root]})
    )
    cloud.client("s3").put_object(
        Bucket=BUCKET, Key="in/sealed.csv", Body=b"s", ServerSideEncryption="aws:kms", SSEKMSKeyId=key
    )
    _, without = _reader(cloud, "no-key-reader")
    _, with_key = _reader(cloud, "key-reader", {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key})

    with pytest.raises(ClientError) as raised:
        without.get_object(Bucket=BUCKET, Key="in/sealed.csv")
    assert with_key.get_object(Bucket=BUCKET, Key="in/sealed.csv")["Body"].read() == b"s"

    code, message = _error(raised)
    assert code == "AccessDenied"
    assert f"kms:Decrypt on resource: {key}" in message


def test_creating_a_model_needs_pass_role_on_its_execution_role(cloud: LocalCloud) -> None:
    iam = cloud.client("iam")
    execution = create_role(iam, "model-execution", trusts="sagemaker.amazonaws.com", statements=[])
    model = {"Effect": "Allow", "Action": "sagemaker:CreateModel", "Resource": "*"}
    passes = {
        "Effect": "Allow",
        "Action": "iam:PassRole",
        "Resource": execution,
        "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
    }
    creator = create_role(iam, "model-creator", trusts=LAMBDA, statements=[model])
    passer = create_role(iam, "model-passer", trusts=LAMBDA, statements=[model, passes])
    container = {
        "Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/model:1",
        "ModelDataUrl": "s3://data/m",
    }

    with pytest.raises(ClientError) as raised:
        session_client(cloud, creator, LAMBDA, "sagemaker").create_model(
            ModelName="m1", ExecutionRoleArn=execution, PrimaryContainer=container
        )
    session_client(cloud, passer, LAMBDA, "sagemaker").create_model(
        ModelName="m2", ExecutionRoleArn=execution, PrimaryContainer=container
    )

    code, message = _error(raised)
    assert code == "AccessDeniedException"
    assert f"iam:PassRole on resource: {execution}" in message


def _stranger(cloud: LocalCloud, service: str) -> Any:
    return boto3.session.Session().client(
        service,
        endpoint_url=cloud.endpoint_url,
        region_name=REGION,
        aws_access_key_id="AKIAUNKNOWNKEY000000",
        aws_secret_access_key="x",
    )


def test_the_administrator_passes_and_an_unknown_key_is_refused(cloud: LocalCloud) -> None:
    cloud.client("s3").put_object(Bucket=BUCKET, Key="anywhere/x", Body=b"x")

    with pytest.raises(ClientError) as s3_raised:
        _stranger(cloud, "s3").get_object(Bucket=BUCKET, Key="anywhere/x")
    with pytest.raises(ClientError) as sts_raised:
        _stranger(cloud, "sts").get_caller_identity()

    assert _error(s3_raised)[0] == "InvalidAccessKeyId"
    assert _error(sts_raised) == (
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
    )


def test_a_service_assumes_a_role_only_as_its_trust_policy_says(cloud: LocalCloud) -> None:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": LAMBDA},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "ArnLike": {"aws:SourceArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:mine"}
                },
            }
        ],
    }
    role = cloud.client("iam").create_role(RoleName="scoped", AssumeRolePolicyDocument=json.dumps(trust))[
        "Role"
    ]["Arn"]
    sessions = cloud.iam.sessions

    session = sessions.assume(
        role,
        service=LAMBDA,
        session_name="mine",
        source_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:mine",
    )
    for service, source in (
        (LAMBDA, f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:other"),
        ("states.amazonaws.com", None),
    ):
        with pytest.raises(
            AccessDeniedError,
            match=f"User: {service} is not authorized to perform: sts:AssumeRole on resource: {role}$",
        ):
            sessions.assume(role, service=service, session_name="x", source_arn=source)
    identity = (
        boto3.session.Session()
        .client("sts", endpoint_url=cloud.endpoint_url, region_name=REGION, **_keys(session.environment()))
        .get_caller_identity()
    )

    assert identity["Arn"] == session.arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/scoped/mine"
    assert sessions.principal(session.access_key_id) == session.arn
    assert sessions.principal("testing") is None


def _keys(environment: dict[str, str]) -> dict[str, str]:
    return {
        "aws_access_key_id": environment["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": environment["AWS_SECRET_ACCESS_KEY"],
        "aws_session_token": environment["AWS_SESSION_TOKEN"],
    }


def test_a_refused_upload_leaves_the_connection_usable(cloud: LocalCloud) -> None:
    _, s3 = _reader(cloud, "uploader")

    # The same pooled connection each time: the unread body must not be read as the next request (above
    # 1 MB botocore also sends Expect: 100-continue, which the refusal answers before the body).
    for _ in range(3):
        with pytest.raises(ClientError) as raised:
            s3.put_object(Bucket=BUCKET, Key="in/upload.bin", Body=b"x" * 2_000_000)
        assert _error(raised)[0] == "AccessDenied"
    cloud.client("s3").put_object(Bucket=BUCKET, Key="in/b.csv", Body=b"b")
    assert s3.get_object(Bucket=BUCKET, Key="in/b.csv")["Body"].read() == b"b"


def test_an_operation_the_table_lacks_is_a_server_error_naming_it(cloud: LocalCloud) -> None:
    _, s3 = _reader(cloud, "deleter")

    with pytest.raises(ClientError) as raised:
        s3.delete_bucket_policy(Bucket=BUCKET)

    assert "s3.delete_bucket_policy" in _error(raised)[1]
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert any(
        "s3.delete_bucket_policy" in gap and "localcloud/iam/operations.py" in gap
        for gap in cloud.iam.enforcer.gaps()
    )


def test_usage_lists_what_a_role_used_and_the_statement_it_never_used(cloud: LocalCloud) -> None:
    cloud.client("s3").put_object(Bucket=BUCKET, Key="in/used.csv", Body=b"u")
    role, s3 = _reader(cloud, "usage-reader")
    s3.get_object(Bucket=BUCKET, Key="in/used.csv")

    usage = cloud.iam.enforcer.usage().role(role)

    assert usage is not None
    assert usage.used == (("s3:GetObject", f"arn:aws:s3:::{BUCKET}/in/used.csv"),)
    assert [(u.policy, u.actions, u.resources) for u in usage.unused] == [
        ("usage-reader-policy", ("s3:PutObject",), (f"arn:aws:s3:::{BUCKET}/never/*",))
    ]


def test_a_role_sends_to_the_queue_it_may_and_is_denied_another_by_url_and_by_name(cloud: LocalCloud) -> None:
    # Given two queues and a role that may find and send to the first only
    sqs = cloud.client("sqs")
    allowed = sqs.create_queue(QueueName="work")["QueueUrl"]
    sqs.create_queue(QueueName="other")
    queue_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:work"
    grant = {"Effect": "Allow", "Action": ["sqs:GetQueueUrl", "sqs:SendMessage"], "Resource": queue_arn}
    role = create_role(cloud.client("iam"), "queue-sender", trusts=LAMBDA, statements=[grant])
    sender = session_client(cloud, role, LAMBDA, "sqs")

    # When it finds its queue by name and sends, then tries the other queue
    url = sender.get_queue_url(QueueName="work")["QueueUrl"]
    sender.send_message(QueueUrl=url, MessageBody="{}")
    with pytest.raises(ClientError) as by_name:
        sender.get_queue_url(QueueName="other")
    with pytest.raises(ClientError) as by_url:
        sender.send_message(QueueUrl=allowed.replace("/work", "/other"), MessageBody="{}")

    # Then its own queue got the message, and the other is SQS's AccessDenied naming the action and queue
    assert url == allowed
    assert sqs.receive_message(QueueUrl=allowed)["Messages"][0]["Body"] == "{}"
    other = f"arn:aws:sqs:{REGION}:{ACCOUNT}:other"
    assert [_error(raised)[0] for raised in (by_name, by_url)] == ["AccessDenied", "AccessDenied"]
    assert f"sqs:GetQueueUrl on resource: {other}" in _error(by_name)[1]
    assert f"sqs:SendMessage on resource: {other}" in _error(by_url)[1]
