"""The local cloud's AWS APIs and events hand out the local cloud's clock, as the Lambda handlers read it.

On AWS a function and the services it calls share one time. Here handlers run at the clock
(``localcloud.awslambda.bootstrap``), so what the APIs stamp follows it too (``localcloud.moto_times``):
after the clock is moved six hours on, a Step Functions execution's dates and history, a model package's,
an endpoint configuration's and a model's ``CreationTime``, an alarm's ``StateUpdatedTimestamp``, a
metric datum's default timestamp, an EventBridge event's ``time``, an S3 notification's ``eventTime``, an
execution's status change event and SQS's ``SentTimestamp`` are the clock's, six hours ahead of the machine.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from localcloud import LocalCloud
from tests.iam_roles import create_role, let_service_send

pytestmark = pytest.mark.slow

AHEAD = timedelta(hours=6)
# A time is "the clock's" when within this of clock.now(): a busy machine between the call and the check.
TOLERANCE = timedelta(seconds=20)
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    """A local cloud whose clock has been moved six hours on."""
    with LocalCloud(work_dir=tmp_path_factory.mktemp("localcloud-times")) as running:
        running.clock.advance(AHEAD)
        yield running


def _assert_clocks(moment: datetime, cloud: LocalCloud) -> None:
    """``moment`` is the clock's time (not the machine's, six hours behind)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    assert abs(aware - cloud.clock.now()) < TOLERANCE, (aware, cloud.clock.now())


def _iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _queue(cloud: LocalCloud, name: str) -> tuple[str, str]:
    sqs = cloud.client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return str(url), str(arn)


def _receive(cloud: LocalCloud, url: str) -> dict[str, Any]:
    """The next message the queue gets (waiting up to a minute), with its attributes; deleted."""
    sqs = cloud.client("sqs")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        messages = sqs.receive_message(
            QueueUrl=url, WaitTimeSeconds=1, MaxNumberOfMessages=1, AttributeNames=["SentTimestamp"]
        ).get("Messages", [])
        if messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=messages[0]["ReceiptHandle"])
            return dict(messages[0])
        cloud.wait_idle()
    raise AssertionError(f"no message reached {url} within a minute")


def _rule_to_queue(cloud: LocalCloud, name: str, pattern: dict[str, Any]) -> str:
    """A default bus rule matching ``pattern`` whose target is a new queue: the queue's URL."""
    url, arn = _queue(cloud, name)
    rule_arn = cloud.client("events").put_rule(Name=name, EventPattern=json.dumps(pattern))["RuleArn"]
    let_service_send(cloud.client("sqs"), url, service="events.amazonaws.com", source_arn=rule_arn)
    cloud.client("events").put_targets(Rule=name, Targets=[{"Id": "queue", "Arn": arn}])
    return url


def test_a_step_functions_execution_is_dated_and_announced_by_the_clock(cloud: LocalCloud) -> None:
    # Given a state machine, and a rule sending its executions' status changes to a queue
    role = create_role(cloud.client("iam"), "times-machine", trusts="states.amazonaws.com", statements=[])
    definition = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}
    sfn = cloud.client("stepfunctions")
    machine = sfn.create_state_machine(name="times", definition=json.dumps(definition), roleArn=role)
    url = _rule_to_queue(cloud, "times-executions", {"source": ["aws.states"]})

    # When an execution runs to its end on the advanced clock
    execution = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], input="{}")["executionArn"]
    cloud.wait_idle()
    described = sfn.describe_execution(executionArn=execution)

    # Then its machine's creation, its start and its stop are the clock's times
    assert described["status"] == "SUCCEEDED"
    _assert_clocks(machine["creationDate"], cloud)
    _assert_clocks(described["startDate"], cloud)
    _assert_clocks(described["stopDate"], cloud)
    assert (
        sfn.list_executions(stateMachineArn=machine["stateMachineArn"])["executions"][0]["startDate"]
        == (described["startDate"])
    )
    # and so is every event of its history
    history = sfn.get_execution_history(executionArn=execution)["events"]
    assert history
    for event in history:
        _assert_clocks(event["timestamp"], cloud)
    # and its status change event says it ended at the clock's time, at its stop date
    message = _receive(cloud, url)
    event = json.loads(message["Body"])
    assert event["detail"]["status"] == "SUCCEEDED"
    _assert_clocks(_iso(event["time"]), cloud)
    stopped = datetime.fromtimestamp(event["detail"]["stopDate"] / 1000, UTC)
    assert abs(stopped - described["stopDate"]) < timedelta(seconds=1)
    _assert_clocks(datetime.fromtimestamp(int(message["Attributes"]["SentTimestamp"]) / 1000, UTC), cloud)


