"""The enforcer: each call decided by the principal's and the resource's policies, with what AWS implies.

Pure: the policies come from a hand-written store and the encrypted resources' keys from a
hand-written key lookup, as ``PolicyStore`` and ``MotoKeys`` would read them from moto's backends.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import pytest

from localcloud.iam import Policy, ResourcePolicy, implied, parse_policy
from localcloud.iam.actions import Required, UnmappedOperationError
from localcloud.iam.enforcer import AccessDeniedError, Denial, Enforcer
from localcloud.iam.policies import PolicyNotFoundError

ACCOUNT, REGION = "123456789012", "us-east-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/Worker"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/Worker/fn"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/k-1"
SOURCE_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/k-source"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts"
FUNCTION = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:train"
MODEL_ROLE = f"arn:aws:iam::{ACCOUNT}:role/ModelExecution"


def _policy(*statements: dict[str, Any], name: str) -> Policy:
    return parse_policy({"Version": "2012-10-17", "Statement": list(statements)}, name=name)


def allow(action: str | list[str], resource: str | list[str] = "*", **more: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **more}


# A key policy as CDK writes it: the account's root delegates to the identity policies.
DELEGATES = ResourcePolicy(
    _policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
        name="key policy",
    ),
    required=True,
    kind="key policy",
)


@dataclass
class FakeStore:
    """The role Worker's identity statements, and resource policies by ARN."""

    statements: list[dict[str, Any]]
    resources: dict[str, ResourcePolicy] = field(default_factory=dict)

    def identity_policies(self, principal: str) -> tuple[Policy, ...]:
        if "/Worker" not in principal:
            raise PolicyNotFoundError(principal)
        return (_policy(*self.statements, name="worker-policy"),) if self.statements else ()

    def resource_policy(self, resource: str, action: str | None = None) -> ResourcePolicy | None:
        if resource.startswith("arn:aws:kms:"):
            return self.resources.get(resource, DELEGATES)
        return self.resources.get(resource)


@dataclass
class FakeKeys:
    """Encrypted objects (bucket/key -> key id), buckets' default keys, topics' and queues' keys."""

    objects: dict[str, str] = field(default_factory=dict)
    buckets: dict[str, str] = field(default_factory=dict)
    topics: dict[str, str] = field(default_factory=dict)
    queues: dict[str, str] = field(default_factory=dict)

    def object_key(self, bucket: str, key: str) -> str | None:
        return self.objects.get(f"{bucket}/{key}")

    def bucket_key(self, bucket: str) -> str | None:
        return self.buckets.get(bucket)

    def topic_key(self, topic_arn: str) -> str | None:
        return self.topics.get(topic_arn)

    def queue_key(self, queue_url: str) -> str | None:
        return self.queues.get(queue_url)

    def key_arn(self, key_id: str) -> str:
        return key_id if key_id.startswith("arn:") else f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{key_id}"


def enforcer(
    *statements: dict[str, Any], keys: FakeKeys | None = None, enabled: bool = True, **more: Any
) -> Enforcer:
    store = FakeStore(list(statements), **more)
    return Enforcer(store, account_id=ACCOUNT, region=REGION, enabled=enabled, keys=keys or FakeKeys())


def denied(run: Enforcer, *call: Any, **params: Any) -> str:
    with pytest.raises(AccessDeniedError) as raised:
        run.authorize(SESSION, *call, params)
    return raised.value.message


def test_an_allowed_call_passes_and_a_denied_one_raises_aws_message() -> None:
    run = enforcer(allow("s3:GetObject", "arn:aws:s3:::data/in/*"))

    run.authorize(SESSION, "s3", "get_object", {"Bucket": "data", "Key": "in/a.csv"})
    message = denied(run, "s3", "get_object", Bucket="data", Key="out/a.csv")

    assert message == (
        f"User: {SESSION} is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::data/out/a.csv"
        " because no identity-based policy allows the s3:GetObject action"
    )


def test_a_denial_is_logged_kept_and_handed_to_the_listeners(caplog: pytest.LogCaptureFixture) -> None:
    run = enforcer()
    heard: list[Denial] = []
    run.add_denial_listener(heard.append)

    with caplog.at_level(logging.WARNING, logger="localcloud.iam"):
        message = denied(run, "s3", "get_object", Bucket="data", Key="a")

    assert run.denials() == heard
    assert [(d.principal, d.action, d.resource, d.message) for d in heard] == [
        (SESSION, "s3:GetObject", "arn:aws:s3:::data/a", message)
    ]
    assert message in caplog.text


