"""API Gateway REST APIs in moto's CloudFormation: what CDK's ``RestApi`` synthesizes, complete.

moto creates ``RestApi``, ``Resource``, ``Method`` and ``Deployment`` from a template and skips the rest.
These corrections act while the stack is created, because other resources refer to what they create
(``Ref`` on a stage is the stage name in the API's URL output and in the source ARN of the Lambda
permission that lets API Gateway invoke the integration):

* ``AWS::ApiGateway::Stage``: skipped by moto, so no stage exists and ``Ref`` yields None. Created (the
  model is in ``apigateway_models``) with its deployment, variables, tracing, tags, access log setting
  and ``MethodSettings`` (throttling, logging, metrics, caching, keyed as the API reports them:
  ``~1churn~1invocations/POST``, ``*/*``).
* ``AWS::ApiGateway::RequestValidator``: skipped by moto; created likewise (``Ref`` is its id).
* ``AWS::ApiGateway::Deployment``: moto's model has no physical id, so ``Ref`` yields the Python object.
* ``AWS::ApiGateway::Method``: moto reads only the authorization type and the integration's type, method
  and URI, and cannot update a method; every property the API stores is read here, on create and update.
* ``AWS::ApiGateway::RestApi``: moto drops the tags, the binary media types and the policy, and stores
  the endpoint configuration in CloudFormation's casing (the API then reports none); it cannot update an
  API, so a re-deploy that changed one lost it from the stack. Both are corrected.

``AWS::ApiGateway::Account`` (the CloudWatch role) has nothing referring to it: it is a fix-up.
"""

from __future__ import annotations

import json
from typing import Any

from moto.apigateway.models import Deployment, Method, RestAPI, apigateway_backends

from localcloud.deploy.apigateway_models import is_true
from localcloud.patches import Patch


def patches() -> list[Patch]:
    """The API Gateway corrections of moto's CloudFormation (its models are added by ``moto_cfn``)."""
    return [
        Patch(Deployment, "physical_resource_id", property(lambda deployment: deployment.id)),
        Patch(Method, "create_from_cloudformation_json", classmethod(_put_method)),
        Patch(Method, "update_from_cloudformation_json", classmethod(_update_method)),
        Patch(RestAPI, "create_from_cloudformation_json", classmethod(_create_rest_api)),
        Patch(RestAPI, "update_from_cloudformation_json", classmethod(_update_rest_api)),
    ]


def _put_method(
    cls: type[Method],
    /,
    resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> Method:
    properties = cloudformation_json["Properties"]
    backend = apigateway_backends[account_id][region_name]
    api_id, resource_id = properties["RestApiId"], properties["ResourceId"]
    http_method = properties["HttpMethod"]
    method = backend.put_method(
        function_id=api_id,
        resource_id=resource_id,
        method_type=http_method,
        authorization_type=properties.get("AuthorizationType", "NONE"),
        api_key_required=is_true(properties.get("ApiKeyRequired", False)),
        request_parameters=properties.get("RequestParameters"),
        request_models=properties.get("RequestModels"),
        operation_name=properties.get("OperationName"),
        authorizer_id=properties.get("AuthorizerId"),
        authorization_scopes=properties.get("AuthorizationScopes"),
        request_validator_id=properties.get("RequestValidatorId"),
    )
    for response in properties.get("MethodResponses") or []:
        method.create_response(
            str(response["StatusCode"]),
            response.get("ResponseModels") or {},
            response.get("ResponseParameters") or {},
        )
    integration = properties.get("Integration")
    if integration:
        _put_integration(backend, api_id, resource_id, http_method, integration)
    return method


def _put_integration(
    backend: Any, api_id: str, resource_id: str, http_method: str, integration: dict[str, Any]
) -> None:
    timeout = integration.get("TimeoutInMillis")
    created = backend.put_integration(
        function_id=api_id,
        resource_id=resource_id,
        method_type=http_method,
        integration_type=integration["Type"],
        uri=integration.get("Uri"),
        integration_method=integration.get("IntegrationHttpMethod"),
        credentials=integration.get("Credentials"),
        request_templates=integration.get("RequestTemplates"),
        passthrough_behavior=integration.get("PassthroughBehavior"),
        cache_namespace=integration.get("CacheNamespace"),
        timeout_in_millis=str(timeout) if timeout is not None else None,
        request_parameters=integration.get("RequestParameters"),
        content_handling=integration.get("ContentHandling"),
        connection_type=integration.get("ConnectionType"),
    )
    for response in integration.get("IntegrationResponses") or []:
        created.create_integration_response(
            str(response["StatusCode"]),
            response.get("SelectionPattern"),
            response.get("ResponseTemplates") or {},
            response.get("ResponseParameters") or {},
            response.get("ContentHandling"),
        )


def _update_method(
    cls: type[Method],
    /,
    *,
    original_resource: Method,
    new_resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
) -> Method:
    # PutMethod replaces the method of that resource and verb, as CloudFormation's update does.
    return _put_method(cls, new_resource_name, cloudformation_json, account_id, region_name)


def _create_rest_api(
    cls: type[RestAPI],
    /,
    resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> RestAPI:
    properties = cloudformation_json["Properties"]
    api: RestAPI = apigateway_backends[account_id][region_name].create_rest_api(
        name=properties.get("Name") or resource_name,
        description=properties.get("Description", ""),
        api_key_source=properties.get("ApiKeySourceType"),
        endpoint_configuration=_endpoint_configuration(properties),  # type: ignore[arg-type]
        tags={t["Key"]: t["Value"] for t in properties.get("Tags") or []},  # type: ignore[arg-type]
        policy=_policy(properties),
        minimum_compression_size=properties.get("MinimumCompressionSize"),
        disable_execute_api_endpoint=is_true(properties.get("DisableExecuteApiEndpoint", False)),
    )
    api.binaryMediaTypes = list(properties.get("BinaryMediaTypes") or [])
    return api


def _update_rest_api(
    cls: type[RestAPI],
    /,
    *,
    original_resource: RestAPI,
    new_resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
) -> RestAPI:
    # The API keeps its id (and so its URL), its resources and its stages, as on AWS.
    properties = cloudformation_json["Properties"]
    api = original_resource
    api.name = properties.get("Name") or api.name
    api.description = properties.get("Description", "")
    api.api_key_source = properties.get("ApiKeySourceType") or "HEADER"
    api.endpoint_configuration = _endpoint_configuration(properties) or {"types": ["EDGE"]}
    api.tags = {t["Key"]: t["Value"] for t in properties.get("Tags") or []}
    api.policy = _policy(properties)
    api.minimum_compression_size = properties.get("MinimumCompressionSize")
    api.disableExecuteApiEndpoint = is_true(properties.get("DisableExecuteApiEndpoint", False))
    api.binaryMediaTypes = list(properties.get("BinaryMediaTypes") or [])
    return api


def _endpoint_configuration(properties: dict[str, Any]) -> dict[str, Any] | None:
    configuration = properties.get("EndpointConfiguration")
    if not configuration:
        return None
    converted = {"types": list(configuration.get("Types") or ["EDGE"])}
    if configuration.get("VpcEndpointIds"):
        converted["vpcEndpointIds"] = list(configuration["VpcEndpointIds"])
    return converted


def _policy(properties: dict[str, Any]) -> str | None:
    policy = properties.get("Policy")
    return json.dumps(policy) if isinstance(policy, dict) else policy
