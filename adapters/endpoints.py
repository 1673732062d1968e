"""SageMaker endpoints: models, endpoint configurations, endpoints, and the alarms that guard them.

Every create is idempotent: a name that exists is the one a retried step created before.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from adapters.aws import client, error_code, error_message

__all__ = ["EndpointError", "SageMakerEndpoints"]

_EXISTS = ("Cannot create already existing", "already exists")


class EndpointError(Exception):
    """SageMaker or CloudWatch refused a request."""


def _answer(error: ClientError) -> str:
    """What the service answered, without the SDK's wording around it."""
    return f"{error_code(error) or 'error'}: {error_message(error)}"


def _exists(error: ClientError) -> bool:
    message = error_message(error)
    return error_code(error) in ("ValidationException", "ResourceInUse") and any(
        m in message for m in _EXISTS
    )


class SageMakerEndpoints:
    """Creates what an endpoint serves and deploys it."""

    def __init__(self) -> None:
        self._sagemaker = client("sagemaker")
        self._cloudwatch = client("cloudwatch")

    def ensure_model(self, request: dict[str, Any]) -> bool:
        """Create the model unless it exists; True if this call created it."""
        try:
            self._sagemaker.create_model(**request)
        except ClientError as error:
            if _exists(error):
                return False
            raise EndpointError(f"cannot create model {request['ModelName']}: {_answer(error)}") from error
        return True

    def ensure_endpoint_config(self, request: dict[str, Any]) -> bool:
        """Create the endpoint configuration unless it exists; True if this call created it."""
        try:
            self._sagemaker.create_endpoint_config(**request)
        except ClientError as error:
            if _exists(error):
                return False
            raise EndpointError(
                f"cannot create endpoint configuration {request['EndpointConfigName']}: {_answer(error)}"
            ) from error
        return True

    def describe(self, endpoint: str) -> dict[str, Any] | None:
        """``DescribeEndpoint``, or None when there is no such endpoint."""
        try:
            described: dict[str, Any] = self._sagemaker.describe_endpoint(EndpointName=endpoint)
        except ClientError as error:
            if error_code(error) == "ValidationException" and "Could not find" in error_message(error):
                return None
            raise EndpointError(f"cannot describe endpoint {endpoint}: {_answer(error)}") from error
        described.pop("ResponseMetadata", None)
        return described

    def describe_config(self, name: str) -> dict[str, Any]:
        """``DescribeEndpointConfig``."""
        try:
            described: dict[str, Any] = self._sagemaker.describe_endpoint_config(EndpointConfigName=name)
        except ClientError as error:
            raise EndpointError(f"cannot describe endpoint configuration {name}: {_answer(error)}") from error
        return described

    def list_endpoints(self, prefix: str) -> list[dict[str, Any]]:
        """Endpoints whose names start with ``prefix``."""
        found: list[dict[str, Any]] = []
        try:
            for page in self._sagemaker.get_paginator("list_endpoints").paginate(NameContains=prefix):
                found.extend(e for e in page["Endpoints"] if e["EndpointName"].startswith(prefix))
        except ClientError as error:
            raise EndpointError(f"cannot list endpoints: {_answer(error)}") from error
        return sorted(found, key=lambda e: e["EndpointName"])

    def deploy(self, endpoint: str, config: str, deployment_config: dict[str, Any] | None) -> str:
        """Serve ``config`` on ``endpoint``: ``created``, ``updated`` or ``unchanged`` (already serving it).

        An endpoint that exists is updated with ``deployment_config`` (blue/green); serverless endpoints
        are updated without one (they cannot shift traffic gradually).
        """
        current = self.describe(endpoint)
        try:
            if current is None:
                self._sagemaker.create_endpoint(EndpointName=endpoint, EndpointConfigName=config)
                return "created"
            if current.get("EndpointConfigName") == config:
                return "unchanged"  # a retried step: the update was made before
            extra = {"DeploymentConfig": deployment_config} if deployment_config else {}
            self._sagemaker.update_endpoint(EndpointName=endpoint, EndpointConfigName=config, **extra)
        except ClientError as error:
            raise EndpointError(f"cannot deploy {config} to {endpoint}: {_answer(error)}") from error
        return "updated"

    def delete(self, endpoint: str) -> None:
        """``DeleteEndpoint``: ``Deleting`` until SageMaker removes it (already gone: nothing to do)."""
        try:
            self._sagemaker.delete_endpoint(EndpointName=endpoint)
        except ClientError as error:
            if error_code(error) == "ValidationException" and "Could not find" in error_message(error):
                return  # a retried step: deleted before
            raise EndpointError(f"cannot delete endpoint {endpoint}: {_answer(error)}") from error

    def alarms_in_alarm(self, names: list[str]) -> list[str]:
        """Those of the named CloudWatch alarms that are in ALARM now."""
        if not names:
            return []
        try:
            alarms = self._cloudwatch.describe_alarms(AlarmNames=names)["MetricAlarms"]
        except ClientError as error:
            raise EndpointError(f"cannot read alarms {names}: {_answer(error)}") from error
        return sorted(a["AlarmName"] for a in alarms if a.get("StateValue") == "ALARM")
