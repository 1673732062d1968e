"""Every publisher of an encrypted topic may use its key, found from the template, not from a list.

SNS encrypts a message with the topic's KMS key as the publisher: a role needs ``kms:GenerateDataKey*``
and ``kms:Decrypt`` on the key (the key policy delegating to IAM), an AWS service publishing for itself
needs the key policy to name it (and the topic's policy to let it publish), held to this account and its
own resources where the service sends ``aws:SourceAccount``/``aws:SourceArn``
(https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html). Publishers are whatever the
template lets publish: identity policies allowing ``sns:Publish`` on the topic, Lambda destinations and
dead-letter targets, alarm actions, EventBridge targets, S3 notifications.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterator
from typing import Any

import pytest

from stacks.constructs.nag import flatten

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def template(app_template: dict[str, Any]) -> dict[str, Any]:
    """The whole app: the topic and key are the foundation's, their publishers the stateless stacks'."""
    return app_template


KEY_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")
# Services whose requests to KMS carry no aws:SourceAccount/aws:SourceArn for a topic's key (see the page).
UNCONDITIONED_SERVICES = {"events.amazonaws.com"}


def test_every_role_that_may_publish_to_an_encrypted_topic_may_use_its_key(template: dict[str, Any]) -> None:
    publishers = [
        (topic, key, role) for topic, key in _encrypted_topics(template) for role in _roles(template, topic)
    ]

    assert publishers, "expected the platform's state machines and functions to publish alerts"
    assert _root_delegates(template, publishers[0][1])
    missing = sorted(
        f"{_path(template, role)} publishes to {topic} without {action} on its key"
        for topic, key, role in publishers
        for action in KEY_ACTIONS
        if not _role_may(template, role, action, key)
    )
    assert missing == []


def test_the_key_and_topic_policies_let_each_publishing_service_in_for_this_account_only(
    template: dict[str, Any],
) -> None:
    publishers = [
        (topic, key, service)
        for topic, key in _encrypted_topics(template)
        for service in _services(template, topic)
    ]

    assert "cloudwatch.amazonaws.com" in {s for _, _, s in publishers}, "expected alarms on the alert topic"
    for topic, key, service in publishers:
        policy = template["Resources"][key]["Properties"]["KeyPolicy"]
        for action in KEY_ACTIONS:
            statements = [s for s in _allowing(policy["Statement"], action) if _names_service(s, service)]
            assert statements, f"the key of {topic} does not let {service} use {action}"
            if service not in UNCONDITIONED_SERVICES:
                assert all(_held_to_account_and_source(s) for s in statements), statements
        topic_statements = [
            s
            for resource in _of_type(template, "AWS::SNS::TopicPolicy")
            if {"Ref": topic} in resource["Properties"]["Topics"]
            for s in _allowing(resource["Properties"]["PolicyDocument"]["Statement"], "sns:Publish")
            if _names_service(s, service)
        ]
        assert topic_statements, f"the policy of {topic} does not let {service} publish"


def test_an_announcement_that_cannot_be_sent_goes_on_where_it_would_have(template: dict[str, Any]) -> None:
    publishing = [
        (name, state)
        for machine in _of_type(template, "AWS::StepFunctions::StateMachine")
        for name, state in _states(machine)
        if state.get("Type") == "Task" and str(state.get("Resource", "")).endswith(":states:::sns:publish")
    ]

    assert len(publishing) >= 5
    for name, state in publishing:
        catches = [c for c in state.get("Catch", []) if "States.ALL" in c["ErrorEquals"]]
        assert [c["Next"] for c in catches] == [state["Next"]], (
            f"{name}: a failed publish must not change the outcome"
        )


# -- reading the template ----------------------------------------------------------------------------


def _of_type(template: dict[str, Any], kind: str) -> Iterator[dict[str, Any]]:
    return (r for r in template["Resources"].values() if r["Type"] == kind)


def _encrypted_topics(template: dict[str, Any]) -> list[tuple[str, str]]:
    """(topic, key) logical ids of every topic with a customer managed key of this template."""
    return [
        (name, resource["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0])
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::SNS::Topic"
        and "Fn::GetAtt" in str(resource["Properties"].get("KmsMasterKeyId"))
    ]


def _roles(template: dict[str, Any], topic: str) -> set[str]:
    """Roles that may publish to ``topic``: by their policies, or as the role of a function sending to it."""
    roles = {
        role
        for role, statement in _identity_statements(template)
        if any(_matches(a, "sns:Publish") for a in _as_list(statement.get("Action")))
        and any(r in ({"Ref": topic}, "*") for r in _as_list(statement.get("Resource")))
    }
    for function in _of_type(template, "AWS::Lambda::Function"):
        properties = function["Properties"]
        if {"Ref": topic} == (properties.get("DeadLetterConfig") or {}).get("TargetArn"):
            roles.add(properties["Role"]["Fn::GetAtt"][0])
    for config in _of_type(template, "AWS::Lambda::EventInvokeConfig"):
        destinations = config["Properties"].get("DestinationConfig") or {}
        if any((d or {}).get("Destination") == {"Ref": topic} for d in destinations.values()):
            function = config["Properties"]["FunctionName"]["Ref"]
            roles.add(template["Resources"][function]["Properties"]["Role"]["Fn::GetAtt"][0])
    return roles


def _services(template: dict[str, Any], topic: str) -> set[str]:
    """AWS services that publish to ``topic`` for a resource of the template."""
    reference = {"Ref": topic}
    services = set()
    for alarm in _of_type(template, "AWS::CloudWatch::Alarm"):
        kinds = ("AlarmActions", "OKActions", "InsufficientDataActions")
        if any(reference in alarm["Properties"].get(kind, []) for kind in kinds):
            services.add("cloudwatch.amazonaws.com")
    for rule in _of_type(template, "AWS::Events::Rule"):
        if any(target["Arn"] == reference for target in rule["Properties"].get("Targets", [])):
            services.add("events.amazonaws.com")
    for bucket in _of_type(template, "AWS::S3::Bucket"):
        notifications = bucket["Properties"].get("NotificationConfiguration") or {}
        if any(c.get("Topic") == reference for c in notifications.get("TopicConfigurations", [])):
            services.add("s3.amazonaws.com")
    return services


def _identity_statements(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(role, Allow statement) of every identity policy attached to a role of the template."""
    for name, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            pairs = [
                (r["Ref"], properties["PolicyDocument"]) for r in properties.get("Roles", []) if "Ref" in r
            ]
        elif resource["Type"] == "AWS::IAM::Role":
            pairs = [(name, p["PolicyDocument"]) for p in properties.get("Policies", [])]
        else:
            continue
        for role, document in pairs:
            for statement in document["Statement"]:
                if statement["Effect"] == "Allow":
                    yield role, statement


