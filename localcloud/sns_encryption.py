"""Who may publish to an encrypted SNS topic: the KMS reasoning that SNS applies, in one place.

A topic with ``KmsMasterKeyId`` encrypts each message with a data key that SNS asks KMS for *as the
publisher*: the publisher must be allowed ``kms:GenerateDataKey`` and ``kms:Decrypt`` on the key, or the
``Publish`` fails with ``KMSAccessDenied`` (https://docs.aws.amazon.com/sns/latest/api/API_Publish.html,
https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html). KMS decides that with the key
policy first: a statement naming the publisher allows it; a statement naming the account (its root)
delegates to IAM, where the publisher's identity policies must allow the action on the key
(https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html). An AWS service that
publishes for itself (CloudWatch alarm actions, ``cloudwatch.amazonaws.com``) has no identity policy:
only the key policy can let it in, and the topic's policy must let it publish; a topic encrypted with
the AWS managed key ``alias/aws/sns`` cannot be used by such services at all ("Enable compatibility
between event sources from AWS services and encrypted topics", the key management page above).

moto checks none of it. ``publish_refusal`` does, for the publishers the local cloud knows: a Step
Functions task (it publishes as the state machine's role, or the task's ``Credentials``), a Lambda
function's on-failure destination (as the function's role), and CloudWatch alarm actions. Each
request is decided by the local cloud's IAM evaluator (``localcloud.roles``): the publisher's identity
policies, the topic's policy and the key's policy, with SNS's context keys (``kms:ViaService``, the
topic in ``kms:EncryptionContext:aws:sns:topicArn``, ``aws:SourceArn``...).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError
from moto.kms.models import kms_backends
from moto.sns.models import sns_backends
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sns import (
    StateTaskServiceSns,
)

from localcloud.patches import Patch
from localcloud.roles import refusal, service_refusal

# What SNS asks KMS for, as the publisher, to encrypt a message (and to reuse a cached data key).
KEY_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")
AWS_MANAGED_KEY = "alias/aws/sns"
STATES_PRINCIPAL = "states.amazonaws.com"


@dataclass(frozen=True)
class Publisher:
    """Who publishes: a role assumed by a service, or a service principal acting for one of its resources.

    Parameters
    ----------
    role_arn
        The IAM role the message is published with (a state machine's, a function's).
    service
        The service principal: the one that assumes ``role_arn``, or, without a role, the publisher.
    source_arn
        The resource the service acts for, ``aws:SourceArn`` (an alarm's ARN; a state machine's, whose
        role CDK lets Step Functions assume for this account's machines only).
    """

    service: str
    role_arn: str | None = None
    source_arn: str | None = None

    @property
    def name(self) -> str:
        """The principal as AWS names it in an access-denied message."""
        if self.role_arn:
            _, partition, _, _, account, resource = self.role_arn.split(":", 5)
            return f"arn:{partition}:sts::{account}:assumed-role/{resource.rsplit('/', 1)[-1]}/{self.service}"
        return self.service


@dataclass(frozen=True)
class Refusal:
    """Why SNS refuses a publish: its error code and a message in its words."""

    code: str
    message: str

    def client_error(self) -> ClientError:
        """The refusal as the SDK raises it (Step Functions' SNS integration makes it ``SNS.<code>...``)."""
        metadata = {"HTTPStatusCode": 403 if self.code == "AuthorizationError" else 400, "RequestId": _id()}
        return ClientError(
            {"Error": {"Code": self.code, "Message": self.message}, "ResponseMetadata": metadata}, "Publish"
        )


def publish_refusal(topic_arn: str, publisher: Publisher) -> Refusal | None:
    """Why ``publisher`` may not publish to ``topic_arn``; None if SNS would accept the message.

    Parameters
    ----------
    topic_arn
        The topic published to.
    publisher
        Who publishes (see ``Publisher``).
    """
    parts = topic_arn.split(":", 5)
    if len(parts) < 6:
        return None  # not a topic ARN: SNS's own validation answers it
    _, _, _, region, account, _ = parts
    topic = sns_backends[account][region].topics.get(topic_arn)
    if topic is None:
        return Refusal("NotFound", "Topic does not exist")
    # The enforcer adds aws:SecureTransport and aws:PrincipalArn; roles.service_refusal aws:SourceArn.
    context = {
        "aws:SourceAccount": account,
        "aws:SourceOwner": account,
        "kms:CallerAccount": account,
        "kms:ViaService": f"sns.{region}.amazonaws.com",
        "kms:EncryptionContext:aws:sns:topicArn": topic_arn,
    }
    denied = _refusal(publisher, "sns:Publish", topic_arn, context)
    if denied is not None:
        return Refusal("AuthorizationError", denied)
    key_id = str(topic.kms_master_key_id or "")
    return _key_refusal(key_id, account, region, publisher, context) if key_id else None


def _key_refusal(
    key_id: str, account: str, region: str, publisher: Publisher, context: dict[str, str]
) -> Refusal | None:
    if key_id.endswith(AWS_MANAGED_KEY):
        if publisher.role_arn:
            return None  # its key policy lets every principal of the account use it through SNS
        why = "AWS services cannot use the AWS managed key for SNS (encrypt with a customer managed key)"
        return _denied(publisher, KEY_ACTIONS[0], key_id, why)
    try:
        key = kms_backends[account][region].describe_key(key_id)
    except Exception:  # moto's KMS raises KeyError or its own NotFound for an unknown id
        return _kms_error("KMSNotFound", "NotFoundException", f"Invalid keyId {key_id}")
    if key.key_state != "Enabled":
        return _kms_error("KMSDisabled", "DisabledException", f"{key.arn} is {key.key_state.lower()}.")
    for action in KEY_ACTIONS:
        denied = _refusal(publisher, action, key.arn, context)
        if denied is not None:
            return _kms_error("KMSAccessDenied", "AccessDeniedException", denied)
    return None


def _refusal(publisher: Publisher, action: str, resource: str, context: dict[str, str]) -> str | None:
    """AWS's message if ``publisher`` may not do ``action`` on ``resource``; None if it may."""
    if publisher.role_arn:
        return refusal(
            publisher.role_arn,
            service=publisher.service,
            action=action,
            resource=resource,
            source_arn=publisher.source_arn,
            context=context,
        )
    return service_refusal(
        publisher.service, action=action, resource=resource, source_arn=publisher.source_arn, context=context
    )


def _denied(publisher: Publisher, action: str, key: str, why: str) -> Refusal:
    message = (
        f"User: {publisher.name} is not authorized to perform: {action} on resource: {key} because {why}"
    )
    return _kms_error("KMSAccessDenied", "AccessDeniedException", message)


def _kms_error(code: str, kms_code: str, message: str) -> Refusal:
    """SNS's error for what KMS answered, the message ending as the KMS client's exception does."""
    detail = f"(Service: AWSKMS; Status Code: 400; Error Code: {kms_code}; Request ID: {_id()})"
    return Refusal(code, f"{message} {detail}")


def _id() -> str:
    return str(uuid.uuid4())


def patches() -> list[Patch]:
    """Step Functions' SNS integration publishes as the state machine's role (or the task's credentials)."""
    original = StateTaskServiceSns._eval_service_task

    def _eval_service_task(
        self: StateTaskServiceSns,
        env: Any,
        resource_runtime_part: Any,
        normalised_parameters: dict[str, Any],
        state_credentials: Any,
    ) -> Any:
        topic_arn = normalised_parameters.get("TopicArn") or normalised_parameters.get("TargetArn")
        if self._get_boto_service_action() == "publish" and topic_arn:
            machine = getattr(state_credentials, "machine_arn", None)  # task_roles.MachineCredentials
            publisher = Publisher(
                service=STATES_PRINCIPAL, role_arn=state_credentials.role_arn, source_arn=machine
            )
            refused = publish_refusal(str(topic_arn), publisher)
            if refused is not None:
                raise refused.client_error()
        return original(self, env, resource_runtime_part, normalised_parameters, state_credentials)

    return [Patch(StateTaskServiceSns, "_eval_service_task", _eval_service_task)]
