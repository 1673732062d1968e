"""Plugs the endpoint manager into moto's SageMaker API.

- ``CreateModel``: a container with a ``ModelPackageName`` is resolved (the package's image, model data
  and environment, the request's ``Environment`` merged over it: see ``spec``); ``EnableNetworkIsolation``
  is kept (moto drops it); an existing name is refused, as SageMaker refuses it, and so is (with IAM
  enforced) an ``ExecutionRoleArn`` SageMaker cannot assume (``roles``).
- ``CreateEndpointConfig``: an existing name is refused (moto overwrites it), and so is what SageMaker
  refuses (``requests``: an isolated model on a serverless variant, ``KmsKeyId`` with local storage).
- ``CreateEndpoint`` (also from CloudFormation): ``Creating`` while the fleet starts; an existing name is
  refused, a fleet past the account's quotas too (``quotas``).
- ``UpdateEndpoint`` (moto lacks it): a blue/green update, refused unless the endpoint is ``InService``,
  its ``DeploymentConfig`` is one SageMaker takes (``deployment_rules``) and the new fleet fits the quotas.
- ``DeleteEndpoint``: ``Deleting`` while the fleets stop, then gone (the name is taken until then).
- ``UpdateEndpointWeightsAndCapacities``: refused unless the endpoint is ``InService``.
"""

from __future__ import annotations

from typing import Any

from moto.core.responses import ActionResult
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.models import FakeEndpoint, FakeEndpointConfig, SageMakerModelBackend
from moto.sagemaker.responses import SageMakerResponse
from moto.sagemaker.utils import arn_formatter

from localcloud.patches import Patch
from localcloud.sagemaker import roles
from localcloud.sagemaker.endpoints import describe
from localcloud.sagemaker.endpoints.manager import EndpointBusyError, EndpointManager, NotServingError
from localcloud.sagemaker.endpoints.plan import RolloutPlan
from localcloud.sagemaker.endpoints.quotas import EndpointQuotas
from localcloud.sagemaker.endpoints.requests import (
    DELETE,
    SCALE,
    UPDATE,
    check_endpoint_config,
    check_operation,
)
from localcloud.sagemaker.endpoints.spec import FleetSpec, resolve_container


