"""Role sessions: what a service does before it acts as a role, and who holds an access key.

A service (Lambda for a function's execution role, SageMaker for a job's or a model's, Step Functions
for a state machine's...) assumes the role first: the role's trust policy must let the service
principal ``sts:AssumeRole``, with ``aws:SourceArn``/``aws:SourceAccount`` naming the resource it acts
for (https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html). The temporary keys are
issued by moto's STS backend, so that ``GetCallerIdentity`` and API Gateway's SigV4 know them, and
every request signed with them is the role session's (``localcloud.apigateway.callers`` is the one
look-up of a key's holder).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from moto.sts.models import sts_backends
from moto.utilities.utils import get_partition

from localcloud.apigateway.callers import find_caller
from localcloud.awslambda.environment import TEST_CREDENTIALS
from localcloud.iam.errors import AccessDeniedError, UnknownAccessKeyError
from localcloud.iam.evaluate import Decision, Request, evaluate
from localcloud.iam.policies import PolicyNotFoundError, PolicyStore

_DURATION = 12 * 3600  # the longest session AWS grants a role; a local cloud rarely runs longer


@dataclass(frozen=True)
class Session:
    """A role's temporary credentials, as a service holds them to act as the role."""

    role_arn: str
    arn: str  # arn:aws:sts::<account>:assumed-role/<role name>/<session name>
    access_key_id: str
    secret_access_key: str
    session_token: str

    def environment(self) -> dict[str, str]:
        """The variables an SDK reads its credentials from (what Lambda gives a function)."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_SESSION_TOKEN": self.session_token,
        }


class Sessions:
    """Assumes roles for services and tells who holds an access key; thread-safe.

    Parameters
    ----------
    store : PolicyStore
        Where the roles' trust policies are read.
    account_id, region : str
        The local cloud's account and region (the STS backend's partition).
    """

    def __init__(self, store: PolicyStore, *, account_id: str, region: str) -> None:
        self._store = store
        self._account_id = account_id
        self._region = region
        self._lock = threading.Lock()
        self._sessions: dict[tuple[str, str, str], Session] = {}

    def assume(
        self, role_arn: str, *, service: str, session_name: str, source_arn: str | None = None
    ) -> Session:
        """The credentials ``service`` gets by assuming ``role_arn`` (the same ones on every call).

        Parameters
        ----------
        role_arn : str
            The role to act as.
        service : str
            The service principal that assumes it ("lambda.amazonaws.com").
        session_name : str
            The session's name, the last part of the session's ARN (AWS: 2 to 64 of ``[\\w+=,.@-]``).
        source_arn : str | None
            The resource the service acts for (a function's, a training job's ARN): the context keys
            ``aws:SourceArn`` and ``aws:SourceAccount`` a trust policy may test.

        Raises
        ------
        AccessDeniedError
            If the role does not exist or its trust policy does not let ``service`` assume it.
        """
        self._check_trust(role_arn, service, source_arn)
        key = (role_arn, service, session_name)
        with self._lock:
            session = self._sessions.get(key)
            sts = sts_backends[self._account_id][get_partition(self._region)]
            # moto's reset forgets the keys it issued: a cached session must still be known to STS.
            if session is None or sts.get_assumed_role_from_access_key(session.access_key_id) is None:
                assumed = sts.assume_role(
                    region_name=self._region,
                    role_session_name=session_name,
                    role_arn=role_arn,
                    policy="",
                    duration=_DURATION,
                    external_id="",
                )
                session = Session(
                    role_arn,
                    assumed.arn,
                    assumed.access_key_id,
                    assumed.secret_access_key,
                    assumed.session_token,
                )
                self._sessions[key] = session
        return session

    def principal(self, access_key: str) -> str | None:
        """Who acts with ``access_key``: a role session's or an IAM user's ARN; None for the administrator.

        The administrator holds the local cloud's own test credentials (the person at the CLI, the
        tests, the deployer) and is not subject to enforcement.

        Raises
        ------
        UnknownAccessKeyError
            If the local cloud never issued the key (AWS answers ``InvalidClientTokenId``).
        """
        if access_key == TEST_CREDENTIALS["AWS_ACCESS_KEY_ID"]:
            return None
        found = find_caller(access_key, self._account_id)
        if found is None:
            raise UnknownAccessKeyError(access_key)
        return found[0].user_arn

    def _check_trust(self, role_arn: str, service: str, source_arn: str | None) -> None:
        context: dict[str, str] = {"aws:SecureTransport": "true"}
        if source_arn is not None:
            parts = source_arn.split(":", 5)
            context["aws:SourceArn"] = source_arn
            context["aws:SourceAccount"] = parts[4] if len(parts) > 4 and parts[4] else self._account_id
        request = Request(service, "sts:AssumeRole", role_arn, context)
        try:
            trust = self._store.trust_policy(role_arn)
        except PolicyNotFoundError:
            decision = Decision("implicit_deny", request, "resource-based", reason="the role does not exist")
        else:
            decision = evaluate(request, (), trust)
        if not decision.allowed:
            message = f"User: {service} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
            raise AccessDeniedError(decision, message=message)
