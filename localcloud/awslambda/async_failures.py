"""Where an asynchronous invocation goes once Lambda gives up: its on-failure destination, its DLQ.

After the last retry, Lambda sends an *invocation record* (the original event as ``requestPayload``,
the function's error as ``responsePayload``, why it gave up as ``requestContext.condition``) to the
``OnFailure`` destination of the function's event invoke configuration, and the event alone to the
function's dead-letter queue (its ``DeadLetterConfig``), with the request id and error as message
attributes. It sends both with the function's execution role, which must allow it
(``lambda:InvokeFunction``, ``sqs:SendMessage``, ``sns:Publish``); a refused delivery is lost, as on
AWS (which counts it in ``DestinationDeliveryFailures``/``DeadLetterErrors``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from moto.core import utils as moto_utils
from moto.core.exceptions import ServiceException
from moto.sqs.models import sqs_backends

from localcloud.roles import refusal
from localcloud.sns_encryption import Publisher
from localcloud.sns_publish import publish_as

logger = logging.getLogger(__name__)

LAMBDA_PRINCIPAL = "lambda.amazonaws.com"
_SEND_ACTIONS = {"lambda": "lambda:InvokeFunction", "sqs": "sqs:SendMessage", "sns": "sns:Publish"}
_MAX_DLQ_ERROR = 1024  # Lambda cuts the ErrorMessage attribute


@dataclass(frozen=True)
class GiveUp:
    """An asynchronous invocation that failed on every attempt."""

    function: Any  # moto's LambdaFunction
    event: Any
    request_id: str  # of the last attempt
    attempts: int
    error_payload: bytes

    def record(self) -> dict[str, Any]:
        """The invocation record, as Lambda sends it to an on-failure destination."""
        try:
            response: Any = json.loads(self.error_payload)
        except ValueError:
            response = self.error_payload.decode(errors="replace")
        return {
            "version": "1.0",
            "timestamp": moto_utils.iso_8601_datetime_with_milliseconds(),  # the clock (moto_times)
            "requestContext": {
                "requestId": self.request_id,
                "functionArn": f"{self.function.function_arn}:$LATEST",
                "condition": "RetriesExhausted",
                "approximateInvokeCount": self.attempts,
            },
            "requestPayload": self.event,
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled",
            },
            "responsePayload": response,
        }

    def error_message(self) -> str:
        """The error's message, as the dead-letter queue's ``ErrorMessage`` attribute carries it."""
        try:
            message = str(json.loads(self.error_payload).get("errorMessage", ""))
        except (ValueError, AttributeError):
            message = self.error_payload.decode(errors="replace")
        return message[:_MAX_DLQ_ERROR]


def deliver_failure(failed: GiveUp, *, invoke_async: Callable[[str, Any], object]) -> list[str]:
    """Send ``failed`` where the function's configuration says; return what was refused, and why.

    Parameters
    ----------
    failed : GiveUp
        The invocation Lambda gave up on.
    invoke_async : callable
        Queues an asynchronous invocation of a function (by ARN) with an event: a Lambda destination.
    """
    refused = []
    destination = on_failure_destination(failed.function)
    if destination:
        refused += _send(failed.function, destination, failed.record(), {}, invoke_async)
    queue = dead_letter_target(failed.function)
    if queue:
        attributes = {
            "RequestID": failed.request_id,
            "ErrorCode": "200",
            "ErrorMessage": failed.error_message(),
        }
        refused += _send(failed.function, queue, failed.event, attributes, invoke_async)
    for reason in refused:
        logger.warning(reason)
    return refused


def event_invoke_config(function: Any) -> dict[str, Any]:
    """The function's event invoke configuration (``MaximumRetryAttempts``...); empty if it has none."""
    configs = getattr(function, "event_invoke_config", None) or []
    return dict(configs[-1].config) if configs else {}  # moto keeps every put; the last one holds


def on_failure_destination(function: Any) -> str | None:
    """The ``OnFailure`` destination of the function's event invoke configuration, if any."""
    destinations = event_invoke_config(function).get("DestinationConfig") or {}
    destination = (destinations.get("OnFailure") or {}).get("Destination")
    return str(destination) if destination else None


def dead_letter_target(function: Any) -> str | None:
    """The function's dead-letter queue or topic (set by the deploy's fix-ups; moto keeps none)."""
    config = getattr(function, "dead_letter_config", None) or {}
    target = config.get("TargetArn")
    return str(target) if target else None


def _send(
    function: Any,
    target: str,
    payload: Any,
    attributes: dict[str, str],
    invoke_async: Callable[[str, Any], object],
) -> list[str]:
    parts = target.split(":")
    service = parts[2] if len(parts) > 5 else ""
    action = _SEND_ACTIONS.get(service)
    if action is None:
        return [
            f"{function.function_arn}: the local cloud does not deliver to {target} (only Lambda, SQS, SNS)"
        ]
    lost = f"{function.function_arn}: Lambda could not send to {target}"
    if service == "sns":  # the role's policies, the topic's policy and, if encrypted, its key; SNS's checks
        publisher = Publisher(service=LAMBDA_PRINCIPAL, role_arn=function.role)
        refused = publish_as(publisher, target, json.dumps(payload))  # attributes: SQS only, locally
        return [] if refused is None else [f"{lost}: {refused.message}"]
    denied = refusal(function.role, service=LAMBDA_PRINCIPAL, action=action, resource=target)
    if denied is not None:
        return [f"{lost}: {denied}"]
    if service == "lambda":
        invoke_async(target, payload)
        return []
    try:
        send_to_queue(target, json.dumps(payload), attributes)
    except ServiceException as error:  # the queue refuses it (a record over 256 KiB): lost, as on AWS
        return [f"{lost}: {error}"]
    return []


def send_to_queue(queue_arn: str, body: str, attributes: dict[str, str]) -> None:
    """Send ``body`` to the SQS queue ``queue_arn``, as a service does, with string message attributes."""
    _, _, _, region, account_id, queue_name = queue_arn.split(":")
    sqs_backends[account_id][region].send_message(
        queue_name=queue_name,
        message_body=body,
        message_attributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
    )
