"""Events in the local cloud: S3 → EventBridge in AWS's format, EventBridge → Lambda asynchronously.

The recorder function stores every event it receives, so each test reads back what a handler on AWS
would have been given.
"""

from __future__ import annotations

import io
import json
import random
import re
from collections.abc import Iterator
from urllib.parse import unquote_plus

import pytest
from boto3.s3.transfer import TransferConfig

from tests.iam_roles import let_service_send
from tests.integration.localcloud_fixtures.app import ECHO_DETAIL_TYPE, FAIL_DETAIL_TYPE, SLEEP_DETAIL_TYPE
from tests.integration.localcloud_fixtures.support import Deployment, deployed_fixture

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:Tried to parse:UserWarning")]

ISO_8601_SECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    yield from deployed_fixture(tmp_path_factory, "localcloud-events")


def put_event(deployed: Deployment, detail_type: str, detail: dict[str, object]) -> None:
    response = deployed.cloud.client("events").put_events(
        Entries=[
            {
                "Source": "localcloud.tests",
                "DetailType": detail_type,
                "Detail": json.dumps(detail),
                "EventBusName": deployed.data["BusName"],
            }
        ]
    )
    assert response["FailedEntryCount"] == 0


def test_an_upload_reaches_the_function_as_aws_s3_object_created(deployed: Deployment) -> None:
    # Given a key with spaces, a plus sign and non-ASCII characters
    s3, bucket = deployed.cloud.client("s3"), deployed.data["BucketName"]
    key = "incoming/my data/Ünïcode file + more.csv"

    # When it is uploaded under the prefix the rule matches
    put = s3.put_object(Bucket=bucket, Key=key, Body=b"a,b\n1,2\n")
    deployed.cloud.wait_idle(timeout=30)

    # Then the function got one event shaped as S3 sends it to EventBridge
    (record,) = [r for r in deployed.recorded_events() if r["event"].get("source") == "aws.s3"]
    event = record["event"]
    assert set(event) == {
        "version",
        "id",
        "detail-type",
        "source",
        "account",
        "time",
        "region",
        "resources",
        "detail",
    }
    assert (event["detail-type"], event["account"], event["region"]) == (
        "Object Created",
        "123456789012",
        "us-east-1",
    )
    assert event["resources"] == [f"arn:aws:s3:::{bucket}"]
    assert ISO_8601_SECONDS.match(event["time"])
    detail = event["detail"]
    assert (detail["version"], detail["bucket"], detail["reason"]) == ("0", {"name": bucket}, "PutObject")
    assert detail["object"]["key"] == "incoming/my+data/%C3%9Cn%C3%AFcode+file+%2B+more.csv"
    assert unquote_plus(detail["object"]["key"]) == key
    assert detail["object"]["size"] == 8
    assert detail["object"]["etag"] == put["ETag"].strip('"')
    assert detail["object"]["version-id"] == put["VersionId"]
    assert re.fullmatch(r"[0-9A-F]+", detail["object"]["sequencer"])
    assert detail["requester"] == "123456789012"
    (invocation,) = [i for i in deployed.cloud.invocations() if i.request_id == record["request_id"]]
    assert (invocation.invocation_type, invocation.error_type) == ("Event", None)


def test_a_multipart_upload_sends_one_complete_multipart_upload_event(deployed: Deployment) -> None:
    # Given a file big enough for boto3 to upload it in parts
    s3, bucket = deployed.cloud.client("s3"), deployed.data["BucketName"]
    key = "incoming/multipart/big.csv"
    config = TransferConfig(multipart_threshold=5 * 2**20, multipart_chunksize=5 * 2**20)
    s3.upload_fileobj(io.BytesIO(b"a,b\n" + b"1,2\n" * (3 * 2**20)), bucket, key, Config=config)
    deployed.cloud.wait_idle(timeout=30)

    # Then the function got one event for it, as S3 sends: no extra "PutObject" from inside the completion
    received = [
        r["event"]["detail"]
        for r in deployed.recorded_events()
        if r["event"].get("source") == "aws.s3" and unquote_plus(r["event"]["detail"]["object"]["key"]) == key
    ]
    assert [d["reason"] for d in received] == ["CompleteMultipartUpload"]
    assert received[0]["object"]["etag"].endswith("-3")  # a multipart ETag: three parts


