"""Custom resources in moto's CloudFormation: made to run locally, on create and on update.

* ``AWS::CloudFormation::CustomResource`` (what ``cdk.CustomResource`` synthesizes) is unknown to moto,
  which then fails the whole template; it is the same thing as ``Custom::<Name>``.
* On create, moto invokes the provider Lambda and waits for its answer on a ResponseURL pointing at
  ``host.docker.internal``. The URL is pointed at the local cloud instead, so a provider written in
  Python runs for real (in a worker) and the stack completes when it answers.
* On update, moto has nothing: the resource is dropped from the stack's map and every ``Fn::GetAtt`` on
  it breaks. The provider is sent the ``Update`` request CloudFormation would send (new and old
  properties, the physical id), and the resource keeps its place.
* The types in ``custom_resources.LOCAL_PROVIDERS`` (CDK's own providers, some written for Node.js)
  are never invoked: they are marked complete at once, and their effect is applied by a fix-up after
  each create or update.

Deleting a custom resource (on a stack update that removes it) sends nothing, as in moto.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from moto import settings
from moto.awslambda.utils import get_backend as get_lambda_backend
from moto.cloudformation import parsing
from moto.cloudformation.custom_model import CustomModel

from localcloud.deploy.custom_resources import LOCAL_PROVIDERS
from localcloud.patches import Patch

_STATE = "_localcloud"  # attribute of a CustomModel keeping what an Update request needs


def patches(host: str) -> list[Patch]:
    """The custom resource corrections, for a local cloud listening on ``host``."""
    create_custom = CustomModel.create_from_cloudformation_json
    class_from_type = parsing.resource_class_from_type

    def resource_class_from_type(resource_type: str) -> Any:
        if resource_type == "AWS::CloudFormation::CustomResource":
            return CustomModel
        return class_from_type(resource_type)

    def create(
        cls: type[CustomModel],
        /,
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> CustomModel:
        resource_type = kwargs["ResourceType"]
        if resource_type in LOCAL_PROVIDERS:
            resource = _completed(
                resource_name, account_id, region_name, kwargs["LogicalId"], kwargs["StackId"]
            )
        else:
            resource = create_custom(resource_name, cloudformation_json, account_id, region_name, **kwargs)
        state = {
            "type": resource_type,
            "stack_id": kwargs["StackId"],
            "properties": cloudformation_json["Properties"],
        }
        setattr(resource, _STATE, state)
        return resource

    def update(  # moto passes every argument by keyword
        cls: type[CustomModel],
        /,
        *,
        original_resource: CustomModel,
        new_resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
    ) -> CustomModel:
        state = getattr(original_resource, _STATE)
        properties = cloudformation_json["Properties"]
        if state["type"] not in LOCAL_PROVIDERS:
            _send_update(original_resource, state, properties, account_id, region_name)
        state["properties"] = properties
        return original_resource

    return [
        Patch(parsing, "resource_class_from_type", resource_class_from_type),
        Patch(CustomModel, "create_from_cloudformation_json", classmethod(create)),
        Patch(CustomModel, "update_from_cloudformation_json", classmethod(update)),
        Patch(settings, "moto_server_host", lambda: f"http://{host}"),
    ]


def _completed(name: str, account_id: str, region_name: str, logical_id: str, stack_id: str) -> CustomModel:
    from moto.cloudformation.models import cloudformation_backends

    # moto instantiates this model itself; its abstract methods are only abstract in the type stubs.
    resource = CustomModel(region_name, "local", logical_id, name)  # type: ignore[abstract]
    resource.set_data({})
    cloudformation_backends[account_id][region_name].get_stack(stack_id).add_custom_resource(resource)
    return resource


def _send_update(
    resource: CustomModel,
    state: dict[str, Any],
    properties: dict[str, Any],
    account_id: str,
    region_name: str,
) -> None:
    # The same request CloudFormation sends; the provider answers on the ResponseURL, which sets the
    # resource's new attributes. The call is synchronous, so the update finishes after the answer.
    host = f"{settings.moto_server_host()}:{settings.moto_server_port()}"
    event = {
        "RequestType": "Update",
        "ServiceToken": properties["ServiceToken"],
        "ResponseURL": f"{host}/cloudformation_{region_name}/cfnresponse?stack={state['stack_id']}",
        "StackId": state["stack_id"],
        "RequestId": str(uuid.uuid4()),
        "LogicalResourceId": resource.logical_id,
        "PhysicalResourceId": resource.physical_resource_id,
        "ResourceType": state["type"],
        "ResourceProperties": properties,
        "OldResourceProperties": state["properties"],
    }
    function = get_lambda_backend(account_id, region_name).get_function(properties["ServiceToken"])
    # The answer comes back on another of the server's threads, so waiting here cannot deadlock.
    function.invoke(json.dumps(event), {}, {})
