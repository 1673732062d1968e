"""S3's size limits and SNS's Publish checks, in the local cloud and met by the platform's adapters.

moto stores a PutObject of any size, copies any size in one CopyObject, and takes a 100-character SNS
subject, a line break in one, or a message of 256 KiB of characters that is more in bytes. The local
cloud refuses them as AWS does; the adapters write large objects in parts and publish subjects SNS takes.

No test sends 5 GB: the limits are module constants (``localcloud.s3_limits``, ``adapters.s3_objects``),
lowered for one test with ``monkeypatch``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from adapters import aws, s3_objects
from adapters.artifacts import ArtifactError, S3ArtifactStore
from adapters.notify import AlertTopic
from adapters.storage import S3DatasetStore, StorageError
from domain.alerts import subject_problem
from domain.training import artifacts as run_artifacts
from localcloud import LocalCloud, s3_limits
from tests.iam_roles import let_service_send

pytestmark = [pytest.mark.slow]

MIB = 1024**2
BUCKET = "limits"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    with LocalCloud(work_dir=tmp_path_factory.mktemp("localcloud-storage-limits")) as running:
        running.client("s3").create_bucket(Bucket=BUCKET)
        yield running


@pytest.fixture
def platform(cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalCloud]:
    """The platform's adapters pointed at the local cloud (their clients made again for it)."""
    for name, value in cloud.env().items():
        monkeypatch.setenv(name, value)
    aws.client.cache_clear()
    yield cloud
    aws.client.cache_clear()


@pytest.fixture
def small_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """S3's 5 GB single-request limit as 6 MiB on both sides, and 5 MiB parts (S3's smallest)."""
    monkeypatch.setattr(s3_limits, "MAX_SINGLE_REQUEST_BYTES", 6 * MIB)
    monkeypatch.setattr(s3_objects, "MAX_SINGLE_REQUEST_BYTES", 6 * MIB)
    monkeypatch.setattr(s3_objects, "PART_BYTES", 5 * MIB)


def refusal(call: Callable[[], Any]) -> tuple[int, str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    response: Any = caught.value.response
    return (
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Code"],
        response["Error"]["Message"],
    )


def test_a_put_or_a_part_past_the_single_request_limit_is_entity_too_large(
    cloud: LocalCloud, small_limits: None
) -> None:
    s3 = cloud.client("s3")
    body = bytes(6 * MIB + 1)

    assert refusal(lambda: s3.put_object(Bucket=BUCKET, Key="big", Body=body))[:2] == (400, "EntityTooLarge")
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key="parts")["UploadId"]
    part = lambda number, data: s3.upload_part(  # noqa: E731
        Bucket=BUCKET, Key="parts", UploadId=upload, PartNumber=number, Body=data
    )
    assert refusal(lambda: part(1, body))[:2] == (400, "EntityTooLarge")
    assert refusal(lambda: part(10_001, b"x"))[1] == "InvalidArgument"
    assert refusal(lambda: part(0, b"x"))[1] == "InvalidArgument"
    s3.abort_multipart_upload(Bucket=BUCKET, Key="parts", UploadId=upload)


def test_a_part_under_5_mib_but_the_last_is_entity_too_small_at_completion(cloud: LocalCloud) -> None:
    # moto's own check, kept
    s3 = cloud.client("s3")
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key="small-parts")["UploadId"]
    parts = [
        {"PartNumber": n, "ETag": s3.upload_part(
            Bucket=BUCKET, Key="small-parts", UploadId=upload, PartNumber=n, Body=b"x" * 1024)["ETag"]}
        for n in (1, 2)
    ]  # fmt: skip

    code = refusal(
        lambda: s3.complete_multipart_upload(
            Bucket=BUCKET, Key="small-parts", UploadId=upload, MultipartUpload={"Parts": parts}
        )
    )[1]
    assert code == "EntityTooSmall"
    s3.abort_multipart_upload(Bucket=BUCKET, Key="small-parts", UploadId=upload)


