"""A deployment request: what to deploy where, and why (the deployment workflow's input).

Built by the start function from an approval and by ``mlops models rollback``; read back by the
workflow's functions. ``domain.deployment_run`` re-exports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

from domain.state_limits import cap_text

__all__ = ["DEPLOYMENT_FORMAT", "DeploymentRequest", "DeploymentRequestError", "Trigger"]

DEPLOYMENT_FORMAT = 1
Trigger = Literal["approval", "rollback"]


class DeploymentRequestError(ValueError):
    """The workflow's input is not a deployment request."""


@dataclass(frozen=True)
class DeploymentRequest:
    """What to deploy where, and why: the deployment workflow's input.

    Attributes
    ----------
    dataset, endpoint : str
    package_arn : str
        The model package (version) to serve.
    version : int
    trigger : {"approval", "rollback"}
    reason : str
        The approval's description, or the rollback's reason.
    requested_at : str
        ISO 8601: when it was approved or the rollback asked for.
    """

    dataset: str
    endpoint: str
    package_arn: str
    version: int
    trigger: Trigger
    reason: str
    requested_at: str

    def to_input(self) -> dict[str, Any]:
        """The execution's input document, its reason cut to what a workflow state carries.

        The reason is a copy (the approval's description is on the model package, a rollback's in the
        versions it rejected): the input is in every state of the deployment (``domain.state_limits``).
        """
        return {"format": DEPLOYMENT_FORMAT, **asdict(self), "reason": cap_text(self.reason)}

    @classmethod
    def from_input(cls, document: Mapping[str, Any]) -> DeploymentRequest:
        """Read an execution's input (raises DeploymentRequestError)."""
        try:
            if document.get("format") != DEPLOYMENT_FORMAT:
                raise DeploymentRequestError(f"unknown deployment input format {document.get('format')!r}")
            trigger = document["trigger"]
            if trigger not in ("approval", "rollback"):
                raise DeploymentRequestError(f"unknown trigger {trigger!r}")
            return cls(
                dataset=str(document["dataset"]),
                endpoint=str(document["endpoint"]),
                package_arn=str(document["package_arn"]),
                version=int(document["version"]),
                trigger=trigger,
                reason=str(document.get("reason") or ""),
                requested_at=str(document["requested_at"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            if isinstance(error, DeploymentRequestError):
                raise
            raise DeploymentRequestError(f"not a deployment request: {error!r}") from None