def test_reading_an_sse_kms_object_needs_decrypt_on_its_key_via_s3() -> None:
    keys = FakeKeys(objects={"data/in/a": KEY})
    via_s3 = {"StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com", "kms:CallerAccount": ACCOUNT}}
    via_sns = {"StringEquals": {"kms:ViaService": f"sns.{REGION}.amazonaws.com"}}
    read = allow("s3:GetObject", "arn:aws:s3:::data/*")

    enforcer(read, allow("kms:Decrypt", KEY, Condition=via_s3), keys=keys).authorize(
        SESSION, "s3", "get_object", {"Bucket": "data", "Key": "in/a"}
    )
    message = denied(
        enforcer(read, allow("kms:Decrypt", KEY, Condition=via_sns), keys=keys),
        "s3",
        "get_object",
        Bucket="data",
        Key="in/a",
    )

    assert f"kms:Decrypt on resource: {KEY}" in message


def test_a_key_policy_that_does_not_delegate_denies_even_an_identity_allow() -> None:
    keys = FakeKeys(objects={"data/a": KEY})
    closed = ResourcePolicy(
        _policy(allow("kms:*", Principal={"AWS": "arn:aws:iam::999999999999:root"}), name="k"),
        required=True,
        kind="key policy",
    )
    run = enforcer(allow("s3:GetObject"), allow("kms:Decrypt"), keys=keys, resources={KEY: closed})

    message = denied(run, "s3", "get_object", Bucket="data", Key="a")

    assert message.endswith("because no resource-based policy allows the kms:Decrypt action")


