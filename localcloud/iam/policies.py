"""The policies that decide a call, read from the local cloud's moto backends.

A principal's identity policies (a role's inline and attached managed policies) and a resource's
policy where AWS evaluates one (S3 bucket, KMS key, SNS topic, SQS queue, Lambda function, EventBridge
event bus, and a role's trust policy for ``sts:AssumeRole``), each parsed once with ``parse_policy``.
Documents are cached by (what they belong to, their text): a repeated look-up parses nothing and a
changed policy is read again. Nothing calls this yet; it reads and never changes the backends.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from moto.awslambda.models import lambda_backends
from moto.events.models import events_backends
from moto.iam.models import ManagedPolicy, Role, iam_backends
from moto.kms.models import kms_backends
from moto.s3.models import s3_backends
from moto.sns.models import sns_backends
from moto.sqs.models import sqs_backends
from moto.utilities.utils import get_partition

from localcloud.iam.evaluate import ResourcePolicy, caller
from localcloud.iam.policy import STATEMENT_ELEMENTS, Policy, parse_policy

Document = str | bytes | Mapping[str, Any]


class PolicyNotFoundError(LookupError):
    """A principal or a managed policy that the local cloud does not have; the message names it."""


class PolicyStore:
    """Reads and caches the policies of one local cloud's account and region.

    Parameters
    ----------
    account_id : str
        The account whose IAM backend holds the roles and managed policies.
    region : str
        The region of resources named without one (S3 buckets) and of the IAM partition.
    """

    def __init__(self, account_id: str, region: str) -> None:
        self._account_id = account_id
        self._region = region
        self._parsed: dict[tuple[str, str, bool], Policy] = {}

    def identity_policies(self, principal: str) -> tuple[Policy, ...]:
        """The identity policies of a role, role session or user: inline first, then attached managed.

        A user's are its own, then those of each of its groups (in the groups' name order).

        Parameters
        ----------
        principal : str
            A role ARN, a role session ARN (``arn:aws:sts::<account>:assumed-role/<role>/<session>``) or
            a user ARN (``arn:aws:iam::<account>:user/<name>``).

        Raises
        ------
        PolicyNotFoundError
            If the principal is not a role or user of the local cloud, or an attached policy is missing.
        """
        if ":user/" in principal:
            user = self._user(principal)
            groups = sorted(self._iam().get_groups_for_user(user.name), key=lambda group: group.name)
            return sum((self._attached(holder) for holder in (user, *groups)), ())
        return self._attached(self._role(principal))

    def _attached(self, holder: Any) -> tuple[Policy, ...]:
        """A role's, user's or group's inline policies (by name), then its managed ones (by ARN)."""
        inline = tuple(
            self._parse(f"{holder.arn} inline {name}", document, name=name)
            for name, document in sorted(holder.policies.items())
        )
        managed = tuple(self._managed(policy) for _, policy in sorted(holder.managed_policies.items()))
        return inline + managed

    def _user(self, arn: str) -> Any:
        name = arn.rsplit("/", 1)[-1]
        user = self._iam().users.get(name)
        if user is None:
            raise PolicyNotFoundError(f"User {arn} is not in the local cloud")
        return user

    def managed_policy(self, arn: str) -> Policy:
        """A managed policy by ARN: customer-managed, or AWS-managed if moto has loaded it.

        Raises
        ------
        PolicyNotFoundError
            If moto has no policy of that ARN (moto loads AWS-managed policies only when
            ``MOTO_IAM_LOAD_MANAGED_POLICIES=true``).
        """
        policy = self._iam().managed_policies.get(arn)
        if policy is None:
            raise PolicyNotFoundError(
                f"Managed policy {arn} is not in the local cloud (an AWS-managed policy is available"
                " only when moto loads them: MOTO_IAM_LOAD_MANAGED_POLICIES=true)"
            )
        return self._managed(policy)

    def trust_policy(self, role: str) -> ResourcePolicy:
        """A role's trust policy, which must allow ``sts:AssumeRole`` (by role ARN or session ARN)."""
        found = self._role(role)
        policy = self._parse(
            f"{found.arn} trust",
            found.assume_role_policy_document,
            name=f"trust policy of {found.arn}",
            resource_required=False,
        )
        return ResourcePolicy(policy, required=True, kind="trust policy")

    def resource_policy(self, resource: str, action: str | None = None) -> ResourcePolicy | None:
        """The policy AWS evaluates for ``action`` on ``resource``, or None if it has none or does not exist.

        Parameters
        ----------
        resource : str
            An ARN: a bucket or an object in it, a KMS key (by key or alias ARN), an SNS topic, an
            SQS queue, a Lambda function (with or without a qualifier), an event bus, or a role
            (whose trust policy is returned for ``sts:AssumeRole`` only: ``iam:PassRole`` and the
            other IAM actions on a role are decided by identity policies alone).
        action : str | None
            The action requested (None: the resource's policy whatever the action).
        """
        parts = resource.split(":", 5)
        if len(parts) < 6:
            return None
        service = parts[2]
        if service == "iam" and parts[5].startswith("role/"):
            if action is not None and action.lower() != "sts:assumerole":
                return None
            try:
                return self.trust_policy(resource)
            except PolicyNotFoundError:
                return None
        reader = _READERS.get(service)
        if reader is None:
            return None
        account = parts[4] or self._account_id
        region = parts[3] or self._region
        found = reader(account, region, parts[5], resource)
        if found is None:
            return None
        owner, document = found
        if not document:
            return None
        policy = self._parse(owner, document, name=f"{service} policy of {owner}")
        if service == "kms":
            return ResourcePolicy(policy, required=True, kind="key policy")
        return ResourcePolicy(policy)

    def _iam(self) -> Any:
        return iam_backends[self._account_id][get_partition(self._region)]

    def _role(self, principal: str) -> Role:
        arn, _ = caller(principal)  # a session acts as its role
        # By name: a session's ARN drops the role's path, and names are unique in an account.
        name = arn.rsplit("/", 1)[-1]
        role: Role | None = next((r for r in self._iam().roles.values() if r.name == name), None)
        if role is None or not arn.startswith("arn:") or ":role/" not in arn:
            raise PolicyNotFoundError(f"Role {arn} is not in the local cloud")
        return role

    def _managed(self, policy: ManagedPolicy) -> Policy:
        version = next(v for v in policy.versions if v.version_id == policy.default_version_id)
        return self._parse(policy.arn, version.document, name=policy.arn)

    def _parse(self, owner: str, document: Document, *, name: str, resource_required: bool = True) -> Policy:
        text = _text(document)
        key = (owner, text, resource_required)
        policy = self._parsed.get(key)
        if policy is None:
            policy = parse_policy(text, name=name, resource_required=resource_required)
            self._parsed[key] = policy
        return policy