def test_a_copy_of_a_source_past_the_limit_is_refused_in_one_request_and_done_in_parts(
    platform: LocalCloud, small_limits: None
) -> None:
    s3 = platform.client("s3")
    body = bytes(range(256)) * (13 * MIB // 256)
    S3DatasetStore(BUCKET).put_if_absent("source", body, "application/octet-stream")

    status, code, message = refusal(
        lambda: s3.copy_object(Bucket=BUCKET, Key="copy", CopySource={"Bucket": BUCKET, "Key": "source"})
    )
    assert (status, code) == (400, "InvalidRequest")
    assert message.endswith(f"maximum allowable size for a copy source: {6 * MIB}")
    s3_objects.copy_object(BUCKET, "source", BUCKET, "copy")
    assert s3.get_object(Bucket=BUCKET, Key="copy")["Body"].read() == body


def test_a_snapshot_past_the_single_request_limit_is_written_in_parts_once(
    platform: LocalCloud, small_limits: None
) -> None:
    # Given a snapshot larger than one PutObject may carry
    store, s3 = S3DatasetStore(BUCKET), platform.client("s3")
    first, second = bytes(13 * MIB), b"\x01" * (13 * MIB)
    # When it is written twice (a retried invocation), the first write wins, the second writes nothing
    assert (
        store.put_if_absent("datasets/sales/v/data.parquet", first, "application/vnd.apache.parquet") is True
    )
    assert (
        store.put_if_absent("datasets/sales/v/data.parquet", second, "application/vnd.apache.parquet")
        is False
    )
    stored = s3.get_object(Bucket=BUCKET, Key="datasets/sales/v/data.parquet")
    assert stored["Body"].read() == first and stored["ETag"].endswith('-3"')  # 5 + 5 + 3 MiB
    # and no multipart upload is left behind to be stored (and billed) for good
    left = s3.list_multipart_uploads(Bucket=BUCKET, Prefix="datasets/").get("Uploads", [])
    assert left == []


def test_an_object_written_in_parts_keeps_its_metadata(platform: LocalCloud, small_limits: None) -> None:
    # Given a retraining upload larger than one PutObject may carry, with the decision in its metadata
    body = b"\x02" * (7 * MIB)
    # When it is written / Then it is one object, in parts, with its type and metadata
    assert s3_objects.put_if_absent(BUCKET, "big.parquet", body, "application/vnd.apache.parquet",
                                    metadata={"mlops-decision": "drift-1"})  # fmt: skip
    head = platform.client("s3").head_object(Bucket=BUCKET, Key="big.parquet")
    assert head["ETag"].endswith('-2"') and head["ContentType"] == "application/vnd.apache.parquet"
    assert head["Metadata"] == {"mlops-decision": "drift-1"}


def test_a_json_document_past_what_a_function_reads_into_memory_is_refused_unread(
    platform: LocalCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The limit is a module constant (16 MiB): lowered here so that the test needs no large document.
    monkeypatch.setattr(run_artifacts, "MAX_DOCUMENT_BYTES", 1000)
    platform.client("s3").put_object(Bucket=BUCKET, Key="runs/big.json", Body=json.dumps({"x": "y" * 2000}))
    platform.client("s3").put_object(Bucket=BUCKET, Key="runs/small.json", Body=b'{"x": 1}')

    with pytest.raises(
        ArtifactError, match=r"s3://limits/runs/big\.json is 2,\d{3} bytes, more than the 1,000"
    ):
        S3ArtifactStore(BUCKET).read_json(f"s3://{BUCKET}/runs/big.json")
    with pytest.raises(StorageError, match=r"s3://limits/runs/big\.json is 2,\d{3} bytes"):
        S3DatasetStore(BUCKET).read_json("runs/big.json")
    assert S3ArtifactStore(BUCKET).read_json(f"s3://{BUCKET}/runs/small.json") == {"x": 1}


@pytest.fixture
def topic(platform: LocalCloud) -> tuple[str, str]:
    sns, sqs = platform.client("sns"), platform.client("sqs")
    name = f"alerts-{uuid.uuid4().hex[:8]}"
    arn = sns.create_topic(Name=name)["TopicArn"]
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    let_service_send(sqs, url, service="sns.amazonaws.com", source_arn=arn)
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn)
    return arn, url


@pytest.mark.parametrize(
    ("subject", "message"),
    [
        ("x" * 100, "m"),  # SNS: fewer than 100 characters (moto takes 100)
        ("two\nlines", "m"),
        ("tab\there", "m"),
        ("", "m"),
        ("fine", ""),
        ("fine", "é" * (128 * 1024 + 1)),  # fewer characters than 256 Ki, more bytes
    ],
)
def test_sns_refuses_what_publish_does_not_take(
    platform: LocalCloud, topic: tuple[str, str], subject: str, message: str
) -> None:
    sns = platform.client("sns")

    status, code, _ = refusal(lambda: sns.publish(TopicArn=topic[0], Subject=subject, Message=message))

    assert (status, code) == (400, "InvalidParameter")


def test_message_attributes_count_toward_the_message_size(
    platform: LocalCloud, topic: tuple[str, str]
) -> None:
    sns = platform.client("sns")
    attributes = {"note": {"DataType": "String", "StringValue": "a" * 1024}}

    code = refusal(
        lambda: sns.publish(
            TopicArn=topic[0], Message="m" * (256 * 1024 - 1000), MessageAttributes=attributes
        )
    )[1]
    assert code == "InvalidParameter"
    sns.publish(
        TopicArn=topic[0], Subject="x" * 99, Message="m" * (256 * 1024 - 2000), MessageAttributes=attributes
    )


@pytest.mark.parametrize("name", ["AWS.trace", "two..dots", ".leading", "with space"])
def test_a_message_attribute_name_sns_reserves_or_refuses_is_invalid_parameter(
    platform: LocalCloud, topic: tuple[str, str], name: str
) -> None:
    attributes = {name: {"DataType": "String", "StringValue": "v"}}

    code = refusal(
        lambda: platform.client("sns").publish(TopicArn=topic[0], Message="m", MessageAttributes=attributes)
    )[1]

    assert code == "InvalidParameter"


def test_an_alert_about_any_file_name_is_published_with_a_subject_sns_takes(
    platform: LocalCloud, topic: tuple[str, str]
) -> None:
    # Given a file name past 100 characters, with a line break and accents in it
    name = "incoming/ventes/" + "export-trimestriel-" * 6 + "été\n2026.csv"
    # When the platform alerts about it
    AlertTopic(topic[0]).alert(f"Dataset upload rejected: {name}", f"{name} was rejected")
    # Then SNS took it, and its subject is one readable line under 100 characters
    received = platform.client("sqs").receive_message(QueueUrl=topic[1], WaitTimeSeconds=1)["Messages"]
    subject = json.loads(received[0]["Body"])["Subject"]
    assert subject_problem(subject) is None
    assert subject.startswith("Dataset upload rejected: incoming/ventes/export-")
    assert subject.endswith("ete 2026.csv")