def test_sagemaker_resources_are_created_at_the_clocks_time(cloud: LocalCloud) -> None:
    # Given a bucket holding a model's archive, and a role SageMaker may assume
    cloud.client("s3").create_bucket(Bucket="times-models")
    cloud.client("s3").put_object(Bucket="times-models", Key="model.tar.gz", Body=b"archive")
    role = create_role(
        cloud.client("iam"), "times-sagemaker", trusts="sagemaker.amazonaws.com", statements=[]
    )
    sagemaker = cloud.client("sagemaker")
    container = {"Image": IMAGE, "ModelDataUrl": "s3://times-models/model.tar.gz"}

    # When a model package, a model and an endpoint configuration are created on the advanced clock
    sagemaker.create_model_package_group(ModelPackageGroupName="times")
    package = sagemaker.create_model_package(
        ModelPackageGroupName="times",
        ModelApprovalStatus="PendingManualApproval",
        InferenceSpecification={
            "Containers": [container],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["application/json"],
        },
    )["ModelPackageArn"]
    sagemaker.create_model(ModelName="times", PrimaryContainer=container, ExecutionRoleArn=role)
    sagemaker.create_endpoint_config(
        EndpointConfigName="times",
        ProductionVariants=[
            {
                "VariantName": "main",
                "ModelName": "times",
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 1,
            }
        ],
    )

    # Then each is created at the clock's time, and listed so
    _assert_clocks(sagemaker.describe_model_package(ModelPackageName=package)["CreationTime"], cloud)
    listed = sagemaker.list_model_packages(ModelPackageGroupName="times")["ModelPackageSummaryList"]
    _assert_clocks(listed[0]["CreationTime"], cloud)
    _assert_clocks(sagemaker.describe_model(ModelName="times")["CreationTime"], cloud)
    _assert_clocks(sagemaker.describe_endpoint_config(EndpointConfigName="times")["CreationTime"], cloud)


def test_an_alarm_and_a_metric_datum_are_timed_by_the_clock(cloud: LocalCloud) -> None:
    # Given an alarm on a metric
    cloudwatch = cloud.client("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName="times", Namespace="Times", MetricName="Reading", Statistic="Maximum", Period=60,
        EvaluationPeriods=1, Threshold=1.0, ComparisonOperator="GreaterThanThreshold",
    )  # fmt: skip
    created = cloudwatch.describe_alarms(AlarmNames=["times"])["MetricAlarms"][0]

    # When a datum is put without a timestamp and the alarm's state is set
    cloudwatch.put_metric_data(Namespace="Times", MetricData=[{"MetricName": "Reading", "Value": 5.0}])
    cloudwatch.set_alarm_state(AlarmName="times", StateValue="ALARM", StateReason="a test sets it")
    alarm = cloudwatch.describe_alarms(AlarmNames=["times"])["MetricAlarms"][0]

    # Then the alarm's configuration and state were updated at the clock's times
    _assert_clocks(created["AlarmConfigurationUpdatedTimestamp"], cloud)
    _assert_clocks(alarm["StateUpdatedTimestamp"], cloud)
    # and the datum is found at the clock's now, not six hours back
    now = cloud.clock.now()
    statistics = cloudwatch.get_metric_statistics(
        Namespace="Times", MetricName="Reading", StartTime=now - timedelta(minutes=5),
        EndTime=now + timedelta(minutes=1), Period=60, Statistics=["Maximum"],
    )["Datapoints"]  # fmt: skip
    assert [point["Maximum"] for point in statistics] == [5.0]
    _assert_clocks(statistics[0]["Timestamp"], cloud)


def test_an_event_put_without_a_time_is_delivered_with_the_clocks_time(cloud: LocalCloud) -> None:
    # Given a rule sending an application's events to a queue
    url = _rule_to_queue(cloud, "times-events", {"source": ["times.test"]})

    # When the application puts an event without a Time on the advanced clock
    entry = {"Source": "times.test", "DetailType": "Reading", "Detail": json.dumps({"n": 1})}
    assert cloud.client("events").put_events(Entries=[entry])["FailedEntryCount"] == 0

    # Then the queue gets it with the clock's time, sent at the clock's time
    message = _receive(cloud, url)
    _assert_clocks(_iso(json.loads(message["Body"])["time"]), cloud)
    _assert_clocks(datetime.fromtimestamp(int(message["Attributes"]["SentTimestamp"]) / 1000, UTC), cloud)


def test_an_s3_notification_carries_the_clocks_event_time(cloud: LocalCloud) -> None:
    # Given a bucket notifying a queue of the objects created in it
    url, arn = _queue(cloud, "times-objects")
    s3 = cloud.client("s3")
    s3.create_bucket(Bucket="times-uploads")
    let_service_send(
        cloud.client("sqs"), url, service="s3.amazonaws.com", source_arn="arn:aws:s3:::times-uploads"
    )
    s3.put_bucket_notification_configuration(
        Bucket="times-uploads",
        NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]
        },
    )

    # When an object is put on the advanced clock
    s3.put_object(Bucket="times-uploads", Key="readings.csv", Body=b"n\n1\n")

    # Then the notification's eventTime and the object's LastModified are the clock's
    body = json.loads(_receive(cloud, url)["Body"])
    if "Records" not in body:  # S3's test event when the notification was set, then the object's
        body = json.loads(_receive(cloud, url)["Body"])
    record = body["Records"][0]
    assert record["s3"]["object"]["key"] == "readings.csv"
    _assert_clocks(_iso(record["eventTime"]), cloud)
    _assert_clocks(s3.head_object(Bucket="times-uploads", Key="readings.csv")["LastModified"], cloud)
