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
from dataclasses import replace
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
        region = self._iam.enforcer.region
        # The signer is in the headers or the URL: the administrator's requests pass before any body is read.
        request = wire.WireRequest.from_environ(environ, read_body=bytes)
        credential = wire.credential(request, region=region)
        if credential is None:
            return None  # unsigned: moto answers it as it always has
        try:
            principal = self._iam.sessions.principal(credential[0])
        except UnknownAccessKeyError as error:
            return refusal(self._service(request, environ), "unknown_key", error.message)
        if principal is None:
            return None
        request = _with_body(request, environ)
        try:
            call = wire.parse(request, region=region)
        except wire.UnknownOperationError as error:
            return self._gap(None, f"{principal}: {error}; {_FIX}")
        if call is None:
            return None
        try:
            self._iam.enforcer.authorize(
                principal,
                call.service,
                call.operation,
                call.params,
                context={"aws:RequestedRegion": call.region},
            )
        except AccessDeniedError as error:
            return refusal(call.service, "denied", error.message)
        except UnmappedOperationError as error:
            message = f"{principal} called {call.service}.{call.operation}: {error.args[0]}; {_FIX}"
            return self._gap(call.service, message)
        except KeyError as error:
            message = (
                f"{principal} called {call.service}.{call.operation} without {error.args[0]!r}, which the"
                " table's ARN template names; fix its entry in localcloud/iam/operations.py"
            )
            return self._gap(call.service, message)
        return None

    def _service(self, request: wire.WireRequest, environ: dict[str, Any]) -> str | None:
        """The boto3 service of a request, to answer in its protocol (None if it is no known operation)."""
        try:
            call = wire.parse(_with_body(request, environ), region=self._iam.enforcer.region)
        except wire.UnknownOperationError:
            return None
        return None if call is None else call.service

    def _gap(self, service: str | None, message: str) -> Any:
        self._iam.enforcer.record_gap(message)
        logger.error("%s", message)
        return refusal(service, "gap", message)


def _with_body(request: wire.WireRequest, environ: dict[str, Any]) -> wire.WireRequest:
    """``request`` read without its body, with it when parsing needs it (never an S3 upload's)."""
    return replace(request, body=wire.read_body(environ)) if wire.needs_body(request) else request
