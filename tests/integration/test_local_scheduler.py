"""EventBridge Scheduler in the local cloud: schedules deployed through CloudFormation.

moto's CloudFormation skips ``AWS::Scheduler::Schedule`` and ``AWS::Scheduler::ScheduleGroup``; the
deployer puts them through Scheduler's API, as CloudFormation would (``localcloud/deploy/scheduler_cfn``).
The template is hand-written, as CDK's ``aws_scheduler.Schedule`` with a ``LambdaInvoke`` target writes
one, with a CloudWatch dashboard beside it (the monitoring stack deploys both).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from localcloud import LocalCloud

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
        "Dashboard": {
            "Type": "AWS::CloudWatch::Dashboard",
            "Properties": {
                "DashboardName": "mlops-churn",
                "DashboardBody": {
                    "Fn::Join": [
                        "",
                        ['{"widgets":[{"type":"metric","properties":{"region":"', {"Ref": "AWS::Region"}, '"}}]}'],
                    ]
                },
            },
        },
    }
}


def _assembly(directory: Path, template: dict[str, Any]) -> Path:
    directory.mkdir(parents=True)
    (directory / f"{STACK}.template.json").write_text(json.dumps(template))
    artifact = {"type": "aws:cloudformation:stack", "properties": {"templateFile": f"{STACK}.template.json"}}
    (directory / "manifest.json").write_text(json.dumps({"artifacts": {STACK: artifact}}))
    return directory


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    with LocalCloud(region=REGION, account_id=ACCOUNT, work_dir=tmp_path_factory.mktemp("work")) as started:
        started.deploy(_assembly(tmp_path_factory.mktemp("out") / "v1.out", TEMPLATE))
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
    assert schedule["Target"]["RetryPolicy"] == {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185}


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


def test_the_dashboard_is_deployed_with_its_body_resolved(cloud: LocalCloud) -> None:
    # Given the stack deployed: When the dashboard is read
    body = cloud.client("cloudwatch").get_dashboard(DashboardName="mlops-churn")["DashboardBody"]

    # Then its body is the template's, with the region resolved
    assert json.loads(body) == {"widgets": [{"type": "metric", "properties": {"region": REGION}}]}


def test_a_redeploy_updates_the_schedule_in_place(cloud: LocalCloud, tmp_path: Path) -> None:
    # Given the template with the hourly schedule disabled and every 30 minutes
    template = copy.deepcopy(TEMPLATE)
    hourly = template["Resources"]["Hourly"]["Properties"]
    hourly["ScheduleExpression"], hourly["State"] = "rate(30 minutes)", "DISABLED"

    # When it is deployed again
    cloud.deploy(_assembly(tmp_path / "v2.out", template))

    # Then the one schedule has the new definition
    scheduler = cloud.client("scheduler")
    (listed,) = scheduler.list_schedules(NamePrefix=f"{STACK}-Hourly-")["Schedules"]
    schedule = scheduler.get_schedule(Name=listed["Name"])
    assert (schedule["ScheduleExpression"], schedule["State"]) == ("rate(30 minutes)", "DISABLED")
