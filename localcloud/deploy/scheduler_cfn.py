"""CloudFormation models of EventBridge Scheduler's resources, which moto 5.2.5's CloudFormation skips.

moto serves Scheduler's API but has no model for ``AWS::Scheduler::Schedule`` or
``AWS::Scheduler::ScheduleGroup``, so a template's schedules would silently not exist. These models
create them in moto's Scheduler backend while the stack is created, so that ``Ref`` (the name) and
``Fn::GetAtt`` (``Arn``) resolve and a schedule naming its group (``GroupName: {Ref: Group}``) is
created after it, as CloudFormation orders them. Local models (``cfn_model``), added to moto's model map
by ``moto_cfn`` while a local cloud runs.

A schedule without ``Name`` is named as CloudFormation names one (stack, logical id, a suffix); an update
keeps the name unless the template changes ``Name`` (then the schedule is replaced), and replaces the
whole definition, as CloudFormation's update of the resource does. Deleting the stack deletes both.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from moto.scheduler.exceptions import ScheduleGroupNotFound, ScheduleNotFound
from moto.scheduler.models import EventBridgeSchedulerBackend, scheduler_backends

from localcloud.deploy.cfn_model import LocalModel


class ScheduleResource(LocalModel):
    """``AWS::Scheduler::Schedule`` (``Ref``: its name; ``Fn::GetAtt Arn``)."""

    resource_type = "AWS::Scheduler::Schedule"
    attributes = frozenset({"Arn"})

    def __init__(self, account_id: str, region_name: str, group: str, name: str, arn: str) -> None:
        self.account_id, self.region_name = account_id, region_name
        self.group, self.name, self.arn, self.physical_id = group, name, arn, name

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> ScheduleResource:
        properties = cloudformation_json["Properties"]
        # moto reads the Name property of its own models only; resource_name is its generated name.
        name, group = properties.get("Name") or resource_name, properties.get("GroupName") or "default"
        schedule = _backend(account_id, region_name).create_schedule(
            name=name, group_name=group, **_definition(properties)
        )
        return cls(account_id, region_name, group, name, schedule.arn)

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: ScheduleResource,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> ScheduleResource:
        properties = cloudformation_json["Properties"]
        group = properties.get("GroupName") or "default"
        name = properties.get("Name") or original_resource.name
        if (group, name) != (original_resource.group, original_resource.name):
            # A new name or group is a replacement, as CloudFormation does it.
            original_resource.delete(account_id, region_name)
            return cls.create_from_cloudformation_json(
                new_resource_name, cloudformation_json, account_id, region_name
            )
        definition = _definition(properties)
        definition.pop("action_after_completion")
        _backend(account_id, region_name).update_schedule(name=name, group_name=group, **definition)
        return original_resource

    def delete(self, account_id: str, region_name: str) -> None:
        with contextlib.suppress(ScheduleNotFound, ScheduleGroupNotFound):
            _backend(self.account_id, self.region_name).delete_schedule(self.group, self.name)


class ScheduleGroupResource(LocalModel):
    """``AWS::Scheduler::ScheduleGroup`` (``Ref``: its name; ``Fn::GetAtt Arn``), with its tags."""

    resource_type = "AWS::Scheduler::ScheduleGroup"
    attributes = frozenset({"Arn"})

    def __init__(self, account_id: str, region_name: str, name: str, arn: str) -> None:
        self.account_id, self.region_name, self.name, self.arn = account_id, region_name, name, arn
        self.physical_id = name

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> ScheduleGroupResource:
        properties = cloudformation_json["Properties"]
        name = properties.get("Name") or resource_name
        tags = [{"Key": t["Key"], "Value": t["Value"]} for t in properties.get("Tags") or []]
        group = _backend(account_id, region_name).create_schedule_group(name=name, tags=tags)
        return cls(account_id, region_name, name, group.arn)

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: ScheduleGroupResource,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> ScheduleGroupResource:
        properties = cloudformation_json["Properties"]
        backend = _backend(account_id, region_name)
        if properties.get("Name", original_resource.name) != original_resource.name:
            original_resource.delete(account_id, region_name)
            return cls.create_from_cloudformation_json(
                new_resource_name, cloudformation_json, account_id, region_name
            )
        # The group keeps its schedules; only its tags change (moto's create would empty it).
        backend.tagger.delete_all_tags_for_resource(original_resource.arn)
        tags = [{"Key": t["Key"], "Value": t["Value"]} for t in properties.get("Tags") or []]
        backend.tag_resource(original_resource.arn, tags)
        return original_resource

    def delete(self, account_id: str, region_name: str) -> None:
        _backend(self.account_id, self.region_name).schedule_groups.pop(self.name, None)


MODELS: dict[str, Any] = {
    ScheduleResource.cloudformation_type(): ScheduleResource,
    ScheduleGroupResource.cloudformation_type(): ScheduleGroupResource,
}


def _backend(account_id: str, region_name: str) -> EventBridgeSchedulerBackend:
    return scheduler_backends[account_id][region_name]


def _definition(properties: dict[str, Any]) -> dict[str, Any]:
    """The schedule's definition from the template, in the types Scheduler's API stores."""
    target = dict(properties["Target"])
    if "RetryPolicy" in target:
        target["RetryPolicy"] = {k: int(v) for k, v in target["RetryPolicy"].items()}
    window = dict(properties["FlexibleTimeWindow"])
    if "MaximumWindowInMinutes" in window:
        window["MaximumWindowInMinutes"] = int(window["MaximumWindowInMinutes"])
    return {
        "description": properties.get("Description"),
        "schedule_expression": properties["ScheduleExpression"],
        "schedule_expression_timezone": properties.get("ScheduleExpressionTimezone"),
        "flexible_time_window": window,
        "target": target,
        "state": properties.get("State") or "ENABLED",
        "kms_key_arn": properties.get("KmsKeyArn"),
        "start_date": _epoch(properties.get("StartDate")),
        "end_date": _epoch(properties.get("EndDate")),
        "action_after_completion": properties.get("ActionAfterCompletion"),
    }


def _epoch(value: Any) -> Any:
    # The template gives ISO-8601; the API (and so moto's backend) holds epoch seconds.
    if value is None:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
