"""Corrections to moto's CloudFormation models, needed for a CDK template to deploy at all.

These act while moto creates a stack (the fix-ups in ``fixups`` act after it):

* ``AWS::Events::EventBus``: moto's model has no physical id, so ``Ref`` yields the Python object
  instead of the bus name, and a rule on that bus (``EventBusName: {Ref: Bus}``) fails to create.
* ``AWS::Lambda::LayerVersion``: the same gap; ``Ref`` must give the layer version ARN, which the
  functions using the layer list in ``Layers``.
* ``AWS::KMS::Key``: moto stores the template's ``KeyPolicy`` object as is, where the API stores JSON
  text (every later ``DescribeKey`` on the key then fails with a server error), and it reads the
  template's ``Tags`` (``Key``/``Value``) as KMS API tags (``TagKey``/``TagValue``), failing the stack.
* ``AWS::Logs::LogGroup``: ``Fn::GetAtt Arn`` is the group's ARN followed by ``:*``, as CloudFormation
  documents it (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-logs-loggroup.html),
  so a grant on it (CDK's ``LogGroup.grant_write``) covers the group's streams; moto gives the bare ARN,
  which would deny a function's log writes that AWS allows.

Types moto's CloudFormation lacks get models of their own, added to moto's model map while a local cloud
runs: API Gateway's stages and request validators (``apigateway_models``), EventBridge Scheduler's
schedules and schedule groups (``scheduler_cfn``), CloudWatch alarms' names and ARNs (``alarm_cfn``).

Custom resources have their own corrections, in ``custom_model``; IAM resources theirs, in
``iam_resources``.
"""

from __future__ import annotations

import json
import logging
import re
import warnings
from collections.abc import Callable, Iterable
from typing import Any, cast

from moto.awslambda.models import LayerVersion
from moto.cloudformation import parsing
from moto.events.models import EventBus
from moto.kms.models import Key
from moto.logs.models import LogGroup

from localcloud.deploy import alarm_cfn, apigateway_models, iam_resources, scheduler_cfn
from localcloud.patches import Patch


def patches() -> list[Patch]:
    """The model corrections."""
    create_key = Key.create_from_cloudformation_json

    def key_from_template(
        cls: type[Key],
        /,
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Key:
        properties = dict(cloudformation_json.get("Properties", {}))
        if isinstance(properties.get("KeyPolicy"), dict):
            properties["KeyPolicy"] = json.dumps(properties["KeyPolicy"])
        properties["Tags"] = [
            {"TagKey": t.get("Key", t.get("TagKey")), "TagValue": t.get("Value", t.get("TagValue"))}
            for t in properties.get("Tags", [])
        ]
        fixed = dict(cloudformation_json, Properties=properties)
        return create_key(resource_name, fixed, account_id, region_name, **kwargs)

    model_map = parsing.get_model_map

    def get_model_map() -> dict[str, Any]:
        return {**model_map(), **apigateway_models.MODELS, **scheduler_cfn.MODELS, **alarm_cfn.MODELS}

    return [
        Patch(parsing, "get_model_map", get_model_map),
        Patch(EventBus, "physical_resource_id", property(lambda bus: bus.name)),
        Patch(LayerVersion, "physical_resource_id", property(lambda layer: layer.arn)),
        Patch(Key, "create_from_cloudformation_json", classmethod(key_from_template)),
        Patch(LogGroup, "get_cfn_attribute", _log_group_attribute(LogGroup.get_cfn_attribute)),
        *iam_resources.patches(),
    ]


def _log_group_attribute(original: Callable[[LogGroup, str], Any]) -> Callable[[LogGroup, str], Any]:
    def get_cfn_attribute(group: LogGroup, attribute_name: str) -> Any:
        if attribute_name == "Arn":
            return f"{group.arn}:*"
        return original(group, attribute_name)

    return get_cfn_attribute


def quiet_skipped_types(resource_types: Iterable[str]) -> Callable[[], None]:
    """Silence moto's "not supported" warnings for types a fix-up applies; return the undo function.

    moto warns (a log record and a ``UserWarning``, from its server thread) for every resource type its
    CloudFormation skips. For the types the local cloud applies itself the warning is wrong, and noise.
    """
    names = "|".join(re.escape(t) for t in sorted(resource_types))
    message = rf"Tried to parse ({names}) but it's not supported"
    warnings.filterwarnings("ignore", message=message, category=UserWarning)
    filters = cast(list[Any], warnings.filters)  # a list at run time; typed as a Sequence
    added = filters[0]

    class _Skipped(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            arguments = record.args if isinstance(record.args, tuple) else ()
            return not (
                record.msg == "No Moto CloudFormation support for %s"
                and bool(arguments)
                and re.fullmatch(names, str(arguments[0]))
            )

    log_filter = _Skipped()
    logging.getLogger("moto").addFilter(log_filter)

    def undo() -> None:
        if added in filters:
            filters.remove(added)
        logging.getLogger("moto").removeFilter(log_filter)

    return undo
