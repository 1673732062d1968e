"""CloudFormation models of the API Gateway types moto's CloudFormation skips: stages and request validators.

They are duck-typed like moto's ``CloudFormationModel`` subclasses without being ones: moto registers
every subclass of that class for good (at import, in a cached map), while these are only used while a
local cloud runs (``apigateway_cfn`` adds them to the map it patches).
"""

from __future__ import annotations

from typing import Any

from moto.apigateway.models import Stage, apigateway_backends

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


class StageResource:
    """``AWS::ApiGateway::Stage`` as a moto CloudFormation model (``Ref``: the stage name)."""

    def __init__(self, account_id: str, region_name: str, api_id: str, name: str) -> None:
        self.account_id = account_id
        self.region_name = region_name
        self.api_id = api_id
        self.name = name

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ApiGateway::Stage"

    @staticmethod
    def cloudformation_name_type() -> str:
        return "StageName"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return False

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

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        """Never called: moto deletes through ``delete`` when the model has one."""

    def delete(self, account_id: str, region_name: str) -> None:
        api = apigateway_backends[self.account_id][self.region_name].apis.get(self.api_id)
        if api is not None:
            api.stages.pop(self.name, None)

    def is_created(self) -> bool:
        return True


class RequestValidatorResource:
    """``AWS::ApiGateway::RequestValidator`` as a moto CloudFormation model (``Ref``: its id)."""

    def __init__(self, account_id: str, region_name: str, api_id: str, validator_id: str) -> None:
        self.account_id = account_id
        self.region_name = region_name
        self.api_id = api_id
        self.validator_id = validator_id

    @property
    def physical_resource_id(self) -> str:
        return self.validator_id

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ApiGateway::RequestValidator"

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "RequestValidatorId"

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

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        """Never called: moto deletes through ``delete`` when the model has one."""

    def delete(self, account_id: str, region_name: str) -> None:
        api = apigateway_backends[self.account_id][self.region_name].apis.get(self.api_id)
        if api is not None:
            api.request_validators.pop(self.validator_id, None)

    def is_created(self) -> bool:
        return True


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
