"""The IAM front of the local cloud's server: each request signed by a role session is decided first.

Mounted innermost, right around moto (the control API and API Gateway's stage URLs answer their own
paths before it): a request to an AWS API is read as its boto3 call (``localcloud.iam.wire``), its
signer found by access key (``Sessions.principal``), and the call decided (``Enforcer.authorize``).
The administrator (the local cloud's own test credentials: the deployer, the CLI, the tests) and
unsigned requests pass unchecked; a refused request never reaches moto and is answered as the service
answers it (``localcloud.iam.answers``). With enforcement off the front passes everything at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from localcloud.iam import wire
from localcloud.iam.actions import UnmappedOperationError
from localcloud.iam.answers import refusal
from localcloud.iam.errors import AccessDeniedError, UnknownAccessKeyError
from localcloud.iam.local_iam import LocalIam

logger = logging.getLogger("localcloud.iam")

_FIX = "add it to localcloud/iam/operations.py (the table of the actions each operation needs)"


class IamFront:
    """A server front (``localcloud.server.Front``) that enforces the local cloud's IAM policies.

    Parameters
    ----------
    iam : LocalIam
        The local cloud's sessions and enforcer.
    """

    def __init__(self, iam: LocalIam) -> None:
        self._iam = iam

    def wrap(self, app: Any) -> Any:
        """A WSGI app that decides each request and passes the allowed ones to ``app``."""

        def dispatch(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            if not self._iam.enforcer.enabled:
                return app(environ, start_response)  # type: ignore[no-any-return]
            answer = self._refusal(environ)
            if answer is not None:
                return answer(environ, start_response)  # type: ignore[no-any-return]
            return app(environ, start_response)  # type: ignore[no-any-return]

        return dispatch

    def _refusal(self, environ: dict[str, Any]) -> Any:
        """The answer refusing the request, or None to let it through."""
        request = wire.WireRequest.from_environ(environ, read_body=lambda: wire.read_body(environ))
        try:
            call = wire.parse(request, region=self._iam.enforcer.region)
        except wire.UnknownOperationError as error:
            principal, answer = self._signer(request)
            if principal is None:
                return answer  # the administrator's (None) or an unknown key's refusal
            return self._gap(None, f"{principal}: {error}; {_FIX}")
        if call is None or call.access_key is None:
            return None  # unsigned: moto answers it as it always has
        try:
            principal = self._iam.sessions.principal(call.access_key)
        except UnknownAccessKeyError as error:
            return refusal(call.service, "unknown_key", error.message)
        if principal is None:
            return None
        enforcer = self._iam.enforcer
        try:
            enforcer.authorize(
                principal,
                call.service,
                call.operation,
                call.params,
                context={"aws:RequestedRegion": call.region},
            )
        except AccessDeniedError as error:
            return refusal(call.service, "denied", error.message)
        except UnmappedOperationError as error:
            return self._gap(
                call.service, f"{principal} called {call.service}.{call.operation}: {error.args[0]}; {_FIX}"
            )
        except KeyError as error:
            message = (
                f"{principal} called {call.service}.{call.operation} without {error.args[0]!r}, which the"
                " table's ARN template names; fix its entry in localcloud/iam/operations.py"
            )
            return self._gap(call.service, message)
        return None

    def _signer(self, request: wire.WireRequest) -> tuple[str | None, Any]:
        """Who signed a request that is no known operation, and the refusal if the key is unknown."""
        credential = wire.credential(request, region=self._iam.enforcer.region)
        if credential is None:
            return None, None
        access_key = credential[0]
        try:
            return self._iam.sessions.principal(access_key), None
        except UnknownAccessKeyError as error:
            return None, refusal(None, "unknown_key", error.message)

    def _gap(self, service: str | None, message: str) -> Any:
        self._iam.enforcer.record_gap(message)
        logger.error("%s", message)
        return refusal(service, "gap", message)
