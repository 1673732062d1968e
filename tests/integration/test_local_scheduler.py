"""EventBridge Scheduler in the local cloud: schedules deployed through CloudFormation, and fired.

moto's CloudFormation skips ``AWS::Scheduler::Schedule`` and ``AWS::Scheduler::ScheduleGroup``; the local
cloud adds models for them (``localcloud/deploy/scheduler_cfn``). The template is hand-written, as CDK's
``aws_scheduler.Schedule`` with a ``LambdaInvoke`` target writes one, with a CloudWatch dashboard beside
it (the monitoring stack deploys both). moto never fires a schedule: the local cloud does, on its clock
(``localcloud/scheduler``), as the schedule's role, decided by the IAM evaluator.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from localcloud import LocalCloud
from localcloud.scheduler.firing import ScheduleFiring
from tests.integration.localcloud_fixtures.monitoring import (
    python_function,
    received,
    scheduler_role,
    wait_for,
)
from tests.integration.localcloud_fixtures.support import one_stack_assembly

pytestmark = pytest.mark.slow

STACK = "scheduler-fixture"
ACCOUNT, REGION = "123456789012", "us-east-1"
TARGET = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:drift-monitor"
INPUT = '{"dataset":"churn","scheduled_time":"<aws.scheduler.scheduled-time>"}'

TEMPLATE: dict[str, Any] = {
    "Resources": {
        "SchedulerRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "scheduler.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            },
        },
        "Hourly": {
            "Type": "AWS::Scheduler::Schedule",
            "Properties": {
                "FlexibleTimeWindow": {"Mode": "OFF"},
                "ScheduleExpression": "rate(1 hour)",
                "ScheduleExpressionTimezone": "Etc/UTC",
                "State": "ENABLED",
                "Target": {
                    "Arn": TARGET,
                    "Input": INPUT,
                    "RetryPolicy": {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185},
                    "RoleArn": {"Fn::GetAtt": ["SchedulerRole", "Arn"]},
                },
            },
        },
        "Nightly": {
            "Type": "AWS::Scheduler::Schedule",
            "Properties": {
                "Name": "nightly",
                "GroupName": {"Ref": "Group"},
                "FlexibleTimeWindow": {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": "15"},
                "ScheduleExpression": "cron(0 2 * * ? *)",
                "ScheduleExpressionTimezone": "Europe/Paris",
                "Target": {"Arn": TARGET, "RoleArn": {"Fn::GetAtt": ["SchedulerRole", "Arn"]}},
            },
        },
        "Group": {
            "Type": "AWS::Scheduler::ScheduleGroup",
            "Properties": {"Name": "monitoring", "Tags": [{"Key": "project", "Value": "mlops"}]},
        },
        "DriftAlarm": {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "Namespace": "MLOpsPlatform",
                "MetricName": "Drift",
                "Dimensions": [{"Name": "EndpointName", "Value": "churn"}],
                "Statistic": "Maximum",
                "Period": 3600,
                "EvaluationPeriods": 3,
                "DatapointsToAlarm": 2,
                "Threshold": 1,
                "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                "TreatMissingData": "notBreaching",
            },
        },
        "Dashboard": {
            "Type": "AWS::CloudWatch::Dashboard",
            "Properties": {
                "DashboardName": "mlops-churn",
                "DashboardBody": {
                    "Fn::Join": [
                        "",
                        [
                            '{"widgets":[{"type":"alarm","properties":{"region":"',
                            {"Ref": "AWS::Region"},
                            '","alarms":["',
                            {"Fn::GetAtt": ["DriftAlarm", "Arn"]},
                            '"]}}]}',
                        ],
                    ]
                },
            },
        },
    }
}


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    with LocalCloud(region=REGION, account_id=ACCOUNT, work_dir=tmp_path_factory.mktemp("work")) as started:
        started.deploy(one_stack_assembly(tmp_path_factory.mktemp("out") / "v1.out", STACK, TEMPLATE))
        yield started


def test_a_deployed_schedule_has_its_template_definition(cloud: LocalCloud) -> None:
    # Given the stack deployed: When the default group's schedules are listed
    scheduler = cloud.client("scheduler")
    (listed,) = scheduler.list_schedules(NamePrefix=f"{STACK}-Hourly-")["Schedules"]

    # Then the unnamed schedule has a CloudFormation-style name and the template's definition
    assert listed["Name"].startswith(f"{STACK}-Hourly-")
    schedule = scheduler.get_schedule(Name=listed["Name"])
    assert schedule["ScheduleExpression"] == "rate(1 hour)"
    assert schedule["ScheduleExpressionTimezone"] == "Etc/UTC"
    assert schedule["State"] == "ENABLED"
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert schedule["Target"]["Arn"] == TARGET
    assert schedule["Target"]["Input"] == INPUT
    assert schedule["Target"]["RoleArn"].startswith(f"arn:aws:iam::{ACCOUNT}:role/")
    assert schedule["Target"]["RetryPolicy"] == {
        "MaximumEventAgeInSeconds": 86400,
        "MaximumRetryAttempts": 185,
    }


def test_a_schedule_of_a_group_is_created_in_that_group(cloud: LocalCloud) -> None:
    # Given the stack deployed (the group comes after the schedule in the template)
    scheduler = cloud.client("scheduler")

    # When the group's schedule is read
    schedule = scheduler.get_schedule(Name="nightly", GroupName="monitoring")

    # Then it is there with its window and timezone, and the group carries its tags
    assert schedule["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15}
    assert schedule["ScheduleExpressionTimezone"] == "Europe/Paris"
    group = scheduler.get_schedule_group(Name="monitoring")
    tags = scheduler.list_tags_for_resource(ResourceArn=group["Arn"])["Tags"]
    assert tags == [{"Key": "project", "Value": "mlops"}]


def test_the_dashboard_is_deployed_with_its_body_resolved_and_the_alarm_it_shows(cloud: LocalCloud) -> None:
    # Given the stack deployed: When the dashboard and the alarm it refers to (Fn::GetAtt Arn) are read
    cloudwatch = cloud.client("cloudwatch")
    body = cloudwatch.get_dashboard(DashboardName="mlops-churn")["DashboardBody"]
    (alarm,) = cloudwatch.describe_alarms(AlarmNamePrefix=f"{STACK}-DriftAlarm-")["MetricAlarms"]

    # Then its body is the template's, with the region and the alarm's ARN resolved
    widget = {"type": "alarm", "properties": {"region": REGION, "alarms": [alarm["AlarmArn"]]}}
    assert json.loads(body) == {"widgets": [widget]}
    assert alarm["AlarmArn"] == f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{alarm['AlarmName']}"


def test_a_redeploy_updates_the_schedule_in_place(cloud: LocalCloud, tmp_path: Path) -> None:
    # Given the template with the hourly schedule disabled and every 30 minutes
    template = copy.deepcopy(TEMPLATE)
    hourly = template["Resources"]["Hourly"]["Properties"]
    hourly["ScheduleExpression"], hourly["State"] = "rate(30 minutes)", "DISABLED"

    # When it is deployed again
    cloud.deploy(one_stack_assembly(tmp_path / "v2.out", STACK, template))

    # Then the one schedule has the new definition, and the alarm kept its name
    assert len(cloud.client("cloudwatch").describe_alarms(AlarmNamePrefix=f"{STACK}-")["MetricAlarms"]) == 1
    scheduler = cloud.client("scheduler")
    (listed,) = scheduler.list_schedules(NamePrefix=f"{STACK}-Hourly-")["Schedules"]
    schedule = scheduler.get_schedule(Name=listed["Name"])
    assert (schedule["ScheduleExpression"], schedule["State"]) == ("rate(30 minutes)", "DISABLED")


CONTEXT = {
    "scheduled_time": "<aws.scheduler.scheduled-time>",
    "schedule_arn": "<aws.scheduler.schedule-arn>",
    "execution_id": "<aws.scheduler.execution-id>",
    "attempt": "<aws.scheduler.attempt-number>",
}


def _invoke(function_arn: str) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": function_arn}


def _firings(cloud: LocalCloud, name: str) -> list[ScheduleFiring]:
    return [f for f in cloud.schedules() if f.schedule_name == name]


def _schedule(cloud: LocalCloud, name: str, target: dict[str, Any], expression: str, **extra: Any) -> None:
    cloud.client("scheduler").create_schedule(
        Name=name, ScheduleExpression=expression, FlexibleTimeWindow={"Mode": "OFF"}, Target=target, **extra
    )


def test_a_rate_schedule_fires_at_once_then_each_interval_as_the_clock_advances(cloud: LocalCloud) -> None:
    # Given a function, and a rate schedule invoking it as a role allowed to, with the context attributes
    function = python_function(cloud, "rate-target")
    role = scheduler_role(cloud, "rate-role", _invoke(function))
    target = {"Arn": function, "RoleArn": role, "Input": json.dumps(CONTEXT)}
    _schedule(cloud, "every-hour", target, "rate(1 hour)")

    # When it starts (a rate schedule without StartDate fires at once, in real time) and the clock
    # moves two hours and a half
    (first,) = wait_for(lambda: _firings(cloud, "every-hour"))
    cloud.clock.advance(timedelta(hours=2, minutes=30))

    # Then it fired three times, an hour apart, each invoking the function (asynchronously) with its
    # own scheduled time, ARN, execution id and attempt number
    firings = _firings(cloud, "every-hour")
    times = [f.scheduled_time for f in firings]
    assert times == [first.scheduled_time + timedelta(hours=h) for h in range(3)]
    assert [(f.status, f.result) for f in firings] == [("invoked", "succeeded")] * 3
    events = received(cloud, "rate-target")
    assert [e["scheduled_time"] for e in events] == [t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in times]
    arn = f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/default/every-hour"
    assert {e["schedule_arn"] for e in events} == {arn}
    assert [e["execution_id"] for e in events] == [f.execution_id for f in firings]
    assert {e["attempt"] for e in events} == {"1"}


def test_a_cron_schedule_fires_at_its_minutes_in_its_time_zone(cloud: LocalCloud) -> None:
    # Given a schedule at 09:00 Paris time every day (a flexible window fires at its start)
    function = python_function(cloud, "cron-target")
    role = scheduler_role(cloud, "cron-role", _invoke(function))
    cloud.client("scheduler").create_schedule(
        Name="nine-in-paris",
        ScheduleExpression="cron(0 9 * * ? *)",
        ScheduleExpressionTimezone="Europe/Paris",
        FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15},
        Target={"Arn": function, "RoleArn": role},
    )

    # When two days pass
    cloud.clock.advance(timedelta(days=2))

    # Then it fired twice, each at 09:00 in Paris, and the function got {} (the schedule has no Input)
    firings = _firings(cloud, "nine-in-paris")
    paris = [f.scheduled_time.astimezone(ZoneInfo("Europe/Paris")) for f in firings]
    assert [(t.hour, t.minute, t.second) for t in paris] == [(9, 0, 0)] * 2
    assert paris[1] - paris[0] == timedelta(days=1)
    assert received(cloud, "cron-target") == [{}, {}]


def test_a_schedule_fires_only_within_its_window_and_while_enabled(cloud: LocalCloud) -> None:
    # Given a schedule every 30 minutes from +10 to +75 minutes, and a disabled one
    function = python_function(cloud, "window-target")
    role = scheduler_role(cloud, "window-role", _invoke(function))
    now = cloud.clock.now().replace(microsecond=0)
    target = {"Arn": function, "RoleArn": role}
    start, end = now + timedelta(minutes=10), now + timedelta(minutes=75)
    _schedule(cloud, "windowed", target, "rate(30 minutes)", StartDate=start, EndDate=end)
    _schedule(cloud, "switched-off", target, "rate(30 minutes)", State="DISABLED")

    # When three hours pass
    cloud.clock.advance(timedelta(hours=3))

    # Then the first fired at its start and every 30 minutes until its end; the disabled one never
    times = [f.scheduled_time for f in _firings(cloud, "windowed")]
    assert [t - start for t in times] == [timedelta(minutes=m) for m in (0, 30, 60)]
    assert _firings(cloud, "switched-off") == []


def test_a_one_time_schedule_fires_once_and_is_deleted_after_completion(cloud: LocalCloud) -> None:
    # Given an at() schedule in 20 minutes that deletes itself once done
    function = python_function(cloud, "once-target")
    role = scheduler_role(cloud, "once-role", _invoke(function))
    when = (cloud.clock.now() + timedelta(minutes=20)).replace(microsecond=0)
    expression = f"at({when.strftime('%Y-%m-%dT%H:%M:%S')})"
    target = {"Arn": function, "RoleArn": role, "Input": json.dumps(CONTEXT)}
    _schedule(cloud, "just-once", target, expression, ActionAfterCompletion="DELETE")

    # When an hour passes
    cloud.clock.advance(timedelta(hours=1))

    # Then it fired once, at its time, and no longer exists
    (firing,) = _firings(cloud, "just-once")
    assert firing.scheduled_time == when.astimezone(UTC)
    assert [e["scheduled_time"] for e in received(cloud, "once-target")] == [
        when.strftime("%Y-%m-%dT%H:%M:%SZ")
    ]
    assert "just-once" not in {s["Name"] for s in cloud.client("scheduler").list_schedules()["Schedules"]}


def test_a_role_that_may_not_invoke_is_refused_and_the_input_goes_to_the_dead_letter_queue(
    cloud: LocalCloud,
) -> None:
    # Given a schedule whose role may send to its dead-letter queue but not invoke the function
    function = python_function(cloud, "refused-target")
    sqs = cloud.client("sqs")
    url = sqs.create_queue(QueueName="schedule-dlq")["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    send = {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": queue}
    role = scheduler_role(cloud, "refused-role", send)
    target = {
        "Arn": function,
        "RoleArn": role,
        "Input": json.dumps(CONTEXT),
        "DeadLetterConfig": {"Arn": queue},
    }

    # When it fires
    _schedule(cloud, "not-allowed", target, "rate(1 day)")
    (firing,) = wait_for(lambda: _firings(cloud, "not-allowed"))

    # Then the firing is refused with IAM's message, the function never ran, and the input is dead-lettered
    assert firing.status == "refused"
    assert firing.error is not None and "lambda:InvokeFunction" in firing.error
    assert firing.dead_lettered
    assert received(cloud, "refused-target") == []
    (message,) = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"], WaitTimeSeconds=1)[
        "Messages"
    ]
    assert json.loads(message["Body"])["execution_id"] == firing.execution_id
    attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert attributes["SCHEDULE_ARN"] == firing.schedule_arn
    assert attributes["TARGET_ARN"] == function


def test_a_schedule_encrypted_with_a_customer_managed_key_fires_only_if_its_role_may_decrypt(
    cloud: LocalCloud,
) -> None:
    # Given two schedules encrypted with a customer managed key, as roles allowed to invoke the function,
    # one of them allowed to decrypt with the key too (Scheduler decrypts the payload as the role)
    function = python_function(cloud, "encrypted-target")
    key = cloud.client("kms").create_key()["KeyMetadata"]["Arn"]
    decrypt = {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key}
    for name, statements in (("no-decrypt", [_invoke(function)]), ("decrypt", [_invoke(function), decrypt])):
        role = scheduler_role(cloud, f"{name}-role", *statements)
        target = {"Arn": function, "RoleArn": role, "Input": json.dumps(CONTEXT)}
        _schedule(cloud, f"encrypted-{name}", target, "rate(1 day)", KmsKeyArn=key)

    # When they fire
    (refused,) = wait_for(lambda: _firings(cloud, "encrypted-no-decrypt"))
    (invoked,) = wait_for(lambda: _firings(cloud, "encrypted-decrypt"))

    # Then the role without kms:Decrypt is refused with IAM's message, and only the other one ran
    assert refused.status == "refused"
    assert refused.error is not None and f"kms:Decrypt on resource: {key}" in refused.error
    assert invoked.status == "invoked"
    wait_for(lambda: received(cloud, "encrypted-target"))
    cloud.wait_idle(timeout=30)
    assert [e["execution_id"] for e in received(cloud, "encrypted-target")] == [invoked.execution_id]


def test_a_role_whose_trust_names_another_schedule_group_cannot_be_assumed(cloud: LocalCloud) -> None:
    # Given a role allowed to invoke, that Scheduler may assume only for another group's schedules
    function = python_function(cloud, "untrusted-target")
    role = scheduler_role(cloud, "untrusted-role", _invoke(function), group="elsewhere")

    # When a schedule of the default group fires as it
    _schedule(cloud, "wrong-group", {"Arn": function, "RoleArn": role}, "rate(1 day)")
    (firing,) = wait_for(lambda: _firings(cloud, "wrong-group"))

    # Then Scheduler could not assume it, and nothing ran
    assert firing.status == "refused"
    assert firing.error is not None and "sts:AssumeRole" in firing.error
    assert received(cloud, "untrusted-target") == []


def test_a_schedule_created_again_under_its_name_starts_afresh(cloud: LocalCloud) -> None:
    # Given a rate schedule that fired (at once), deleted after 20 minutes
    function = python_function(cloud, "again-target")
    role = scheduler_role(cloud, "again-role", _invoke(function))
    target = {"Arn": function, "RoleArn": role}
    _schedule(cloud, "again", target, "rate(1 hour)")
    wait_for(lambda: _firings(cloud, "again"))
    cloud.clock.advance(timedelta(minutes=20))
    cloud.client("scheduler").delete_schedule(Name="again")

    # When it is created again
    _schedule(cloud, "again", target, "rate(1 hour)")
    firings = wait_for(lambda: _firings(cloud, "again")[1:] and _firings(cloud, "again"))

    # Then it fired at once, as a new schedule does, not on the old one's hours
    first, second = firings
    assert timedelta(minutes=20) <= second.scheduled_time - first.scheduled_time < timedelta(minutes=21)
