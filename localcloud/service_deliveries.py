"""Whether EventBridge and SNS may deliver to a queue or a function: decided as the service principal.

moto delivers a rule's SQS target, a rule target's dead-letter queue and an SNS subscription's queue or
function whatever their policies say. AWS does not:

- EventBridge sends to an SQS queue (a target, or a target's ``DeadLetterConfig``) only if the queue's
  policy lets ``events.amazonaws.com`` ``sqs:SendMessage``, which CDK conditions on ``aws:SourceArn``
  being the rule ("Amazon SQS permissions",
  https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-sqs-permissions;
  "Granting permissions to the dead-letter queue",
  https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html). A delivery that fails goes
  to the target's dead-letter queue when it has one (and EventBridge may send there), else it is dropped.
- SNS sends to a subscribed queue only if the queue's policy lets ``sns.amazonaws.com``
  ``sqs:SendMessage`` for the topic (``aws:SourceArn``,
  https://docs.aws.amazon.com/sns/latest/dg/subscribe-sqs-queue-to-sns-topic.html), and invokes a
  subscribed function only if the function's policy lets ``sns.amazonaws.com`` ``lambda:InvokeFunction``
  for the topic (https://docs.aws.amazon.com/sns/latest/dg/sns-lambda-as-subscriber.html). A message it
  cannot deliver goes to the subscription's dead-letter queue (``RedrivePolicy``), if SNS may send there
  (the same queue policy, for the topic), else it is lost
  (https://docs.aws.amazon.com/sns/latest/dg/sns-dead-letter-queues.html).
- A queue encrypted with a customer managed key also needs the key policy to let the service principal
  ``kms:GenerateDataKey`` and ``kms:Decrypt`` (the service has no identity policy to delegate to); the AWS
  managed key ``alias/aws/sqs`` cannot be used by these services at all ("Enable compatibility between
  event sources from AWS services and encrypted queues",
  https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html).

Each request is decided by the local cloud's evaluator (``localcloud.roles.service_refusal``), which
records each denial and logs it on "localcloud.iam"; the delivery that is not made is logged there too.
As ``roles``' other checks, these stay on with enforcement off (a delivery they refuse fails on AWS).
"""

from __future__ import annotations

import copy
import json
import logging
from typing import Any

from moto.kms.models import kms_backends
from moto.sns.models import Subscription
from moto.sqs.models import sqs_backends

from localcloud.patches import Patch
from localcloud.roles import service_refusal

EVENTS_PRINCIPAL = "events.amazonaws.com"
SNS_PRINCIPAL = "sns.amazonaws.com"
KEY_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")  # what SQS asks KMS for, for the sender
AWS_MANAGED_KEY = "alias/aws/sqs"

logger = logging.getLogger("localcloud.iam")


def queue_refusal(service: str, queue_arn: str, *, source_arn: str) -> str | None:
    """Why ``service`` may not send to ``queue_arn`` for ``source_arn``; None if it may.

    Parameters
    ----------
    service : str
        The service principal that sends (``events.amazonaws.com``, ``sns.amazonaws.com``).
    queue_arn : str
        The queue sent to.
    source_arn : str
        The rule or topic the service sends for (``aws:SourceArn``).

    Returns
    -------
    str | None
        AWS's access-denied message (the queue's policy, or the key's), or None.
    """
    parts = queue_arn.split(":")
    if len(parts) != 6:
        return None  # not a queue ARN: moto's own delivery answers it
    _, _, _, region, account, name = parts
    queue = sqs_backends[account][region].queues.get(name)
    if queue is None:
        return None  # a missing queue fails in moto's delivery, as it fails on AWS
    denied = service_refusal(service, action="sqs:SendMessage", resource=queue_arn, source_arn=source_arn)
    key_id = str(getattr(queue, "kms_master_key_id", None) or "")
    if denied is not None or not key_id:
        return denied
    if key_id.endswith(AWS_MANAGED_KEY):
        return (
            f"User: {service} is not authorized to perform: {KEY_ACTIONS[0]} on resource: {key_id} because "
            "AWS services cannot use the AWS managed key for SQS "
            "(encrypt the queue with a customer managed key)"
        )
    backend = kms_backends[account][region]
    try:
        key_arn = str(backend.keys[backend.any_id_to_key_id(key_id)].arn)
    except (KeyError, TypeError, AttributeError):
        return f"the key {key_id} of the queue {queue_arn} does not exist (KMS.NotFoundException)"
    context = {"kms:ViaService": f"sqs.{region}.amazonaws.com", "kms:CallerAccount": account}
    for action in KEY_ACTIONS:
        denied = service_refusal(
            service, action=action, resource=key_arn, source_arn=source_arn, context=context
        )
        if denied is not None:
            return denied
    return None


def subscription_refusal(subscription: Subscription) -> str | None:
    """Why SNS may not deliver to ``subscription``'s queue or function; None if it may (or not either)."""
    topic_arn = str(subscription.topic.arn)
    if subscription.protocol == "sqs":
        return queue_refusal(SNS_PRINCIPAL, str(subscription.endpoint), source_arn=topic_arn)
    if subscription.protocol == "lambda":
        return service_refusal(
            SNS_PRINCIPAL,
            action="lambda:InvokeFunction",
            resource=str(subscription.endpoint),
            source_arn=topic_arn,
        )
    return None


def redrive_queue(subscription: Subscription) -> str | None:
    """The ARN of ``subscription``'s dead-letter queue (its ``RedrivePolicy``), or None."""
    policy = subscription.attributes.get("RedrivePolicy")
    if not policy:
        return None
    found = json.loads(policy) if isinstance(policy, str) else policy
    target = found.get("deadLetterTargetArn") if isinstance(found, dict) else None
    return str(target) if target else None


def patches() -> list[Patch]:
    """SNS delivers to a queue or a function only as AWS would let ``sns.amazonaws.com`` (see the module)."""
    original = Subscription.publish

    def publish(subscription: Subscription, message: str, message_id: str, *args: Any, **kwargs: Any) -> None:
        if subscription.protocol not in ("sqs", "lambda"):
            return original(subscription, message, message_id, *args, **kwargs)
        matcher = subscription._filter_policy_matcher
        attributes = kwargs.get("message_attributes", args[1] if len(args) > 1 else None)
        if matcher is not None and not matcher.matches(attributes, message):
            return None  # filtered out: SNS makes no delivery, so nothing is decided
        refused = subscription_refusal(subscription)
        if refused is None:
            return original(subscription, message, message_id, *args, **kwargs)
        topic_arn = str(subscription.topic.arn)
        logger.warning("topic %s cannot deliver to %s: %s", topic_arn, subscription.endpoint, refused)
        dead_letters = redrive_queue(subscription)
        if dead_letters is None:
            return None
        cannot = queue_refusal(SNS_PRINCIPAL, dead_letters, source_arn=topic_arn)
        if cannot is not None:
            logger.warning(
                "topic %s cannot send to its dead-letter queue %s: %s", topic_arn, dead_letters, cannot
            )
            return None
        # The message as SNS would have sent it to a queue, to the dead-letter queue instead.
        redirected = copy.copy(subscription)
        redirected.protocol = "sqs"
        redirected.endpoint = dead_letters
        return original(redirected, message, message_id, *args, **kwargs)

    return [Patch(Subscription, "publish", publish)]
