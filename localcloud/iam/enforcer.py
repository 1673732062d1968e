"""Enforcement: every request a principal makes is decided by its policies, as AWS decides it.

``Enforcer.authorize`` asks the table (``localcloud.iam.actions``) what a call needs, adds what AWS
implies besides (``localcloud.iam.implied``: the KMS key behind an encrypted object, topic or queue),
and decides each (action, resource) with ``evaluate`` from the principal's identity policies and the
resource's policy. The first denial raises ``AccessDeniedError`` with AWS's message; it is logged on
the "localcloud.iam" logger and handed to the denial listeners (a function's log group, where AWS
shows it to the function's author). Each allowed request is recorded: ``usage()`` reports, per role,
what it used and which statements of its policies nothing used (a grant wider than needed).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from localcloud.iam import absent_objects, actions, implied
from localcloud.iam.encryption_keys import MotoKeys
from localcloud.iam.errors import AccessDeniedError
from localcloud.iam.evaluate import Decision, Request, ResourcePolicy, caller, evaluate
from localcloud.iam.policies import PolicyNotFoundError
from localcloud.iam.policy import Policy
from localcloud.iam.report import AccessReport, Denial, Used, build_report

__all__ = ["AccessDeniedError", "AccessReport", "Denial", "Enforcer"]

logger = logging.getLogger("localcloud.iam")

ContextValues = Mapping[str, str | Sequence[str]]
DenialListener = Callable[[Denial], None]

_MAX_DENIALS = 1000  # the newest are kept: a runaway retry loop must not grow memory without end


class Policies(Protocol):
    """What the enforcer reads policies from (``localcloud.iam.policies.PolicyStore``)."""

    def identity_policies(self, principal: str) -> tuple[Policy, ...]:
        """A role's (or its session's) identity policies; ``PolicyNotFoundError`` if it is no role."""

    def resource_policy(self, resource: str, action: str | None = None) -> ResourcePolicy | None:
        """The policy AWS evaluates for ``action`` on ``resource``, if any."""


class Enforcer:
    """Decides the requests of principals of one account and region, and records what they use.

    Parameters
    ----------
    store : Policies
        Reads the identity and resource policies (``PolicyStore``: from moto's backends).
    account_id, region : str
        The local cloud's account and region (the table's ``{account}`` and ``{region}``).
    enabled : bool
        False: every ``authorize*`` returns at once and records nothing.
    keys : KeyLookup | None
        Where the KMS keys of encrypted objects, buckets, topics and queues are found; moto's
        backends when None.
    objects : ObjectLookup | None
        Where S3 objects are looked for (a read of a missing one needs ``s3:ListBucket`` to be told
        404, ``localcloud.iam.absent_objects``); moto's backend when None.
    """

    def __init__(
        self,
        store: Policies,
        *,
        account_id: str,
        region: str,
        enabled: bool,
        keys: implied.KeyLookup | None = None,
        objects: absent_objects.ObjectLookup | None = None,
    ) -> None:
        self.store = store
        self._keys = keys if keys is not None else MotoKeys(account_id, region)
        self._objects = objects if objects is not None else absent_objects.MotoObjects(account_id, region)
        self.account_id = account_id
        self.region = region
        self.enabled = enabled
        self._lock = threading.Lock()
        self._used: set[Used] = set()
        self._principals: set[str] = set()  # every role or user that made a request, allowed or not
        self._denials: list[Denial] = []
        self._listeners: list[DenialListener] = []
        self._gaps: list[str] = []

    def authorize(
        self,
        principal: str,
        service: str,
        operation: str,
        params: Mapping[str, Any],
        *,
        context: ContextValues | None = None,
    ) -> None:
        """Allow a boto3 call by ``principal`` or raise ``AccessDeniedError`` for its first denial.

        Parameters
        ----------
        principal : str
            A role session's (or role's) ARN, or a service principal.
        service, operation : str
            The boto3 service and method ("s3", "get_object").
        params : Mapping[str, Any]
            The call's parameters, as the API names them.
        context : Mapping | None
            Context keys the caller knows beyond the request's own (``aws:SourceArn``...).

        Raises
        ------
        AccessDeniedError
            When a policy denies one of the (action, resource) pairs the call needs, or the call reads
            an S3 object that does not exist and the caller may not list it (AWS's 403 in place of 404).
        UnmappedOperationError
            When the table has no entry for the call: a gap to fill in localcloud/iam/operations.py.
        """
        if not self.enabled:
            return
        needed = actions.required(service, operation, params, region=self.region, account=self.account_id)
        keys = {**self._base_context(principal), **implied.request_context(service, params)}
        keys.update(context or {})
        for item in needed:
            extra = implied.action_context(item.action, service)
            self._decide(principal, item.action, item.resource, {**keys, **extra})
        for item in implied.kms_permissions(service, operation, params, self._keys):
            kms_keys = {**keys, **implied.kms_context(service, self.region, self.account_id)}
            self._decide(principal, item.action, item.resource, kms_keys)
        listing = absent_objects.listing_needed(service, operation, params, self._objects)
        if listing is not None:
            item, prefix = listing
            self._decide(principal, item.action, item.resource, {**keys, "s3:prefix": prefix})

    def authorize_integration(self, principal: str, integration: str, params: Mapping[str, Any]) -> None:
        """Allow a state machine task's integration ("lambda:invoke", "sagemaker:createTrainingJob.sync").

        ``principal`` is the state machine's role (session); ``params`` the task's resolved Parameters.
        Raises as ``authorize``.
        """
        if not self.enabled:
            return
        needed = actions.integration_permissions(
            integration, params, region=self.region, account=self.account_id
        )
        keys = self._base_context(principal)
        service = integration.removeprefix("aws-sdk:").split(":", 1)[0]
        for item in needed:
            self._decide(
                principal,
                item.action,
                item.resource,
                {**keys, **implied.action_context(item.action, service)},
            )

    def authorize_action(
        self, principal: str, action: str, resource: str, *, context: ContextValues | None = None
    ) -> None:
        """Allow one action on one resource, or raise ``AccessDeniedError``.

        ``principal`` may be a service ("events.amazonaws.com"): then only the resource's policy (a
        function's, a topic's) can allow it, naming the service, usually with ``aws:SourceArn``.
        """
        if not self.enabled:
            return
        self._decide(principal, action, resource, {**self._base_context(principal), **(context or {})})

    def add_denial_listener(self, listener: DenialListener) -> None:
        """Call ``listener(denial)`` after each denial (on the denied request's thread)."""
        with self._lock:
            self._listeners.append(listener)

    def denials(self) -> list[Denial]:
        """The denials so far, oldest first (the newest 1,000)."""
        with self._lock:
            return list(self._denials)

    def record_gap(self, message: str) -> None:
        """Record a request enforcement could not decide (an operation the table lacks)."""
        with self._lock:
            if message not in self._gaps:
                self._gaps.append(message)
            del self._gaps[:-_MAX_DENIALS]

    def gaps(self) -> list[str]:
        """The requests enforcement could not decide, each once: each names what to add to the table."""
        with self._lock:
            return list(self._gaps)

    def usage(self) -> AccessReport:
        """Per role (or user) that made a request: the pairs it was allowed and the statements unused.

        A role whose every request was denied is listed too, with nothing used and every statement unused.
        """
        with self._lock:
            used = set(self._used)
            principals = sorted(self._principals)
        return build_report(principals, used, self._policies_of)

    def _policies_of(self, role: str) -> tuple[Policy, ...]:
        try:
            return self.store.identity_policies(role)
        except PolicyNotFoundError:  # deleted since (a stack torn down)
            return ()

    def _base_context(self, principal: str) -> dict[str, str | Sequence[str]]:
        # The loopback endpoint stands for AWS's HTTPS endpoint: every request is over TLS there.
        keys: dict[str, str | Sequence[str]] = {
            "aws:SecureTransport": "true",
            "aws:RequestedRegion": self.region,
        }
        identity, root = caller(principal)
        if root is not None:  # a role session's aws:PrincipalArn is its role's ARN
            keys["aws:PrincipalArn"] = identity
            keys["aws:PrincipalAccount"] = root.split(":")[4]
        return keys

    def _decide(self, principal: str, action: str, resource: str, context: ContextValues) -> None:
        request = Request(principal, action, resource, context)
        identity, root = caller(principal)
        policies: tuple[Policy, ...] = ()
        if root is not None:
            with self._lock:
                self._principals.add(identity)
            try:
                policies = self.store.identity_policies(principal)
            except PolicyNotFoundError:
                policies = ()  # not a role of the local cloud: only a resource policy can allow it
        decision = evaluate(request, policies, self.store.resource_policy(resource, action))
        if decision.allowed:
            if root is not None:
                frozen = tuple(sorted((k.lower(), _frozen(v)) for k, v in context.items()))
                with self._lock:
                    self._used.add(Used(identity, action, resource, frozen))
            return
        self._deny(decision)

    def _deny(self, decision: Decision) -> None:
        denial = Denial.of(decision)
        logger.warning("%s", decision.message)
        with self._lock:
            self._denials.append(denial)
            del self._denials[:-_MAX_DENIALS]
            listeners = list(self._listeners)
        for listener in listeners:
            listener(denial)
        raise AccessDeniedError(decision)


def _frozen(value: str | Sequence[str]) -> str | tuple[str, ...]:
    return value if isinstance(value, str) else tuple(value)
