"""Who signed a request: the secret of an access key and the identity API Gateway reports for it.

Three kinds of keys are known locally, as on AWS: the local cloud's test credentials (what
``LocalCloud.env()`` and Lambda workers use; moto's default identity, as ``GetCallerIdentity`` reports
it), the access keys of IAM users created in moto, and the temporary credentials of roles assumed
through moto's STS (those ``localcloud.iam.sessions`` issues to services acting as roles among them).
This is the local cloud's one look-up of a key's holder: IAM enforcement asks it too
(``Sessions.principal``).
"""

from __future__ import annotations

from dataclasses import dataclass

from moto.iam.models import iam_backends
from moto.sts.models import sts_backends

from localcloud.awslambda.environment import TEST_CREDENTIALS

_PARTITION = "aws"
_DEFAULT_USER_ID = "AKIAIOSFODNN7EXAMPLE"  # moto's identity for credentials it did not issue


@dataclass(frozen=True)
class Caller:
    """An authenticated caller, as ``requestContext.identity`` describes it."""

    access_key: str
    account_id: str
    user_arn: str
    user_id: str  # ``caller`` and ``user``: the IAM user's id, or ``<role id>:<session>``


def find_caller(access_key: str, account_id: str) -> tuple[Caller, str] | None:
    """The caller holding ``access_key`` in ``account_id``, with the key's secret; None if unknown."""
    sts = sts_backends[account_id][_PARTITION]
    assumed = sts.get_assumed_role_from_access_key(access_key)
    if assumed is not None:
        caller = Caller(access_key, assumed.account_id, assumed.arn, assumed.user_id)
        return caller, assumed.secret_access_key
    iam = iam_backends[account_id][_PARTITION]
    user = iam.get_user_from_access_key_id(access_key)
    if user is not None:
        (key,) = [k for k in iam.list_access_keys(user.name) if k.access_key_id == access_key]
        if key.status != "Active":
            return None
        return Caller(access_key, user.account_id, user.arn, user.id), key.secret_access_key
    if access_key == TEST_CREDENTIALS["AWS_ACCESS_KEY_ID"]:
        arn = f"arn:{_PARTITION}:sts::{account_id}:user/moto"
        secret = TEST_CREDENTIALS["AWS_SECRET_ACCESS_KEY"]
        return Caller(access_key, account_id, arn, _DEFAULT_USER_ID), secret
    return None