@pytest.mark.parametrize(
    ("operation", "params", "expected"),
    [
        ("put_object", {"Bucket": "sealed", "Key": "k"}, [("kms:GenerateDataKey", KEY)]),
        (
            "create_multipart_upload",
            {"Bucket": "sealed", "Key": "k"},
            [("kms:GenerateDataKey", KEY), ("kms:Decrypt", KEY)],
        ),
        (
            "upload_part",
            {"Bucket": "sealed", "Key": "k"},
            [("kms:GenerateDataKey", KEY), ("kms:Decrypt", KEY)],
        ),
        # The request's own key wins over the bucket's default; another encryption needs no key.
        (
            "put_object",
            {"Bucket": "sealed", "Key": "k", "ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "k-own"},
            [("kms:GenerateDataKey", f"arn:aws:kms:{REGION}:{ACCOUNT}:key/k-own")],
        ),
        ("put_object", {"Bucket": "sealed", "Key": "k", "ServerSideEncryption": "AES256"}, []),
        ("put_object", {"Bucket": "plain", "Key": "k"}, []),
        (
            "copy_object",
            {"Bucket": "sealed", "Key": "k", "CopySource": {"Bucket": "src", "Key": "a"}},
            [("kms:Decrypt", SOURCE_KEY), ("kms:GenerateDataKey", KEY)],
        ),
        ("get_object", {"Bucket": "src", "Key": "plain"}, []),
    ],
)
def test_the_kms_permissions_an_s3_call_implies(
    operation: str, params: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    keys = FakeKeys(objects={"src/a": SOURCE_KEY}, buckets={"sealed": "k-1"})
    assert implied.kms_permissions("s3", operation, params, keys) == [Required(a, r) for a, r in expected]


def test_publishing_to_an_encrypted_topic_needs_the_key_and_queues_by_direction() -> None:
    queue = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/jobs"
    keys = FakeKeys(topics={TOPIC: "k-1"}, queues={queue: "k-1"})

    assert implied.kms_permissions("sns", "publish", {"TopicArn": TOPIC}, keys) == [
        Required("kms:GenerateDataKey", KEY),
        Required("kms:Decrypt", KEY),
    ]
    assert implied.kms_permissions("sqs", "send_message", {"QueueUrl": queue}, keys) == [
        Required("kms:GenerateDataKey", KEY),
        Required("kms:Decrypt", KEY),
    ]
    assert implied.kms_permissions("sqs", "receive_message", {"QueueUrl": queue}, keys) == [
        Required("kms:Decrypt", KEY)
    ]
    assert implied.kms_permissions("sns", "publish", {"TopicArn": TOPIC + "-plain"}, keys) == []


def test_an_sns_publish_is_denied_without_the_topics_key() -> None:
    keys = FakeKeys(topics={TOPIC: "k-1"})
    publish = allow("sns:Publish", TOPIC)

    enforcer(publish, allow(["kms:GenerateDataKey", "kms:Decrypt"], KEY), keys=keys).authorize(
        SESSION, "sns", "publish", {"TopicArn": TOPIC, "Message": "m"}
    )
    message = denied(
        enforcer(publish, allow("kms:Decrypt", KEY), keys=keys), "sns", "publish", TopicArn=TOPIC, Message="m"
    )

    assert f"kms:GenerateDataKey on resource: {KEY}" in message


def test_pass_role_carries_the_service_it_passes_to() -> None:
    model = allow("sagemaker:CreateModel")
    params = {"ModelName": "m", "ExecutionRoleArn": MODEL_ROLE}

    def passing_to(service: str) -> Enforcer:
        condition = {"StringEquals": {"iam:PassedToService": service}}
        return enforcer(model, allow("iam:PassRole", MODEL_ROLE, Condition=condition))

    passing_to("sagemaker.amazonaws.com").authorize(SESSION, "sagemaker", "create_model", params)
    message = denied(passing_to("lambda.amazonaws.com"), "sagemaker", "create_model", **params)

    assert f"iam:PassRole on resource: {MODEL_ROLE}" in message


def test_every_request_is_over_tls_and_names_the_principal_and_the_requests_encryption() -> None:
    tls_only = {
        "Effect": "Deny",
        "Action": "*",
        "Resource": "*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    kms_only = {
        "Effect": "Deny",
        "Action": "s3:PutObject",
        "Resource": "*",
        "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}},
    }
    mine = allow(
        "s3:PutObject",
        Condition={"StringEquals": {"aws:PrincipalArn": ROLE, "aws:PrincipalAccount": ACCOUNT}},
    )
    run = enforcer(tls_only, kms_only, mine, allow("kms:GenerateDataKey", KEY))

    run.authorize(
        SESSION,
        "s3",
        "put_object",
        {"Bucket": "b", "Key": "k", "ServerSideEncryption": "aws:kms", "SSEKMSKeyId": KEY},
    )
    message = denied(run, "s3", "put_object", Bucket="b", Key="k", ServerSideEncryption="AES256")

    assert message.endswith("with an explicit deny in an identity-based policy")


def test_a_service_principal_is_allowed_only_by_a_resource_policy_naming_it() -> None:
    invoke = allow(
        "lambda:InvokeFunction",
        FUNCTION,
        Principal={"Service": "events.amazonaws.com"},
        Condition={"ArnLike": {"aws:SourceArn": f"arn:aws:events:{REGION}:{ACCOUNT}:rule/nightly"}},
    )
    run = enforcer(resources={FUNCTION: ResourcePolicy(_policy(invoke, name="function policy"))})
    rule = {"aws:SourceArn": f"arn:aws:events:{REGION}:{ACCOUNT}:rule/nightly"}

    run.authorize_action("events.amazonaws.com", "lambda:InvokeFunction", FUNCTION, context=rule)
    with pytest.raises(AccessDeniedError):
        run.authorize_action(
            "events.amazonaws.com", "lambda:InvokeFunction", FUNCTION, context={"aws:SourceArn": "x"}
        )
    with pytest.raises(AccessDeniedError):
        run.authorize_action("sns.amazonaws.com", "lambda:InvokeFunction", FUNCTION, context=rule)


def test_an_integration_is_decided_as_the_state_machines_role() -> None:
    run = enforcer(allow("lambda:InvokeFunction", FUNCTION))

    run.authorize_integration(SESSION, "lambda:invoke", {"FunctionName": FUNCTION, "Payload": {}})
    with pytest.raises(AccessDeniedError):
        run.authorize_integration(SESSION, "sns:publish", {"TopicArn": TOPIC, "Message": "m"})


def test_an_unmapped_operation_fails_loudly() -> None:
    with pytest.raises(UnmappedOperationError, match=r"s3\.delete_bucket"):
        enforcer(allow("*")).authorize(SESSION, "s3", "delete_bucket", {"Bucket": "b"})


def test_usage_reports_what_was_used_and_the_statements_nothing_used() -> None:
    run = enforcer(
        allow("s3:GetObject", "arn:aws:s3:::data/in/*", Sid="Read"),
        allow("s3:PutObject", "arn:aws:s3:::data/out/*", Sid="Write"),
        allow(
            "s3:ListBucket",
            "arn:aws:s3:::data",
            Sid="ListOverTls",
            Condition={"Bool": {"aws:SecureTransport": "false"}},
        ),
        allow("s3:ListBucket", "arn:aws:s3:::data", Sid="List"),
        {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*", "Sid": "NeverDelete"},
    )
    run.authorize(SESSION, "s3", "get_object", {"Bucket": "data", "Key": "in/a"})
    run.authorize(SESSION, "s3", "get_object", {"Bucket": "data", "Key": "in/a"})
    run.authorize(SESSION, "s3", "list_objects_v2", {"Bucket": "data"})

    usage = run.usage()

    assert [u.role for u in usage.roles] == [ROLE]
    (role,) = usage.roles
    assert role.used == (("s3:GetObject", "arn:aws:s3:::data/in/a"), ("s3:ListBucket", "arn:aws:s3:::data"))
    assert [(u.statement, u.actions, u.resources) for u in role.unused] == [
        ("Write", ("s3:PutObject",), ("arn:aws:s3:::data/out/*",)),
        ("ListOverTls", ("s3:ListBucket",), ("arn:aws:s3:::data",)),
    ]
    assert usage.to_json()["roles"][0]["unused"][0] == {
        "policy": "worker-policy",
        "statement": "Write",
        "actions": ["s3:PutObject"],
        "resources": ["arn:aws:s3:::data/out/*"],
    }


def test_usage_lists_apart_the_statements_only_aws_exercises_and_keeps_the_mixed_ones_unused() -> None:
    # Given a role granted X-Ray's writes (tracing, off locally), and X-Ray with S3 in one statement
    run = enforcer(
        allow("s3:GetObject", "arn:aws:s3:::data/in/*", Sid="Read"),
        allow(["xray:PutTraceSegments", "xray:PutTelemetryRecords"], Sid="Tracing"),
        allow(["xray:PutTraceSegments", "s3:PutObject"], Sid="Mixed"),
    )
    run.authorize(SESSION, "s3", "get_object", {"Bucket": "data", "Key": "in/a"})

    (role,) = run.usage().roles

    # Then the X-Ray statement is not exercised locally, not unused; the mixed one is unused (its S3 part)
    assert [u.statement for u in role.not_exercised] == ["Tracing"]
    assert [u.statement for u in role.unused] == ["Mixed"]
    assert run.usage().to_json()["roles"][0]["not_exercised_locally"] == [
        {"policy": "worker-policy", "statement": "Tracing",
         "actions": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "resources": ["*"]}
    ]  # fmt: skip


def test_usage_lists_a_role_whose_every_request_was_denied() -> None:
    run = enforcer(allow("s3:PutObject", "arn:aws:s3:::data/out/*", Sid="Write"))
    denied(run, "s3", "get_object", Bucket="data", Key="in/a")

    (role,) = run.usage().roles

    assert (role.role, role.used, [u.statement for u in role.unused]) == (ROLE, (), ["Write"])


def test_a_disabled_enforcer_allows_everything_and_records_nothing() -> None:
    run = enforcer(enabled=False)

    run.authorize(SESSION, "s3", "get_object", {"Bucket": "data", "Key": "a"})
    run.authorize(SESSION, "s3", "no_such_operation", {})
    run.authorize_action(SESSION, "s3:GetObject", "arn:aws:s3:::data/a")
    run.authorize_integration(SESSION, "lambda:invoke", {"FunctionName": FUNCTION})

    assert (run.usage().roles, run.denials()) == ((), [])


def test_a_listing_is_decided_by_its_prefix() -> None:
    # AWS's s3:prefix condition key: the Prefix a ListObjects(V2) request names.
    one_key = allow(
        "s3:ListBucket", "arn:aws:s3:::assets", Condition={"StringEquals": {"s3:prefix": ["code.tar.gz"]}}
    )
    run = enforcer(one_key)

    run.authorize(SESSION, "s3", "list_objects_v2", {"Bucket": "assets", "Prefix": "code.tar.gz"})
    assert "s3:ListBucket" in denied(run, "s3", "list_objects_v2", Bucket="assets", Prefix="other/")
    assert "s3:ListBucket" in denied(run, "s3", "list_objects_v2", Bucket="assets")
