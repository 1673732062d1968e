"""Acting as a role: the credentials a service of the local cloud uses where AWS would use a role's.

Lambda runs a function with its execution role's temporary credentials; SageMaker downloads a job's
channels, a model's data and writes captured data as the job's or the model's role. ``assume`` gives
that role's session (``localcloud.iam.sessions``), or None, the administrator, while enforcement is off:
then nothing is assumed, so a role that does not exist or does not trust the service still works, as it
did before enforcement. ``environment`` is what a process acting as it gets, and ``RoleClients`` makes
boto3 clients on its keys, so that the local cloud's front decides each of their calls.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config

from localcloud.awslambda.environment import TEST_CREDENTIALS
from localcloud.iam.local_iam import LocalIam
from localcloud.iam.sessions import Session

Client = Callable[[str, str], Any]
# Retries would only hide a local bug (or repeat a denial) and slow the tests; AWS's retry policy is
# not what is tested.
_CLIENT_CONFIG = Config(retries={"max_attempts": 1, "mode": "standard"})


def assume(
    iam: LocalIam | None,
    role_arn: str,
    *,
    service: str,
    session_name: str,
    source_arn: str | None = None,
) -> Session | None:
    """The session ``service`` acts with as ``role_arn``; None (the administrator) without enforcement.

    Raises
    ------
    AccessDeniedError
        If the role does not exist or its trust policy does not let ``service`` assume it.
    """
    if iam is None or not iam.enforcer.enabled:
        return None
    return iam.sessions.assume(role_arn, service=service, session_name=session_name, source_arn=source_arn)


def environment(session: Session | None) -> dict[str, str]:
    """``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY`` and ``AWS_SESSION_TOKEN`` of ``session``."""
    return session.environment() if session is not None else dict(TEST_CREDENTIALS)


class RoleClients:
    """boto3 clients on the local cloud's endpoint, as a session or as the administrator, cached.

    The one place the local cloud makes its clients: the administrator's (``LocalCloud.client``, the
    deployer, the executors' own work) and a role session's (a job's, a model's).

    Parameters
    ----------
    endpoint_url : Callable[[], str]
        The local cloud's endpoint (read at each call: a restarted cloud listens elsewhere).
    administrator : Callable[[str, str], Any] | None
        ``administrator(service, region)``: the client to use when the session is None; clients on the
        local cloud's own test credentials when None.
    """

    def __init__(self, *, endpoint_url: Callable[[], str], administrator: Client | None = None) -> None:
        self._endpoint_url = endpoint_url
        self._administrator = administrator
        self._boto = boto3.session.Session()  # one loader: a client's service model loads once
        self._clients: dict[tuple[str, str, str, str], Any] = {}
        self._lock = threading.Lock()

    def client(self, service: str, region: str, session: Session | None) -> Any:
        """A client of ``service`` in ``region`` acting as ``session`` (the administrator's when None)."""
        if session is None and self._administrator is not None:
            return self._administrator(service, region)
        endpoint = self._endpoint_url()
        keys: tuple[str, str, str | None]
        if session is None:
            keys = (TEST_CREDENTIALS["AWS_ACCESS_KEY_ID"], TEST_CREDENTIALS["AWS_SECRET_ACCESS_KEY"], None)
        else:
            keys = (session.access_key_id, session.secret_access_key, session.session_token)
        key = (keys[0], service, region, endpoint)
        with self._lock:
            if key not in self._clients:
                # Creating a client loads its service model (~0.2 s); one session shares the loader.
                self._clients[key] = self._boto.client(
                    service,
                    endpoint_url=endpoint,
                    region_name=region,
                    aws_access_key_id=keys[0],
                    aws_secret_access_key=keys[1],
                    aws_session_token=keys[2],
                    config=_CLIENT_CONFIG,
                )
            return self._clients[key]
