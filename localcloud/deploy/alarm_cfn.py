"""``AWS::CloudWatch::Alarm`` in moto's CloudFormation: a name and an ARN, so that others can refer to it.

moto's CloudFormation has no alarm model: it skips the type, and a template that refers to an alarm
(``Fn::GetAtt [Alarm, Arn]``, as a dashboard's alarm widget or a composite alarm's rule does; ``Ref``)
fails to create ("Fn::GetAtt references undefined resource"). This model gives the alarm its physical
name (``AlarmName``, or CloudFormation's stack-logical id-suffix; an update keeps it unless ``AlarmName``
changes, which replaces the alarm) and its ARN while the stack is created; the alarm itself is put
through the API by the fix-up (``fixups.fix_alarm``), so that the API's name checks and CloudWatch's
alarm states apply as to any ``PutMetricAlarm``. Deleting the stack deletes the alarm.
"""

from __future__ import annotations

from typing import Any

from moto.cloudwatch.models import cloudwatch_backends

from localcloud.deploy.cfn_model import LocalModel


class AlarmResource(LocalModel):
    """``AWS::CloudWatch::Alarm`` (``Ref``: its name; ``Fn::GetAtt Arn``)."""

    resource_type = "AWS::CloudWatch::Alarm"
    name_property = "AlarmName"
    attributes = frozenset({"Arn"})

    def __init__(self, account_id: str, region_name: str, name: str) -> None:
        self.account_id, self.region_name, self.name, self.physical_id = account_id, region_name, name, name
        self.arn = f"arn:aws:cloudwatch:{region_name}:{account_id}:alarm:{name}"

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> AlarmResource:
        # moto reads the name property of its own models only; resource_name is its generated name.
        name = cloudformation_json["Properties"].get("AlarmName") or resource_name
        return cls(account_id, region_name, name)

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: AlarmResource,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> AlarmResource:
        name = cloudformation_json["Properties"].get("AlarmName") or original_resource.name
        if name == original_resource.name:
            return original_resource
        original_resource.delete(account_id, region_name)  # a new name replaces the alarm
        return cls(account_id, region_name, name)

    def delete(self, account_id: str, region_name: str) -> None:
        cloudwatch_backends[self.account_id][self.region_name].alarms.pop(self.name, None)


MODELS: dict[str, Any] = {AlarmResource.resource_type: AlarmResource}
