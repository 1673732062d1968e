"""The KMS keys of encrypted resources, read from moto's backends as boto3 configured them."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from localcloud.iam.encryption_keys import MotoKeys

ACCOUNT, REGION = "123456789012", "us-east-1"


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[MotoKeys]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        yield MotoKeys(ACCOUNT, REGION)


def test_objects_and_buckets_name_their_sse_kms_key(keys: MotoKeys) -> None:
    s3 = boto3.client("s3")
    key = boto3.client("kms").create_key()["KeyMetadata"]
    s3.create_bucket(Bucket="sealed")
    s3.create_bucket(Bucket="plain")
    rule = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key["KeyId"]}}
    s3.put_bucket_encryption(Bucket="sealed", ServerSideEncryptionConfiguration={"Rules": [rule]})
    s3.put_object(Bucket="sealed", Key="by-default", Body=b"x")
    s3.put_object(Bucket="plain", Key="aes", Body=b"x", ServerSideEncryption="AES256")

    assert keys.bucket_key("sealed") == key["KeyId"]
    assert keys.object_key("sealed", "by-default") == key["KeyId"]
    assert (keys.bucket_key("plain"), keys.object_key("plain", "aes"), keys.object_key("plain", "none")) == (
        None,
        None,
        None,
    )


def test_topics_and_queues_name_their_key_and_any_name_of_a_key_is_its_arn(keys: MotoKeys) -> None:
    kms = boto3.client("kms")
    key = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName="alias/data", TargetKeyId=key["KeyId"])
    topic = boto3.client("sns").create_topic(Name="alerts", Attributes={"KmsMasterKeyId": "alias/data"})[
        "TopicArn"
    ]
    plain = boto3.client("sns").create_topic(Name="plain")["TopicArn"]
    sqs = boto3.client("sqs")
    queue = sqs.create_queue(QueueName="jobs", Attributes={"KmsMasterKeyId": key["KeyId"]})["QueueUrl"]
    owned = sqs.create_queue(QueueName="owned", Attributes={"SqsManagedSseEnabled": "true"})["QueueUrl"]

    assert (keys.topic_key(topic), keys.topic_key(plain)) == ("alias/data", None)
    assert (keys.queue_key(queue), keys.queue_key(owned)) == (key["KeyId"], None)
    alias_arn = f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/data"
    assert {keys.key_arn(name) for name in (key["KeyId"], key["Arn"], "alias/data", alias_arn)} == {
        key["Arn"]
    }
    assert keys.key_arn("missing") == f"arn:aws:kms:{REGION}:{ACCOUNT}:key/missing"
