"""The IAM evaluator's and enforcer's own errors."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from localcloud.iam.evaluate import Decision


class PolicyError(ValueError):
    """A policy document that AWS would refuse as malformed; the message says which element and why."""


class AccessDeniedError(Exception):
    """A request that the caller's policies do not allow, worded as AWS words the denial.

    Parameters
    ----------
    decision : Decision
        The evaluator's decision (its request names the principal, action and resource).
    message : str | None
        AWS's text when it is not the decision's own (a failed ``sts:AssumeRole``); the decision's
        ``message`` when None.
    code : str
        The error code the service answers with ("AccessDenied", "AccessDeniedException"...).
    """

    def __init__(self, decision: Decision, *, message: str | None = None, code: str = "AccessDenied") -> None:
        self.decision = decision
        self.message = message if message is not None else decision.message
        self.code = code
        super().__init__(self.message)


class UnknownAccessKeyError(LookupError):
    """An access key the local cloud never issued (AWS answers ``InvalidClientTokenId``)."""

    message = "The security token included in the request is invalid."

    def __init__(self, access_key: str) -> None:
        self.access_key = access_key
        super().__init__(f"{self.message} (access key {access_key!r} was not issued by the local cloud)")
