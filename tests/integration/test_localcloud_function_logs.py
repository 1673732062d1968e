"""Lambda writes a function's logs as the function's role: the grants count as used, a denial drops them.

On AWS the execution role needs ``logs:CreateLogStream`` and ``logs:PutLogEvents`` on the function's log
group (``logs:CreateLogGroup`` too when the group does not exist); without them the function runs and
its lines never reach CloudWatch Logs.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator

import pytest

from localcloud import LocalCloud
from tests.iam_roles import LAMBDA_LOGS, create_role

pytestmark = pytest.mark.slow

LAMBDA = "lambda.amazonaws.com"
CODE = 'def handler(event, context):\n    print("hello from the handler")\n    return "done"\n'


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    with LocalCloud(work_dir=tmp_path_factory.mktemp("localcloud-function-logs")) as running:
        yield running


def _function(cloud: LocalCloud, name: str, statements: list[dict[str, object]]) -> str:
    role = create_role(cloud.client("iam"), f"{name}-role", trusts=LAMBDA, statements=statements)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("index.py", CODE)
    cloud.client("lambda").create_function(
        FunctionName=name, Runtime="python3.12", Role=role, Handler="index.handler",
        Code={"ZipFile": archive.getvalue()},
    )  # fmt: skip
    return role


def _groups(cloud: LocalCloud, name: str) -> list[str]:
    found = cloud.client("logs").describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{name}")["logGroups"]
    return [str(group["logGroupName"]) for group in found]


def test_a_role_allowed_to_write_its_logs_has_them_and_the_report_counts_the_writes(
    cloud: LocalCloud,
) -> None:
    # Given a function whose role may write its logs (as AWSLambdaBasicExecutionRole allows)
    role = _function(cloud, "logged", [LAMBDA_LOGS])

    # When it runs
    answer = cloud.client("lambda").invoke(FunctionName="logged")["Payload"].read()

    # Then its lines are in its log group
    assert answer == b'"done"'
    events = cloud.client("logs").filter_log_events(logGroupName="/aws/lambda/logged")["events"]
    assert "hello from the handler" in [event["message"] for event in events]
    # and the report shows the writes as the role's, on the group's stream, so the grant is not "unused"
    usage = cloud.iam.enforcer.usage().role(role)
    assert usage is not None
    actions = {action for action, _ in usage.used}
    assert actions == {"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"}
    assert all(
        resource.startswith("arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/logged")
        for _, resource in usage.used
    )
    assert usage.unused == ()


def test_a_role_without_the_grant_runs_and_its_lines_are_dropped_with_the_denial_recorded(
    cloud: LocalCloud,
) -> None:
    # Given a function whose role may do nothing
    role = _function(cloud, "silent", [])

    # When it runs
    response = cloud.client("lambda").invoke(FunctionName="silent")

    # Then it succeeds, but nothing reaches CloudWatch Logs (the group is not even created, as on AWS)
    assert "FunctionError" not in response
    assert response["Payload"].read() == b'"done"'
    assert _groups(cloud, "silent") == []
    # and the denial is kept, naming the role's session, the action and the group
    (denial,) = [d for d in cloud.iam.enforcer.denials() if d.principal.endswith("/silent-role/silent")]
    assert (denial.action, denial.resource) == (
        "logs:CreateLogGroup",
        "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/silent:*",
    )
    usage = cloud.iam.enforcer.usage().role(role)
    assert usage is not None and usage.used == ()


def test_a_grant_on_a_deployed_log_groups_arn_covers_its_streams_as_cloudformation_gives_it(
    cloud: LocalCloud,
) -> None:
    # Given a stack whose role may write to its log group by the group's Arn attribute (CDK's grant_write)
    trust = {"Effect": "Allow", "Principal": {"Service": LAMBDA}, "Action": "sts:AssumeRole"}
    grant = {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
             "Resource": {"Fn::GetAtt": ["Group", "Arn"]}}  # fmt: skip
    template = {
        "Resources": {
            "Group": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "/platform/fn"}},
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": "grant-write",
                    "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [trust]},
                    "Policies": [{"PolicyName": "write", "PolicyDocument": {"Version": "2012-10-17",
                                                                            "Statement": [grant]}}],
                },
            },
        },
        "Outputs": {"GroupArn": {"Value": {"Fn::GetAtt": ["Group", "Arn"]}}},
    }  # fmt: skip
    cfn = cloud.client("cloudformation")
    cfn.create_stack(StackName="log-grant", TemplateBody=json.dumps(template))

    # When the stack is deployed
    (stack,) = cfn.describe_stacks(StackName="log-grant")["Stacks"]

    # Then the attribute is the group's ARN with ":*", as CloudFormation documents it
    group_arn = "arn:aws:logs:us-east-1:123456789012:log-group:/platform/fn"
    assert stack["Outputs"] == [{"OutputKey": "GroupArn", "OutputValue": f"{group_arn}:*"}]
    # so the role's session may write to a stream of the group (the bare ARN would name no stream)
    session = cloud.iam.sessions.assume(
        "arn:aws:iam::123456789012:role/grant-write", service=LAMBDA, session_name="fn"
    )
    cloud.iam.enforcer.authorize_action(session.arn, "logs:PutLogEvents", f"{group_arn}:log-stream:s")