def patches(manager: EndpointManager, quotas: EndpointQuotas | None = None) -> list[Patch]:
    """The replacements of moto's model, endpoint configuration and endpoint actions."""
    create_endpoint_config = SageMakerResponse.create_endpoint_config
    delete_endpoint = SageMakerModelBackend.delete_endpoint
    update_weights = SageMakerModelBackend.update_endpoint_weights_and_capacities
    quotas = quotas or EndpointQuotas()

    def create_model(response: SageMakerResponse) -> ActionResult:
        backend = response.sagemaker_backend
        name = response._get_param("ModelName")
        if name in backend._models:
            arn = arn_formatter("model", name, backend.account_id, backend.region_name)
            raise ValidationError(message=f'Cannot create already existing model "{arn}".')
        model_arn = arn_formatter("model", name, backend.account_id, backend.region_name)
        roles.check_role(manager.iam, response._get_param("ExecutionRoleArn"), source_arn=model_arn)
        primary = response._get_param("PrimaryContainer")
        containers = response._get_param("Containers")
        model: Any = backend.create_model(
            model_name=name,
            execution_role_arn=response._get_param("ExecutionRoleArn"),
            primary_container=resolve_container(backend, primary) if primary else None,
            vpc_config=response._get_param("VpcConfig"),
            containers=[resolve_container(backend, c) for c in containers or []],
            tags=response._get_param("Tags"),
        )
        model.enable_network_isolation = bool(response._get_param("EnableNetworkIsolation"))
        # moto reports what was not given as empty objects; SageMaker leaves them out.
        model.primary_container = model.primary_container or None
        model.vpc_config = model.vpc_config or None
        return ActionResult(model.response_create)

    def create_config(response: SageMakerResponse) -> ActionResult:
        backend = response.sagemaker_backend
        name = response._get_param("EndpointConfigName")
        if name in backend.endpoint_configs:
            arn = FakeEndpointConfig.arn_formatter(name, backend.account_id, backend.region_name)
            raise ValidationError(message=f'Cannot create already existing endpoint configuration "{arn}".')
        check_endpoint_config(
            backend, {key: response._get_param(key) for key in ("ProductionVariants", "KmsKeyId")}
        )
        return create_endpoint_config(response)

    def create_endpoint(
        backend: SageMakerModelBackend, endpoint_name: str, endpoint_config_name: str, tags: Any
    ) -> Any:
        if endpoint_name in backend.endpoints:
            arn = FakeEndpoint.arn_formatter(endpoint_name, backend.account_id, backend.region_name)
            raise ValidationError(message=f'Cannot create already existing endpoint "{arn}".')
        spec = FleetSpec.from_backend(backend, endpoint_name, endpoint_config_name)
        quotas.check(backend, spec)
        endpoint = describe.new_endpoint(backend.account_id, backend.region_name, endpoint_name, spec, tags)
        backend.endpoints[endpoint_name] = endpoint
        manager.create(endpoint, spec)
        return endpoint

    def update_endpoint(response: SageMakerResponse) -> ActionResult:
        backend = response.sagemaker_backend
        name = response._get_param("EndpointName")
        endpoint: Any = backend.endpoints.get(name)
        arn = FakeEndpoint.arn_formatter(name, backend.account_id, backend.region_name)
        if endpoint is None:
            raise ValidationError(message=f'Could not find endpoint "{arn}".')
        check_operation(UPDATE, endpoint.endpoint_status, arn)
        deployment_config = response._get_param("DeploymentConfig")
        if deployment_config is None and response._get_param("RetainDeploymentConfig"):
            deployment_config = endpoint.last_deployment_config
        spec = FleetSpec.from_backend(backend, name, response._get_param("EndpointConfigName"))
        plan = RolloutPlan.from_deployment_config(deployment_config, green_instances=spec.instances)
        quotas.check(backend, spec)  # the blue fleet still runs while the green one starts
        try:
            manager.update(endpoint.arn, spec, plan, deployment_config)
        except NotServingError:
            raise ValidationError(message=f'Could not find endpoint "{arn}".') from None
        except EndpointBusyError as busy:  # its status changed since the check
            check_operation(UPDATE, busy.status, arn)
            raise ValidationError(message=f'Cannot update in-progress endpoint "{arn}".') from None
        return ActionResult({"EndpointArn": endpoint.arn})

    def delete(backend: SageMakerModelBackend, endpoint_name: str) -> None:
        endpoint: Any = backend.endpoints.get(endpoint_name)
        if endpoint is None:
            delete_endpoint(backend, endpoint_name)  # ValidationError: Could not find endpoint
            return
        check_operation(DELETE, endpoint.endpoint_status, endpoint.arn)
        describe.deleting(endpoint)

        def gone() -> None:
            # The name is free once SageMaker has removed the endpoint (not when DeleteEndpoint returns).
            if backend.endpoints.get(endpoint_name) is endpoint:
                del backend.endpoints[endpoint_name]

        if not manager.delete(endpoint.arn, on_deleted=gone):
            gone()

    def scale(
        backend: SageMakerModelBackend,
        endpoint_name: str,
        desired_weights_and_capacities: list[dict[str, Any]],
    ) -> str:
        endpoint: Any = backend.endpoints.get(endpoint_name)
        if endpoint is not None:
            check_operation(SCALE, endpoint.endpoint_status, endpoint.arn)
        return str(update_weights(backend, endpoint_name, desired_weights_and_capacities))

    return [
        Patch(SageMakerResponse, "create_model", create_model),
        Patch(SageMakerResponse, "create_endpoint_config", create_config),
        Patch(SageMakerModelBackend, "create_endpoint", create_endpoint),
        Patch(SageMakerResponse, "update_endpoint", update_endpoint),
        Patch(SageMakerModelBackend, "delete_endpoint", delete),
        Patch(SageMakerModelBackend, "update_endpoint_weights_and_capacities", scale),
    ]
