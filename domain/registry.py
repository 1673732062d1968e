"""The model registry as the use cases see it: one port for registering, reading and deciding versions.

A dataset's model versions live in its model package group (``domain.names.model_package_group``).
Training registers a version that passed the gate (``domain.training.verdict.register_run``) and reads
the approved ones, the candidates for the champion (``domain.training.prepare.prepare_run``); a
deployment reads the version it deploys, the approvals that supersede it, and records how it went
(``domain.deployment.run``); a person approves, rejects and rolls back (``mlops models``).

``adapters.registry.SageMakerModelRegistry`` implements it over SageMaker's Model Registry; tests pass
an in-memory one (``tests/fake_registry.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from domain.training.gate import GateDecision
from domain.training.registration import ModelVersion, RegistrationFacts

__all__ = ["ModelRegistry"]


class ModelRegistry(Protocol):
    """Model versions of each dataset, in its model package group."""

    def ensure_group(self, group: str, description: str = "") -> str:
        """Create the group unless it exists; its ARN either way."""
        ...

    def register(
        self,
        evaluation: Mapping[str, Any],
        decision: GateDecision,
        facts: RegistrationFacts,
        *,
        auto_approve: bool,
    ) -> tuple[ModelVersion, bool]:
        """Register a model that passed the gate, once per run; the version and whether it was created."""
        ...

    def describe(self, arn: str) -> ModelVersion:
        """One version by its model package ARN."""
        ...

    def version(self, group: str, number: int) -> ModelVersion:
        """Version ``number`` of ``group``."""
        ...

    def versions(
        self, group: str | None = None, *, dataset: str | None = None, prefix: str = ""
    ) -> list[ModelVersion]:
        """Versions of one group (or of every group starting with ``prefix``), newest first in each."""
        ...

    def approved_versions(self, group: str) -> list[int]:
        """The version numbers of ``group`` that are Approved now, newest first."""
        ...

    def approved_newest_first(self, group: str) -> Iterable[ModelVersion]:
        """The champion's candidates: approved versions of ``group``, newest first; none without a group.

        :func:`domain.training.champion.champion` reads them only as far as the champion, so an
        implementation may describe each version as it is asked for it.
        """
        ...

    def record_deployment(self, arn: str, metadata: dict[str, str]) -> None:
        """Merge deployment facts into a version's metadata; its approval stays as it is."""
        ...

    def approve(self, arn: str, reason: str, approver: str | None = None) -> ModelVersion:
        """Approve a version, recording why and who."""
        ...

    def reject(self, arn: str, reason: str, approver: str | None = None) -> ModelVersion:
        """Reject a version, recording why and who."""
        ...
