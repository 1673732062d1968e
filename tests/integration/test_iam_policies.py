"""The policies that decide a call, read from moto's backends as boto3 created them."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from localcloud.iam import Request, evaluate
from localcloud.iam.policies import PolicyNotFoundError, PolicyStore

ACCOUNT = "123456789012"
REGION = "us-east-1"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _allow(action: str, resource: str, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)


@pytest.fixture
def store(aws_env: None) -> Iterator[PolicyStore]:
    with mock_aws():
        yield PolicyStore(ACCOUNT, REGION)


def _role(name: str = "worker") -> str:
    iam = boto3.client("iam")
    arn: str = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    return arn


def test_a_role_has_its_inline_and_managed_policies(store: PolicyStore) -> None:
    iam = boto3.client("iam")
    role = _role()
    iam.put_role_policy(
        RoleName="worker", PolicyName="reads", PolicyDocument=_doc(_allow("s3:GetObject", "*"))
    )
    managed = iam.create_policy(PolicyName="sends", PolicyDocument=_doc(_allow("sqs:SendMessage", "*")))
    iam.attach_role_policy(RoleName="worker", PolicyArn=managed["Policy"]["Arn"])

    policies = store.identity_policies(role)

    assert [p.name for p in policies] == ["reads", managed["Policy"]["Arn"]]
    assert [p.statements[0].actions for p in policies] == [("s3:GetObject",), ("sqs:SendMessage",)]


def test_a_role_session_has_its_roles_policies(store: PolicyStore) -> None:
    # A session's ARN drops the role's path.
    boto3.client("iam").create_role(
        RoleName="worker", Path="/jobs/", AssumeRolePolicyDocument=json.dumps(TRUST)
    )
    boto3.client("iam").put_role_policy(
        RoleName="worker", PolicyName="reads", PolicyDocument=_doc(_allow("s3:GetObject", "*"))
    )
    session = f"arn:aws:sts::{ACCOUNT}:assumed-role/worker/job-1"

    assert [p.name for p in store.identity_policies(session)] == ["reads"]


def test_a_user_has_its_own_policies_then_its_groups(store: PolicyStore) -> None:
    iam = boto3.client("iam")
    user = iam.create_user(UserName="analyst")["User"]["Arn"]
    iam.put_user_policy(
        UserName="analyst", PolicyName="reads", PolicyDocument=_doc(_allow("s3:GetObject", "*"))
    )
    iam.create_group(GroupName="team")
    iam.add_user_to_group(GroupName="team", UserName="analyst")
    managed = iam.create_policy(PolicyName="invokes", PolicyDocument=_doc(_allow("execute-api:Invoke", "*")))
    iam.attach_group_policy(GroupName="team", PolicyArn=managed["Policy"]["Arn"])

    policies = store.identity_policies(user)

    assert [p.name for p in policies] == ["reads", managed["Policy"]["Arn"]]
    with pytest.raises(PolicyNotFoundError, match="user/ghost"):
        store.identity_policies(f"arn:aws:iam::{ACCOUNT}:user/ghost")


def test_an_unknown_role_or_managed_policy_is_named_in_the_error(store: PolicyStore) -> None:
    with pytest.raises(PolicyNotFoundError, match="role/ghost"):
        store.identity_policies(f"arn:aws:iam::{ACCOUNT}:role/ghost")
    arn = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    with pytest.raises(PolicyNotFoundError, match="AmazonS3ReadOnlyAccess"):
        store.managed_policy(arn)


def test_an_aws_managed_policy_is_read_when_moto_has_loaded_it(
    aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    arn = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    with mock_aws():
        _role()
        boto3.client("iam").attach_role_policy(RoleName="worker", PolicyArn=arn)
        store = PolicyStore(ACCOUNT, REGION)

        assert store.managed_policy(arn).name == arn
        assert [p.name for p in store.identity_policies(f"arn:aws:iam::{ACCOUNT}:role/worker")] == [arn]


def test_a_roles_trust_policy_must_allow_assume_role(store: PolicyStore) -> None:
    role = _role()

    trust = store.resource_policy(role)

    assert trust is not None and trust.required and trust.kind == "trust policy"
    allowed = evaluate(Request("lambda.amazonaws.com", "sts:AssumeRole", role), [], trust)
    denied = evaluate(Request("states.amazonaws.com", "sts:AssumeRole", role), [], trust)
    assert allowed.allowed and not denied.allowed


def test_a_bucket_policy_covers_the_bucket_and_its_objects(store: PolicyStore) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="data")
    s3.create_bucket(Bucket="bare")
    statement = _allow(
        "s3:GetObject", "arn:aws:s3:::data/*", Principal={"Service": "sagemaker.amazonaws.com"}
    )
    s3.put_bucket_policy(Bucket="data", Policy=_doc(statement))

    for arn in ("arn:aws:s3:::data", "arn:aws:s3:::data/runs/1/model.tar.gz"):
        found = store.resource_policy(arn)
        assert found is not None and not found.required
        assert found.policy.statements[0].principals == frozenset({"sagemaker.amazonaws.com"})
    assert store.resource_policy("arn:aws:s3:::bare") is None
    assert store.resource_policy("arn:aws:s3:::missing") is None


def test_a_key_policy_is_found_by_key_and_by_alias_and_is_required(store: PolicyStore) -> None:
    kms = boto3.client("kms")
    policy = _doc(_allow("kms:*", "*", Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"}))
    key = kms.create_key(Policy=policy)["KeyMetadata"]
    kms.create_alias(AliasName="alias/data", TargetKeyId=key["KeyId"])

    by_key = store.resource_policy(key["Arn"])
    by_alias = store.resource_policy(f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/data")

    assert by_key is not None and by_key.required and by_key.kind == "key policy"
    assert by_alias is not None and by_alias.policy is by_key.policy
    assert store.resource_policy(f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/none") is None


def test_topic_queue_function_and_event_bus_policies(store: PolicyStore) -> None:
    role = _role()
    topic = boto3.client("sns").create_topic(Name="alerts")["TopicArn"]
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="jobs")["QueueUrl"]
    queue = f"arn:aws:sqs:{REGION}:{ACCOUNT}:jobs"
    sqs.set_queue_attributes(
        QueueUrl=url,
        Attributes={
            "Policy": _doc(_allow("sqs:SendMessage", queue, Principal={"Service": "sns.amazonaws.com"}))
        },
    )
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    awslambda = boto3.client("lambda")
    function, bare = (
        awslambda.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role,
            Handler="handler.handler",
            Code={"ZipFile": code.getvalue()},
        )["FunctionArn"]
        for name in ("score", "bare")
    )
    awslambda.add_permission(
        FunctionName="score",
        StatementId="events",
        Action="lambda:InvokeFunction",
        Principal="events.amazonaws.com",
    )
    events = boto3.client("events")
    events.put_permission(
        EventBusName="default", Action="events:PutEvents", Principal=ACCOUNT, StatementId="acct"
    )
    bus = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default"

    found = {arn: store.resource_policy(arn) for arn in (topic, queue, function, f"{function}:live", bus)}

    assert all(p is not None and not p.required for p in found.values())
    invoke = Request("events.amazonaws.com", "lambda:InvokeFunction", function)
    assert evaluate(invoke, [], found[function]).allowed
    send = Request("sns.amazonaws.com", "sqs:SendMessage", queue)
    assert evaluate(send, [], found[queue]).allowed
    assert store.resource_policy(bare) is None
    assert store.resource_policy(f"arn:aws:sqs:{REGION}:{ACCOUNT}:missing") is None
    assert store.resource_policy(f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/other") is None


def test_a_policy_is_parsed_once_and_read_again_when_it_changes(store: PolicyStore) -> None:
    iam = boto3.client("iam")
    role = _role()
    iam.put_role_policy(RoleName="worker", PolicyName="p", PolicyDocument=_doc(_allow("s3:GetObject", "*")))
    first = store.identity_policies(role)
    assert store.identity_policies(role)[0] is first[0]

    iam.put_role_policy(RoleName="worker", PolicyName="p", PolicyDocument=_doc(_allow("s3:PutObject", "*")))

    assert store.identity_policies(role)[0].statements[0].actions == ("s3:PutObject",)


def test_an_inline_grant_on_one_prefix_allows_there_and_denies_elsewhere(store: PolicyStore) -> None:
    iam = boto3.client("iam")
    _role()
    boto3.client("s3").create_bucket(Bucket="data")
    grant = _allow("s3:GetObject", "arn:aws:s3:::data/runs/*")
    iam.put_role_policy(RoleName="worker", PolicyName="runs", PolicyDocument=_doc(grant))
    session = f"arn:aws:sts::{ACCOUNT}:assumed-role/worker/job-1"

    def decide(resource: str) -> Any:
        request = Request(session, "s3:GetObject", resource)
        return evaluate(request, store.identity_policies(session), store.resource_policy(resource))

    assert decide("arn:aws:s3:::data/runs/1/model.tar.gz").allowed
    denied = decide("arn:aws:s3:::data/incoming/upload.csv")
    assert not denied.allowed
    assert denied.message == (
        f"User: {session} is not authorized to perform: s3:GetObject on resource:"
        " arn:aws:s3:::data/incoming/upload.csv"
        " because no identity-based policy allows the s3:GetObject action"
    )


def test_a_key_policy_that_does_not_delegate_denies_despite_an_identity_allow(store: PolicyStore) -> None:
    iam = boto3.client("iam")
    role = _role()
    admin = _role("admin")
    iam.put_role_policy(RoleName="worker", PolicyName="kms", PolicyDocument=_doc(_allow("kms:Decrypt", "*")))
    key = boto3.client("kms").create_key(Policy=_doc(_allow("kms:*", "*", Principal={"AWS": admin})))
    arn = key["KeyMetadata"]["Arn"]

    decision = evaluate(
        Request(role, "kms:Decrypt", arn), store.identity_policies(role), store.resource_policy(arn)
    )

    assert not decision.allowed
    assert decision.policy_kind == "resource-based" and decision.reason == "the key policy does not allow"