def test_bytes_that_are_not_utf8_are_stored_byte_for_byte_by_put_and_multipart_upload(
    deployed: Deployment,
) -> None:
    # Given random bytes (not UTF-8), small and big enough for boto3 to upload in parts
    s3, bucket = deployed.cloud.client("s3"), deployed.data["BucketName"]
    small = b"\xff\xfe\x00bad" + random.Random(1).randbytes(1024)
    big = random.Random(2).randbytes(11 * 2**20)
    config = TransferConfig(multipart_threshold=5 * 2**20, multipart_chunksize=5 * 2**20)

    # When they are uploaded outside the rules' prefixes, by PutObject and by a multipart upload
    s3.put_object(Bucket=bucket, Key="elsewhere/small.bin", Body=small)
    s3.upload_fileobj(io.BytesIO(big), bucket, "elsewhere/big.bin", Config=config)

    # Then both read back exactly as sent
    assert s3.get_object(Bucket=bucket, Key="elsewhere/small.bin")["Body"].read() == small
    stored = s3.get_object(Bucket=bucket, Key="elsewhere/big.bin")
    assert stored["ETag"].endswith('-3"')  # it went in three parts
    assert stored["Body"].read() == big


def test_an_upload_outside_the_rule_prefix_is_not_delivered(deployed: Deployment) -> None:
    before = len(deployed.cloud.deliveries())

    deployed.cloud.client("s3").put_object(
        Bucket=deployed.data["BucketName"], Key="elsewhere/a.csv", Body=b"x"
    )
    deployed.cloud.wait_idle(timeout=30)

    assert len(deployed.cloud.deliveries()) == before


def test_the_same_event_twice_is_delivered_twice(deployed: Deployment) -> None:
    # Idempotency is the handler's business: EventBridge delivers at least once, and so does the local cloud.
    put_event(deployed, ECHO_DETAIL_TYPE, {"upload": "same"})
    put_event(deployed, ECHO_DETAIL_TYPE, {"upload": "same"})
    deployed.cloud.wait_idle(timeout=30)

    received = [
        r["event"] for r in deployed.recorded_events() if r["event"].get("detail") == {"upload": "same"}
    ]
    assert len(received) == 2
    assert {e["detail-type"] for e in received} == {ECHO_DETAIL_TYPE}
    assert received[0]["id"] != received[1]["id"]


def test_a_failing_target_is_retried_twice_then_recorded_as_failed(deployed: Deployment) -> None:
    failing = deployed.functions["FailingName"]

    put_event(deployed, FAIL_DETAIL_TYPE, {"attempt": "retries"})
    deployed.cloud.wait_idle(timeout=30)

    (delivery,) = [d for d in deployed.cloud.deliveries() if d.function_arn.endswith(f":function:{failing}")]
    assert delivery.status == "failed"
    assert len(delivery.request_ids) == 3  # the first attempt and AWS's two retries
    assert delivery.error is not None and delivery.error.startswith("FixtureFailureError")
    attempts = [i for i in deployed.cloud.invocations(failing) if i.request_id in delivery.request_ids]
    assert [i.error_type for i in attempts] == ["FixtureFailureError"] * 3
    messages = deployed.log_messages(failing)
    assert messages.count("failing on purpose: the fixture fails") == 3
    assert "[ERROR] FixtureFailureError: the fixture fails" in messages


def test_a_target_that_times_out_is_killed_and_retried(deployed: Deployment) -> None:
    sleeper = deployed.functions["SleeperName"]

    # The whole event is the payload: it has no "seconds" key, so the handler sleeps past its 1 s timeout.
    put_event(deployed, SLEEP_DETAIL_TYPE, {"reason": "too slow"})
    deployed.cloud.wait_idle(timeout=60)

    (delivery,) = [d for d in deployed.cloud.deliveries() if d.function_arn.endswith(f":function:{sleeper}")]
    assert (delivery.status, len(delivery.request_ids)) == ("failed", 3)
    assert {i.error_type for i in deployed.cloud.invocations(sleeper)} == {"Sandbox.Timedout"}


