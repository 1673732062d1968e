"""CloudFormation models of the API Gateway types moto's CloudFormation skips: stages and request validators.

Local models (``cfn_model``), added to moto's model map by ``moto_cfn`` while a local cloud runs.
"""

from __future__ import annotations

from typing import Any

from moto.apigateway.models import Stage, apigateway_backends

from localcloud.deploy.cfn_model import LocalModel

# What API Gateway reports for a method setting the stage does not set (throttling: the account's limits).
_METHOD_SETTING_DEFAULTS: dict[str, Any] = {
    "metricsEnabled": False,
    "loggingLevel": "OFF",
    "dataTraceEnabled": False,
    "throttlingBurstLimit": 5000,
    "throttlingRateLimit": 10000.0,
    "cachingEnabled": False,
    "cacheTtlInSeconds": 300,
    "cacheDataEncrypted": False,
    "requireAuthorizationForCacheControl": True,
    "unauthorizedCacheControlHeaderStrategy": "SUCCEED_WITH_RESPONSE_HEADER",
}
_METHOD_SETTING_KINDS: dict[str, type] = {
    "throttlingBurstLimit": int,
    "throttlingRateLimit": float,
    "cacheTtlInSeconds": int,
    "metricsEnabled": bool,
    "dataTraceEnabled": bool,
    "cachingEnabled": bool,
    "cacheDataEncrypted": bool,
    "requireAuthorizationForCacheControl": bool,
}


class StageResource(LocalModel):
    """``AWS::ApiGateway::Stage`` as a moto CloudFormation model (``Ref``: the stage name)."""

    resource_type = "AWS::ApiGateway::Stage"
    name_property = "StageName"

    def __init__(self, account_id: str, region_name: str, api_id: str, name: str) -> None:
        self.account_id = account_id
        self.region_name = region_name
        self.api_id = api_id
        self.name = self.physical_id = name

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> StageResource:
        properties = cloudformation_json["Properties"]
        api_id, name = properties["RestApiId"], properties.get("StageName") or resource_name
        api = apigateway_backends[account_id][region_name].get_rest_api(api_id)
        api.stages[name] = _stage(name, properties)
        return cls(account_id, region_name, api_id, name)

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: StageResource,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> StageResource:
        # A new deployment, new settings: the stage keeps its name and URL (a new name replaces it).
        original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name
        )

    def delete(self, account_id: str, region_name: str) -> None:
        api = apigateway_backends[self.account_id][self.region_name].apis.get(self.api_id)
        if api is not None:
            api.stages.pop(self.name, None)


class RequestValidatorResource(LocalModel):
    """``AWS::ApiGateway::RequestValidator`` as a moto CloudFormation model (``Ref``: its id)."""

    resource_type = "AWS::ApiGateway::RequestValidator"
    attributes = frozenset({"RequestValidatorId"})

    def __init__(self, account_id: str, region_name: str, api_id: str, validator_id: str) -> None:
        self.account_id = account_id
        self.region_name = region_name
        self.api_id = api_id
        self.validator_id = self.physical_id = validator_id

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return self.validator_id

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> RequestValidatorResource:
        properties = cloudformation_json["Properties"]
        api_id = properties["RestApiId"]
        validator = apigateway_backends[account_id][region_name].create_request_validator(
            api_id,
            properties.get("Name") or resource_name,
            is_true(properties.get("ValidateRequestBody", False)),
            is_true(properties.get("ValidateRequestParameters", False)),
        )
        return cls(account_id, region_name, api_id, validator.id)

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: RequestValidatorResource,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> RequestValidatorResource:
        properties = cloudformation_json["Properties"]
        api = apigateway_backends[account_id][region_name].get_rest_api(original_resource.api_id)
        validator = api.request_validators[original_resource.validator_id]
        validator.name = properties.get("Name") or validator.name
        validator.validate_request_body = is_true(properties.get("ValidateRequestBody", False))
        validator.validate_request_parameters = is_true(properties.get("ValidateRequestParameters", False))
        return original_resource

    def delete(self, account_id: str, region_name: str) -> None:
        api = apigateway_backends[self.account_id][self.region_name].apis.get(self.api_id)
        if api is not None:
            api.request_validators.pop(self.validator_id, None)


MODELS: dict[str, Any] = {
    StageResource.cloudformation_type(): StageResource,
    RequestValidatorResource.cloudformation_type(): RequestValidatorResource,
}


def _stage(name: str, properties: dict[str, Any]) -> Stage:
    stage = Stage(
        name=name,
        deployment_id=properties.get("DeploymentId"),
        variables=dict(properties.get("Variables") or {}),
        description=properties.get("Description", ""),
        cacheClusterEnabled=is_true(properties.get("CacheClusterEnabled", False)),
        cacheClusterSize=properties.get("CacheClusterSize"),
        tags={t["Key"]: t["Value"] for t in properties.get("Tags") or []} or None,
        tracing_enabled=is_true(properties.get("TracingEnabled", False)),
    )
    log_setting = properties.get("AccessLogSetting")
    if log_setting:
        stage.access_log_settings = {
            "destinationArn": log_setting.get("DestinationArn"),
            "format": log_setting.get("Format"),
        }
    for setting in properties.get("MethodSettings") or []:
        key = f"{setting.get('ResourcePath', '/*').removeprefix('/')}/{setting.get('HttpMethod', '*')}"
        values = stage.method_settings.setdefault(key, dict(_METHOD_SETTING_DEFAULTS))
        for name_in_template, value in setting.items():
            if name_in_template in ("ResourcePath", "HttpMethod"):
                continue
            api_name = name_in_template[0].lower() + name_in_template[1:]
            kind = _METHOD_SETTING_KINDS.get(api_name)
            values[api_name] = is_true(value) if kind is bool else kind(value) if kind else value
    return stage


def is_true(value: Any) -> bool:
    """A template's boolean: CloudFormation accepts ``true`` and ``"true"`` (any case)."""
    return value is True or str(value).lower() == "true"
