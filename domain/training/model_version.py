"""A registered model version, as the registry describes it: the reader of the metadata registration writes.

Re-exported by :mod:`domain.training.registration`, where it was first written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from domain import model_metadata as keys

__all__ = ["ModelVersion"]


def _prefixed(meta: Mapping[str, str], prefix: str) -> dict[str, str]:
    """The entries under ``prefix`` (``hp.``, ``metric.``), by the name after it."""
    return {name.removeprefix(prefix): value for name, value in meta.items() if name.startswith(prefix)}


@dataclass(frozen=True)
class ModelVersion:
    """A registered model version, as the registry describes it."""

    arn: str
    group: str
    version: int
    approval_status: str
    created_at: str | None
    description: str
    dataset: str | None
    dataset_version: str | None
    code_version: str | None
    execution_arn: str | None
    trigger: str | None
    trigger_reference: str | None
    trigger_reason: str | None
    family: str | None
    hyperparameters: dict[str, str]
    metrics: dict[str, float]
    gate_decision: str | None
    gate_summary: str | None
    approval_description: str | None
    decided_by: str | None
    decided_at: str | None
    image_uri: str | None
    model_data_url: str | None
    evaluation_url: str | None
    deployment_status: str | None = None
    deployment_endpoint: str | None = None
    deployment_reason: str | None = None
    deployment_at: str | None = None
    module: str | None = None
    module_sha256: str | None = None
    import_sha256: str | None = None
    imported_by: str | None = None
    import_name: str | None = None
    packages: str | None = None
    hyperparameters_omitted: str | None = None

    @classmethod
    def from_description(cls, described: Mapping[str, Any]) -> ModelVersion:
        """The version from a ``DescribeModelPackage`` response."""
        meta: Mapping[str, str] = described.get("CustomerMetadataProperties") or {}
        containers = (described.get("InferenceSpecification") or {}).get("Containers") or [{}]
        statistics = ((described.get("ModelMetrics") or {}).get("ModelQuality") or {}).get("Statistics") or {}
        created = described.get("CreationTime")
        created_at = created.isoformat() if isinstance(created, datetime) else created
        return cls(
            arn=described["ModelPackageArn"],
            group=described.get("ModelPackageGroupName") or "",
            version=int(described.get("ModelPackageVersion") or 0),
            approval_status=described.get("ModelApprovalStatus") or "",
            created_at=created_at,
            description=described.get("ModelPackageDescription") or "",
            dataset=meta.get(keys.LINEAGE_DATASET),
            dataset_version=meta.get(keys.LINEAGE_DATASET_VERSION),
            code_version=meta.get(keys.LINEAGE_CODE_VERSION),
            execution_arn=meta.get(keys.LINEAGE_EXECUTION_ARN),
            trigger=meta.get(keys.LINEAGE_TRIGGER),
            trigger_reference=meta.get(keys.LINEAGE_TRIGGER_REFERENCE),
            trigger_reason=meta.get(keys.LINEAGE_TRIGGER_REASON),
            family=meta.get(keys.MODEL_FAMILY),
            hyperparameters=_prefixed(meta, keys.HYPERPARAMETER),
            metrics={name: float(v) for name, v in _prefixed(meta, keys.METRIC).items()},
            gate_decision=meta.get(keys.GATE_DECISION),
            gate_summary=meta.get(keys.GATE_SUMMARY),
            approval_description=described.get("ApprovalDescription"),
            decided_by=meta.get(keys.APPROVAL_BY),
            decided_at=meta.get(keys.APPROVAL_AT),
            image_uri=containers[0].get("Image"),
            model_data_url=containers[0].get("ModelDataUrl"),
            evaluation_url=statistics.get("S3Uri"),
            deployment_status=meta.get(keys.DEPLOYMENT_STATUS),
            deployment_endpoint=meta.get(keys.DEPLOYMENT_ENDPOINT),
            deployment_reason=meta.get(keys.DEPLOYMENT_REASON),
            deployment_at=meta.get(keys.DEPLOYMENT_AT),
            module=meta.get(keys.LINEAGE_MODULE),
            module_sha256=meta.get(keys.LINEAGE_MODULE_SHA256),
            import_sha256=meta.get(keys.LINEAGE_IMPORT_SHA256),
            imported_by=meta.get(keys.LINEAGE_IMPORTED_BY),
            import_name=meta.get(keys.LINEAGE_IMPORT_NAME),
            packages=meta.get(keys.MODEL_PACKAGES),
            hyperparameters_omitted=meta.get(keys.MODEL_HYPERPARAMETERS_OMITTED),
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``mlops models show --json``)."""
        return asdict(self)
