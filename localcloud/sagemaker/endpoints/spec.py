"""What a fleet serves: an endpoint configuration's variants, with their models' containers resolved.

A model created from a model package (``Containers=[{"ModelPackageName": arn, "Environment": {...}}]``,
what the deployment workflow does) runs the package's first inference container
(``InferenceSpecification.Containers[0]``: ``Image``, ``ModelDataUrl``, ``Environment``) with the
model's ``Environment`` merged over the package's, as SageMaker runs it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from moto.sagemaker.exceptions import ValidationError

from localcloud.sagemaker.endpoints.capture import CaptureSettings


def resolve_container(backend: Any, container: Mapping[str, Any]) -> dict[str, Any]:
    """A model's container with what its ``ModelPackageName`` brings (unchanged without one).

    Raises
    ------
    ValidationError
        If the model package does not exist or has no inference container.
    """
    resolved = dict(container)
    package_name = container.get("ModelPackageName")
    if not package_name:
        return resolved
    package = backend.describe_model_package(package_name)  # ValidationError when missing
    containers = (package.inference_specification or {}).get("Containers") or []
    if not containers:
        raise ValidationError(message=f"Model package {package_name} has no inference containers")
    source = containers[0]
    resolved["ModelPackageName"] = package.arn
    for key in ("Image", "ModelDataUrl"):
        if source.get(key) and not resolved.get(key):
            resolved[key] = source[key]
    resolved["Environment"] = {**(source.get("Environment") or {}), **(container.get("Environment") or {})}
    return resolved


def model_container(backend: Any, model_name: str) -> tuple[dict[str, Any], bool]:
    """The container a model serves (its primary one) and whether it is network-isolated."""
    model = backend.describe_model(model_name)  # ValidationError when missing
    containers = [c for c in (model.containers or []) if c] or (
        [model.primary_container] if model.primary_container else []
    )
    if not containers:
        raise ValidationError(message=f"Model {model_name} has no container")
    return resolve_container(backend, containers[0]), bool(getattr(model, "enable_network_isolation", False))


@dataclass(frozen=True)
class VariantSpec:
    """One production variant of an endpoint configuration, ready to serve."""

    name: str
    model_name: str
    image: str
    model_data_url: str | None
    environment: Mapping[str, str]
    network_isolation: bool
    weight: float
    instance_count: int | None
    instance_type: str | None
    serverless: Mapping[str, Any] | None
    role_arn: str = ""  # the model's ExecutionRoleArn: SageMaker downloads, serves and captures as it

    @property
    def instances(self) -> int:
        """Instances it stands for (1 for a serverless variant)."""
        return self.instance_count or 1


@dataclass(frozen=True)
class FleetSpec:
    """An endpoint configuration as one endpoint serves it."""

    account_id: str
    region: str
    endpoint: str
    config_name: str
    variants: tuple[VariantSpec, ...]
    capture: CaptureSettings | None
    capture_config: Mapping[str, Any] | None = field(default=None)

    @property
    def instances(self) -> int:
        """Instances of all its variants."""
        return sum(variant.instances for variant in self.variants)

    @classmethod
    def from_backend(cls, backend: Any, endpoint: str, config_name: str) -> FleetSpec:
        """Read the configuration and its models from moto's SageMaker backend.

        Raises
        ------
        ValidationError
            If the configuration, a model or a model package is missing.
        """
        config = backend.describe_endpoint_config(config_name)  # ValidationError when missing
        variants = []
        for variant in config.get("ProductionVariants") or []:
            container, isolated = model_container(backend, variant["ModelName"])
            variants.append(
                VariantSpec(
                    name=variant["VariantName"],
                    model_name=variant["ModelName"],
                    image=str(container.get("Image") or ""),
                    model_data_url=container.get("ModelDataUrl"),
                    environment={str(k): str(v) for k, v in (container.get("Environment") or {}).items()},
                    network_isolation=isolated,
                    weight=float(variant.get("InitialVariantWeight", 1.0)),
                    instance_count=variant.get("InitialInstanceCount"),
                    instance_type=variant.get("InstanceType"),
                    serverless=variant.get("ServerlessConfig"),
                    role_arn=str(backend.describe_model(variant["ModelName"]).execution_role_arn or ""),
                )
            )
        capture_config = config.get("DataCaptureConfig") or None
        return cls(
            account_id=backend.account_id,
            region=backend.region_name,
            endpoint=endpoint,
            config_name=config_name,
            variants=tuple(variants),
            capture=CaptureSettings.from_config(capture_config),
            capture_config=capture_config,
        )
