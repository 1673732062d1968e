"""The retraining policy's template: its triggers, what it may call, and what synth writes for it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from domain.events import ENDED_STATUSES, AlarmStateChange, DatasetVersionAccepted, ExecutionStatusChange
from tests.infra.template_support import actions, function_named, function_statements, of_type

pytestmark = pytest.mark.slow

FOLDER = "retraining_policy"


@pytest.fixture(scope="module")
def template(training: dict[str, Any]) -> dict[str, Any]:
    return training


def rules(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The policy's rules, by the detail type they match."""
    found = {}
    for rule in of_type(template, "AWS::Events::Rule").values():
        properties = rule["Properties"]
        if "EventPattern" in properties:
            found[properties["EventPattern"]["detail-type"][0]] = properties
    return found


def test_every_trigger_reaches_the_policy_and_nothing_else_starts_a_run(template: dict[str, Any]) -> None:
    function = function_named(template, FOLDER)
    found = rules(template)

    # The platform's accepted versions, on the foundation's bus
    accepted = found[DatasetVersionAccepted.KIND.detail_type]
    assert accepted["EventPattern"] == DatasetVersionAccepted.KIND.pattern()
    assert accepted["EventBusName"] == {"Fn::ImportValue": "mlops-foundation:EventBusName"}
    # Alarms and runs, on the default bus: the drift and performance alarms of each dataset, to ALARM only
    alarms = found[AlarmStateChange.KIND.detail_type]
    assert "EventBusName" not in alarms
    assert alarms["EventPattern"]["detail"]["state"] == {"value": ["ALARM"]}
    names = alarms["EventPattern"]["detail"]["alarmName"]
    assert {"mlops-churn-drift", "mlops-churn-performance"} <= set(names)
    assert not [name for name in names if not name.endswith(("-drift", "-performance"))]
    ended = found[ExecutionStatusChange.KIND.detail_type]
    assert ended["EventPattern"]["detail"]["status"] == list(ENDED_STATUSES)
    (machine,) = ended["EventPattern"]["detail"]["stateMachineArn"]
    assert machine == {"Ref": next(iter(of_type(template, "AWS::StepFunctions::StateMachine")))}
    # Each invokes the policy; no other function of the stack is a rule's target
    for rule in found.values():
        (target,) = rule["Targets"]
        assert target["Arn"] == {"Fn::GetAtt": [function, "Arn"]}


def test_the_policy_starts_runs_of_the_training_machine_and_passes_only_the_schedules_role(
    template: dict[str, Any],
) -> None:
    statements = function_statements(template, FOLDER)
    granted = {action: s for s in statements for action in actions(s)}

    assert "states:StartExecution" in granted and "states:ListExecutions" in granted
    assert set(actions(granted["dynamodb:PutItem"])) == {
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:PutItem",
    }
    assert not [a for a in granted if a in ("dynamodb:DeleteItem", "dynamodb:UpdateItem", "dynamodb:Scan")]
    schedules = json.dumps(granted["scheduler:CreateSchedule"]["Resource"])
    assert "schedule/default/mlops-churn-retraining-deferred" in schedules
    (scheduler_role,) = [
        name for name, role in of_type(template, "AWS::IAM::Role").items()
        if "scheduler.amazonaws.com" in json.dumps(role["Properties"]["AssumeRolePolicyDocument"])
        and "retraining" in json.dumps(role["Properties"].get("Description", ""))
    ]  # fmt: skip
    assert granted["iam:PassRole"]["Resource"] == {"Fn::GetAtt": [scheduler_role, "Arn"]}
    assert not [a for a in granted if a.startswith("s3:Delete")]


def test_a_configured_schedule_sends_its_payload_as_the_schedules_role(template: dict[str, Any]) -> None:
    configured = [
        s["Properties"] for s in of_type(template, "AWS::Scheduler::Schedule").values()
        if "retraining" in s["Properties"].get("Name", "")
    ]  # fmt: skip
    # cdk.json configures none by default: no periodic retraining unless asked
    assert configured == []