def test_a_rule_without_invoke_permission_does_not_reach_the_function(deployed: Deployment) -> None:
    # Given a rule added by hand, with no lambda:InvokeFunction permission for it, and a dead-letter queue
    events, recorder = deployed.cloud.client("events"), deployed.functions["RecorderName"]
    recorder_arn = deployed.cloud.client("lambda").get_function(FunctionName=recorder)["Configuration"][
        "FunctionArn"
    ]
    sqs = deployed.cloud.client("sqs")
    queue_url = sqs.create_queue(QueueName="unpermitted-dlq")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    rule_arn = events.put_rule(
        Name="unpermitted",
        EventBusName=deployed.data["BusName"],
        EventPattern='{"detail-type": ["unpermitted"]}',
    )["RuleArn"]
    # The dead-letter queue lets EventBridge send for the rule, as AWS requires (and CDK writes).
    let_service_send(sqs, queue_url, service="events.amazonaws.com", source_arn=rule_arn)
    events.put_targets(
        Rule="unpermitted",
        EventBusName=deployed.data["BusName"],
        Targets=[{"Id": "recorder", "Arn": recorder_arn, "DeadLetterConfig": {"Arn": queue_arn}}],
    )

    # When an event matches it
    put_event(deployed, "unpermitted", {"n": 1})
    deployed.cloud.wait_idle(timeout=30)

    # Then the delivery fails as on AWS, the function never ran, and the event is in the dead-letter queue
    (delivery,) = [d for d in deployed.cloud.deliveries() if d.source.endswith("/unpermitted")]
    assert (
        delivery.status == "failed"
        and delivery.error is not None
        and delivery.error.startswith("AccessDenied")
    )
    assert not [r for r in deployed.recorded_events() if r["event"].get("detail-type") == "unpermitted"]
    (message,) = sqs.receive_message(QueueUrl=queue_url, MessageAttributeNames=["All"])["Messages"]
    assert json.loads(message["Body"])["detail"] == {"n": 1}
    assert message["MessageAttributes"]["ERROR_CODE"]["StringValue"] == "AccessDenied"
    assert message["MessageAttributes"]["TARGET_ARN"]["StringValue"] == recorder_arn


def test_a_target_input_transformer_shapes_what_the_function_gets(deployed: Deployment) -> None:
    # Given a rule whose target rewrites the event, and the permission for it
    events, recorder = deployed.cloud.client("events"), deployed.functions["RecorderName"]
    recorder_arn = deployed.cloud.client("lambda").get_function(FunctionName=recorder)["Configuration"][
        "FunctionArn"
    ]
    rule_arn = events.put_rule(
        Name="transformed",
        EventBusName=deployed.data["BusName"],
        EventPattern='{"detail-type": ["transformed"]}',
    )["RuleArn"]
    deployed.cloud.client("lambda").add_permission(
        FunctionName=recorder,
        StatementId="transformed",
        Action="lambda:InvokeFunction",
        Principal="events.amazonaws.com",
        SourceArn=rule_arn,
    )
    transformer = {
        "InputPathsMap": {"name": "$.detail.name"},
        "InputTemplate": '{"id": "transformed", "who": <name>}',
    }
    events.put_targets(
        Rule="transformed",
        EventBusName=deployed.data["BusName"],
        Targets=[{"Id": "recorder", "Arn": recorder_arn, "InputTransformer": transformer}],
    )

    # When an event matches it
    put_event(deployed, "transformed", {"name": "Ada"})
    deployed.cloud.wait_idle(timeout=30)

    # Then the function got the transformed input, not the event
    assert [r["event"] for r in deployed.recorded_events() if r["event"].get("id") == "transformed"] == [
        {"id": "transformed", "who": "Ada"}
    ]


def test_wait_idle_raises_while_work_is_still_in_flight(deployed: Deployment) -> None:
    deployed.cloud.client("lambda").invoke(
        FunctionName=deployed.functions["SleeperName"], InvocationType="Event", Payload=b'{"seconds": 1}'
    )

    with pytest.raises(TimeoutError):
        deployed.cloud.wait_idle(timeout=0.1)
    deployed.cloud.wait_idle(timeout=30)