def _text(document: Document) -> str:
    # CloudFormation hands moto documents as dicts, the API as strings; S3 keeps bytes.
    if isinstance(document, bytes):
        return document.decode()
    if isinstance(document, str):
        return document
    return json.dumps(document, sort_keys=True)


Found = tuple[str, Document | None] | None  # the resource's own ARN and its policy, if it exists


def _bucket(account: str, region: str, name: str, arn: str) -> Found:
    bucket = s3_backends[account][get_partition(region)].buckets.get(name.split("/", 1)[0])
    return None if bucket is None else (bucket.arn, bucket.policy)


def _key(account: str, region: str, name: str, arn: str) -> Found:
    backend = kms_backends[account][region]
    key_id = name.removeprefix("key/")
    if name.startswith("alias/"):
        key_id = next((k.id for k in backend.keys.values() if name in k.aliases), "")
    key = backend.keys.get(key_id)
    return None if key is None else (key.arn, key.policy)


def _topic(account: str, region: str, name: str, arn: str) -> Found:
    topic = sns_backends[account][region].topics.get(arn)
    return None if topic is None else (topic.arn, topic.policy)


def _queue(account: str, region: str, name: str, arn: str) -> Found:
    queue = sqs_backends[account][region].queues.get(name)
    return None if queue is None else (queue.queue_arn, queue.policy)


def _function(account: str, region: str, name: str, arn: str) -> Found:
    # function:<name>[:<qualifier>]; the function's policy holds its AddPermission statements.
    function = lambda_backends[account][region]._lambdas.get_arn(arn)
    if function is None or not function.policy.statements:
        return None
    # moto keeps AddPermission's own fields (FunctionName...) in each statement; AWS's policy has none.
    statements = [
        {name: value for name, value in statement.items() if name in STATEMENT_ELEMENTS}
        for statement in function.policy.statements
    ]
    return function.function_arn, {"Version": "2012-10-17", "Statement": statements}


def _event_bus(account: str, region: str, name: str, arn: str) -> Found:
    bus = events_backends[account][region].event_buses.get(name.removeprefix("event-bus/"))
    return None if bus is None else (bus.arn, bus.policy)


_READERS: dict[str, Callable[[str, str, str, str], Found]] = {
    "s3": _bucket,
    "kms": _key,
    "sns": _topic,
    "sqs": _queue,
    "lambda": _function,
    "events": _event_bus,
}
