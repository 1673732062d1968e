"""The model registry (SageMaker model package groups, packages and model cards): ``domain.registry``'s port.

Facts that shape this adapter:

- Registration is retried by the pipeline; a retry must not create a second version. The adapter looks
  for a package of the same execution in the group before creating one, and the request carries a
  ``ClientToken`` derived from the execution, so that AWS refuses a concurrent duplicate as well.
- ``UpdateModelPackage`` merges ``CustomerMetadataProperties`` on AWS but replaces them in moto, and moto
  clears ``ApprovalDescription`` when it is not passed: a decision writes the whole map back and the
  description every time, which leaves the same result on both.
- Packages cannot be tagged in moto (it crashes) and cannot be deleted: nothing here needs either.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError

from adapters.aws import client, error_code
from domain.names import model_card_name
from domain.training.gate import GateDecision
from domain.training.model_card import model_card_content
from domain.training.registration import (
    ModelVersion,
    RegistrationFacts,
    decision_metadata,
    model_package_request,
    trained_by,
)

__all__ = ["ModelVersionNotFoundError", "RegistryError", "SageMakerModelRegistry"]

Decision = Literal["Approved", "Rejected"]
MAX_REASON = 1024


class RegistryError(Exception):
    """The registry refused a request, or the request makes no sense (a decision without a reason)."""


class ModelVersionNotFoundError(RegistryError):
    """No model package with that ARN, or no such version in the group."""


class SageMakerModelRegistry:
    """Model versions of each dataset in its SageMaker model package group (``domain.registry``'s port).

    Parameters
    ----------
    now : callable, optional
        The clock (when a decision was made).
    page_size : int
        Items per listing request (100 is the most SageMaker returns).
    candidates : int
        How many of the newest approved versions are the champion's candidates (one listing page).
    """

    def __init__(
        self,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        page_size: int = 100,
        candidates: int = 20,
    ) -> None:
        self._sagemaker = client("sagemaker")
        self._now = now
        self._pages = {"PageSize": page_size}
        self._candidates = candidates

    def ensure_group(self, group: str, description: str = "") -> str:
        """Create the model package group unless it exists; its ARN either way."""
        try:
            return str(self._sagemaker.describe_model_package_group(ModelPackageGroupName=group)[
                "ModelPackageGroupArn"])  # fmt: skip
        except ClientError as error:
            if error_code(error) not in ("ValidationException", "ResourceNotFound"):
                raise RegistryError(f"cannot read model package group {group}: {error}") from error
        try:
            created = self._sagemaker.create_model_package_group(
                ModelPackageGroupName=group, ModelPackageGroupDescription=description[:1024]
            )
        except ClientError as error:
            raise RegistryError(f"cannot create model package group {group}: {error}") from error
        return str(created["ModelPackageGroupArn"])

    def register(
        self,
        evaluation: Mapping[str, Any],
        decision: GateDecision,
        facts: RegistrationFacts,
        *,
        auto_approve: bool,
    ) -> tuple[ModelVersion, bool]:
        """Register a model that passed the gate, with its model card, once per pipeline run.

        Parameters
        ----------
        evaluation, decision, facts, auto_approve
            See :func:`domain.training.registration.model_package_request`.

        Returns
        -------
        tuple of (ModelVersion, bool)
            The version, and whether this call created it (False: the run had registered it before).

        Raises
        ------
        RegistrationError
            The gate rejected the model (nothing is written).
        RegistryError
            SageMaker refused a request.
        """
        request = model_package_request(evaluation, decision, facts, auto_approve=auto_approve)
        existing = self._find_run(facts.group, facts.execution_arn)
        if existing is None:
            try:
                arn = self._sagemaker.create_model_package(**request)["ModelPackageArn"]
            except ClientError as error:
                raise RegistryError(f"cannot register a model in {facts.group}: {error}") from error
            version = self.describe(arn)
        else:
            version = existing
        # Also on the found path: a retry after a crash between the two calls finishes the card.
        self._ensure_card(
            model_card_name(facts.group, version.version),
            model_card_content(evaluation, decision, facts, version=version.version),
        )
        return version, existing is None

    def _ensure_card(self, name: str, content: dict[str, Any]) -> None:
        try:
            self._sagemaker.create_model_card(
                ModelCardName=name, Content=json.dumps(content), ModelCardStatus="Draft"
            )
        except ClientError as error:
            if error_code(error) not in ("ConflictException", "ResourceInUse"):
                raise RegistryError(f"cannot create model card {name}: {error}") from error

    def _find_run(self, group: str, execution_arn: str) -> ModelVersion | None:
        # Summaries carry no metadata but the description, which names the run: only the versions it
        # names are described, so a group of thousands costs its listing pages, not a call per version
        # (the registration function has a minute).
        run = trained_by(execution_arn) + " "
        for summary in self._summaries(group):
            if run not in (summary.get("ModelPackageDescription") or ""):
                continue
            version = self.describe(summary["ModelPackageArn"])
            if version.execution_arn == execution_arn:
                return version
        return None

    def _summaries(self, group: str) -> Iterator[dict[str, Any]]:
        summaries: list[dict[str, Any]] = []
        try:
            for page in self._sagemaker.get_paginator("list_model_packages").paginate(
                ModelPackageGroupName=group, ModelPackageType="Versioned", PaginationConfig=self._pages
            ):
                summaries.extend(page["ModelPackageSummaryList"])
        except ClientError as error:
            raise RegistryError(f"cannot list model packages of {group}: {error}") from error
        yield from sorted(summaries, key=lambda s: int(s.get("ModelPackageVersion") or 0), reverse=True)

    def _groups(self, prefix: str) -> list[str]:
        names: list[str] = []
        # NameContains narrows the listing on the server; the prefix is checked here.
        contains = {"NameContains": prefix} if prefix else {}
        try:
            for page in self._sagemaker.get_paginator("list_model_package_groups").paginate(
                **contains, PaginationConfig=self._pages
            ):
                names.extend(g["ModelPackageGroupName"] for g in page["ModelPackageGroupSummaryList"])
        except ClientError as error:
            raise RegistryError(f"cannot list model package groups: {error}") from error
        return sorted(name for name in names if name.startswith(prefix))

    def versions(
        self, group: str | None = None, *, dataset: str | None = None, prefix: str = ""
    ) -> list[ModelVersion]:
        """Model versions, newest first within each group.

        Parameters
        ----------
        group : str, optional
            One model package group; when omitted, every group whose name starts with ``prefix``.
        dataset : str, optional
            Only versions trained on this dataset (by their lineage).
        prefix : str
            The groups' name prefix (one platform's groups) when ``group`` is omitted.
        """
        found = [
            self.describe(summary["ModelPackageArn"])
            for name in ([group] if group else self._groups(prefix))
            for summary in self._summaries(name)
        ]
        return [v for v in found if dataset is None or v.dataset == dataset]

    def describe(self, arn: str) -> ModelVersion:
        """One version by its model package ARN."""
        try:
            described = self._sagemaker.describe_model_package(ModelPackageName=arn)
        except ClientError as error:
            if error_code(error) in ("ValidationException", "ResourceNotFound"):
                raise ModelVersionNotFoundError(f"no model version {arn}") from error
            raise RegistryError(f"cannot describe model version {arn}: {error}") from error
        return ModelVersion.from_description(described)

    def version(self, group: str, number: int) -> ModelVersion:
        """Version ``number`` of ``group``."""
        for summary in self._summaries(group):
            if int(summary.get("ModelPackageVersion") or 0) == number:
                return self.describe(summary["ModelPackageArn"])
        raise ModelVersionNotFoundError(f"{group} has no version {number}")

    def approved_versions(self, group: str) -> list[int]:
        """The version numbers of ``group`` that are Approved now, newest first."""
        return [
            int(summary["ModelPackageVersion"])
            for summary in self._summaries(group)
            if summary.get("ModelApprovalStatus") == "Approved"
        ]

    def approved_newest_first(self, group: str) -> Iterator[ModelVersion]:
        """The approved versions of ``group``, newest first, each described when it is asked for.

        None when the group does not exist: a dataset's first run comes before its group.
        """
        try:
            listed = self._sagemaker.list_model_packages(
                ModelPackageGroupName=group,
                ModelApprovalStatus="Approved",
                SortBy="CreationTime",
                SortOrder="Descending",
                MaxResults=self._candidates,
            )
            # Described one at a time: usually the first or second is the one in service, and the
            # policy stops reading there.
            for summary in listed["ModelPackageSummaryList"]:
                described = self._sagemaker.describe_model_package(
                    ModelPackageName=summary["ModelPackageArn"]
                )
                yield ModelVersion.from_description(described)
        except ClientError as error:
            if error_code(error) in ("ValidationException", "ResourceNotFound"):
                return
            raise RegistryError(f"cannot read the approved versions of {group}: {error}") from error

    def record_deployment(self, arn: str, metadata: dict[str, str]) -> None:
        """Merge deployment facts into a version's metadata; its approval stays as it is."""
        try:
            current = self._sagemaker.describe_model_package(ModelPackageName=arn)
        except ClientError as error:
            raise ModelVersionNotFoundError(f"no model version {arn}: {error}") from error
        merged = dict(current.get("CustomerMetadataProperties") or {}) | metadata
        try:
            self._sagemaker.update_model_package(
                ModelPackageArn=current["ModelPackageArn"], CustomerMetadataProperties=merged
            )
        except ClientError as error:
            raise RegistryError(f"cannot record the deployment on {arn}: {error}") from error

    def approve(self, arn: str, reason: str, approver: str | None = None) -> ModelVersion:
        """Approve a version, recording why and who (the caller's identity unless ``approver``)."""
        return self._decide(arn, "Approved", reason, approver)

    def reject(self, arn: str, reason: str, approver: str | None = None) -> ModelVersion:
        """Reject a version, recording why and who (the caller's identity unless ``approver``)."""
        return self._decide(arn, "Rejected", reason, approver)

    def _decide(self, arn: str, status: Decision, reason: str, approver: str | None) -> ModelVersion:
        if not reason.strip():
            raise RegistryError("a decision needs a reason")
        try:
            current = self._sagemaker.describe_model_package(ModelPackageName=arn)
        except ClientError as error:
            raise ModelVersionNotFoundError(f"no model version {arn}: {error}") from error
        metadata = decision_metadata(
            current.get("CustomerMetadataProperties") or {},
            approver=approver or self._caller(),
            at=self._now().isoformat(timespec="seconds"),
        )
        try:
            self._sagemaker.update_model_package(
                ModelPackageArn=current["ModelPackageArn"],
                ModelApprovalStatus=status,
                ApprovalDescription=reason.strip()[:MAX_REASON],
                CustomerMetadataProperties=metadata,
            )
        except ClientError as error:
            raise RegistryError(f"cannot set {arn} to {status}: {error}") from error
        return self.describe(current["ModelPackageArn"])

    def _caller(self) -> str:
        # Who is deciding, as AWS knows them; a missing STS permission must not block the decision.
        try:
            return str(client("sts").get_caller_identity()["Arn"])
        except (ClientError, BotoCoreError):
            return "unknown"