def _role_may(template: dict[str, Any], role: str, action: str, key: str) -> bool:
    key_arn = {"Fn::GetAtt": [key, "Arn"]}
    return any(
        any(_matches(a, action) for a in _as_list(statement.get("Action")))
        and any(r in (key_arn, "*") for r in _as_list(statement.get("Resource")))
        for who, statement in _identity_statements(template)
        if who == role
    )


def _root_delegates(template: dict[str, Any], key: str) -> bool:
    """The key policy lets the account's IAM policies decide (a statement naming the account's root)."""
    statements = template["Resources"][key]["Properties"]["KeyPolicy"]["Statement"]
    return any(
        ":root" in flatten((s.get("Principal") or {}).get("AWS"))
        for s in _allowing(statements, "kms:Decrypt")
    )


def _allowing(statements: list[dict[str, Any]], action: str) -> list[dict[str, Any]]:
    return [
        s
        for s in statements
        if s["Effect"] == "Allow" and any(_matches(a, action) for a in _as_list(s.get("Action")))
    ]


def _names_service(statement: dict[str, Any], service: str) -> bool:
    principal = statement.get("Principal") or {}
    return isinstance(principal, dict) and service in [flatten(p) for p in _as_list(principal.get("Service"))]


def _held_to_account_and_source(statement: dict[str, Any]) -> bool:
    keys = {key for tests in (statement.get("Condition") or {}).values() for key in tests}
    return {"aws:SourceAccount", "aws:SourceArn"} <= keys


def _states(machine: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    definition = machine["Properties"]["DefinitionString"]
    parts = definition["Fn::Join"][1] if isinstance(definition, dict) else [definition]
    # Tokens (ARNs, names) are joined into JSON strings: a placeholder leaves valid JSON to inspect.
    document = json.loads("".join(p if isinstance(p, str) else "TOKEN" for p in parts))

    def walk(states: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
        for name, state in states.items():
            yield name, state
            nested = state.get("ItemProcessor") or state.get("Iterator") or {}
            for branch in [*state.get("Branches", []), nested]:
                yield from walk(branch.get("States", {}))

    return walk(document["States"])


def _path(template: dict[str, Any], logical_id: str) -> str:
    return str(template["Resources"][logical_id].get("Metadata", {}).get("aws:cdk:path", logical_id))


def _matches(granted: str, action: str) -> bool:
    return fnmatch.fnmatchcase(action.lower(), str(granted).lower())


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
