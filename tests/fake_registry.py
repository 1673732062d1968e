"""``domain.registry.ModelRegistry`` in memory, for the use cases' unit tests.

Each version is kept as ``DescribeModelPackage`` describes it and read back through
``ModelVersion.from_description``, as the SageMaker adapter reads it: a deployment recorded or a decision
made shows in the versions read afterwards, as it does in the real registry.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from domain.training.gate import GateDecision
from domain.training.registration import (
    ModelVersion,
    RegistrationFacts,
    decision_metadata,
    model_package_request,
)

__all__ = ["FakeModelRegistry", "package_arn"]


def package_arn(group: str, number: int) -> str:
    """The ARN SageMaker gives version ``number`` of ``group``."""
    return f"arn:aws:sagemaker:us-east-1:123456789012:model-package/{group}/{number}"


@dataclass
class FakeModelRegistry:
    """Model package groups and their versions, newest last in ``packages``."""

    packages: dict[str, dict[str, Any]] = field(default_factory=dict)
    groups: set[str] = field(default_factory=set)
    caller: str = "arn:aws:iam::123456789012:user/tester"
    now: str = "2026-12-06T12:00:00+00:00"

    def add(
        self,
        group: str,
        status: str = "Approved",
        metadata: Mapping[str, str] | None = None,
        *,
        model_data_url: str | None = None,
    ) -> ModelVersion:
        """Register the next version of ``group`` directly (as a test's given), with its archive if told."""
        self.groups.add(group)
        number = len(self._numbers(group)) + 1
        arn = package_arn(group, number)
        self.packages[arn] = {
            "ModelPackageArn": arn,
            "ModelPackageGroupName": group,
            "ModelPackageVersion": number,
            "ModelApprovalStatus": status,
            "CustomerMetadataProperties": dict(metadata or {}),
        }
        if model_data_url is not None:
            self.packages[arn]["InferenceSpecification"] = {"Containers": [{"ModelDataUrl": model_data_url}]}
        return self.describe(arn)

    def _numbers(self, group: str) -> list[int]:
        return [
            p["ModelPackageVersion"] for p in self.packages.values() if p["ModelPackageGroupName"] == group
        ]

    def ensure_group(self, group: str, description: str = "") -> str:
        self.groups.add(group)
        return f"arn:aws:sagemaker:us-east-1:123456789012:model-package-group/{group}"

    def register(
        self,
        evaluation: Mapping[str, Any],
        decision: GateDecision,
        facts: RegistrationFacts,
        *,
        auto_approve: bool,
    ) -> tuple[ModelVersion, bool]:
        request = model_package_request(evaluation, decision, facts, auto_approve=auto_approve)
        for version in self.versions(facts.group):
            if version.execution_arn == facts.execution_arn:
                return version, False
        added = self.add(facts.group, request["ModelApprovalStatus"])
        self.packages[added.arn] |= {k: v for k, v in request.items() if k != "ClientToken"}
        return self.describe(added.arn), True

    def describe(self, arn: str) -> ModelVersion:
        return ModelVersion.from_description(self.packages[arn])

    def version(self, group: str, number: int) -> ModelVersion:
        return self.describe(package_arn(group, number))

    def versions(
        self, group: str | None = None, *, dataset: str | None = None, prefix: str = ""
    ) -> list[ModelVersion]:
        groups = [group] if group else sorted(g for g in self.groups if g.startswith(prefix))
        found = [self.version(g, n) for g in groups for n in sorted(self._numbers(g), reverse=True)]
        return [v for v in found if dataset is None or v.dataset == dataset]

    def approved_versions(self, group: str) -> list[int]:
        return [v.version for v in self.approved_newest_first(group)]

    def approved_newest_first(self, group: str) -> Iterator[ModelVersion]:
        return (v for v in self.versions(group) if v.approval_status == "Approved")

    def record_deployment(self, arn: str, metadata: dict[str, str]) -> None:
        self.packages[arn]["CustomerMetadataProperties"] |= metadata

    def approve(self, arn: str, reason: str, approver: str | None = None) -> ModelVersion:
        return self._decide(arn, "Approved", reason, approver)

    def reject(self, arn: str, reason: str, approver: str | None = None) -> ModelVersion:
        return self._decide(arn, "Rejected", reason, approver)

    def _decide(self, arn: str, status: str, reason: str, approver: str | None) -> ModelVersion:
        package = self.packages[arn]
        package["CustomerMetadataProperties"] = decision_metadata(
            package["CustomerMetadataProperties"], approver=approver or self.caller, at=self.now
        )
        package |= {"ModelApprovalStatus": status, "ApprovalDescription": reason}
        return self.describe(arn)
