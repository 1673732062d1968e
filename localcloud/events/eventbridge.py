"""EventBridge rules that deliver to Lambda and Step Functions targets, which moto's ``put_events`` cannot.

moto's ``Rule.send_to_targets`` raises ``NotImplementedError`` for a Lambda or a state machine target.
The replacement hands Lambda targets to the asynchronous invoker (EventBridge invokes functions
asynchronously, so a failing function is retried by Lambda, not by EventBridge), starts executions of
state machine targets (named with a UUID, as EventBridge's are), and leaves every other target to moto.
What the function receives follows AWS: the event in AWS's JSON shape (``time`` in ISO 8601, no
moto-internal fields), or what the target's ``Input``, ``InputPath`` or ``InputTransformer`` (see
``input_transformer``) makes of it. A target whose function policy does not allow
``events.amazonaws.com`` ``lambda:InvokeFunction`` for the rule (``aws:SourceArn``) is recorded as a
failed delivery and never invoked, as on AWS; the event then goes to the target's dead-letter queue
when it has one. Likewise a state machine target whose role (``RoleArn``) does not let
``events.amazonaws.com`` assume it for the rule or is not allowed ``states:StartExecution`` on the
machine. Both are decided by ``localcloud.roles`` (the local cloud's IAM evaluator). An SQS target,
and the dead-letter queue of any target, is sent to only if the queue's policy (and its key's, for a
queue encrypted with a customer managed key) lets ``events.amazonaws.com`` send for the rule
(``localcloud.service_deliveries``); a refused dead-letter send drops the event, as on AWS.
"""

from __future__ import annotations

import copy
import json
import logging
from datetime import UTC, datetime
from typing import Any

from jsonpath_ng.ext.parser import parse as parse_jsonpath
from moto.events.models import Rule
from moto.events.utils import EventMessageType

from localcloud.awslambda.async_failures import send_to_queue
from localcloud.awslambda.async_invoke import AsyncInvoker
from localcloud.awslambda.service import find_function
from localcloud.events import input_transformer
from localcloud.patches import Patch
from localcloud.roles import refusal, service_refusal
from localcloud.service_deliveries import EVENTS_PRINCIPAL, queue_refusal
from localcloud.stepfunctions.executions import start_execution

_AWS_EVENT_FIELDS = (
    "version",
    "id",
    "detail-type",
    "source",
    "account",
    "time",
    "region",
    "resources",
    "detail",
)

logger = logging.getLogger(__name__)
iam_logger = logging.getLogger("localcloud.iam")


def patches(invoker: AsyncInvoker) -> list[Patch]:
    """The replacement of ``Rule.send_to_targets`` that delivers Lambda targets through ``invoker``."""
    original = Rule.send_to_targets

    def send_to_targets(rule: Rule, original_event: EventMessageType, transform_input: bool = True) -> None:
        if not rule.event_pattern.matches_event(original_event):
            return
        for target in rule.targets:
            if _service_of(target["Arn"]) == "lambda":
                _deliver_to_lambda(invoker, rule, target, dict(original_event))
            elif _service_of(target["Arn"]) == "states":
                _start_state_machine(invoker, rule, target, dict(original_event))
            elif _service_of(target["Arn"]) == "sqs" and (
                refused := queue_refusal(EVENTS_PRINCIPAL, target["Arn"], source_arn=rule.arn)
            ):
                iam_logger.warning("rule %s cannot send to %s: %s", rule.arn, target["Arn"], refused)
                _undeliverable(invoker, rule, target, dict(original_event), "AccessDenied", refused)
            else:
                # moto's own delivery, for this one target (SQS, logs, archives, other buses...).
                single = copy.copy(rule)
                single.targets = [target]
                original(single, original_event, transform_input)

    return [Patch(Rule, "send_to_targets", send_to_targets)]


def aws_event(event: dict[str, Any]) -> dict[str, Any]:
    """``event`` as EventBridge delivers it: AWS's fields only, ``time`` as ``YYYY-MM-DDTHH:MM:SSZ``."""
    shaped = {name: event[name] for name in _AWS_EVENT_FIELDS if name in event}
    moment = shaped.get("time")
    if isinstance(moment, int | float):
        # moto keeps times as Unix seconds; AWS puts ISO 8601 in the event.
        shaped["time"] = datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return shaped


def target_input(target: dict[str, Any], event: dict[str, Any], *, rule_arn: str) -> Any:
    """What a target receives for ``event``: its constant ``Input``, an ``InputPath`` or a transform."""
    shaped = aws_event(event)
    if "Input" in target:
        return json.loads(target["Input"])
    if "InputPath" in target:
        matches = parse_jsonpath(target["InputPath"]).find(shaped)
        return matches[0].value if matches else None
    if target.get("InputTransformer"):
        ingested = aws_event({"time": event.get("ingestion-time", event.get("time"))}).get("time", "")
        return input_transformer.transform(
            target["InputTransformer"], shaped, rule_arn=rule_arn, ingestion_time=str(ingested)
        )
    return shaped


def _deliver_to_lambda(
    invoker: AsyncInvoker, rule: Rule, target: dict[str, Any], event: dict[str, Any]
) -> None:
    function_arn = target["Arn"]
    try:
        payload = target_input(target, event, rule_arn=rule.arn)
    except (ValueError, KeyError) as error:
        _undeliverable(
            invoker, rule, target, event, "InvalidInput", f"the target's input cannot be computed: {error}"
        )
        return
    try:
        find_function(function_arn)  # a missing function is its own failed delivery
    except Exception as error:  # moto's not-found types differ per path; the delivery fails either way
        _undeliverable(
            invoker, rule, target, event, "ResourceNotFoundException", f"{type(error).__name__}: {error}"
        )
        return
    message = service_refusal(
        EVENTS_PRINCIPAL, action="lambda:InvokeFunction", resource=function_arn, source_arn=rule.arn
    )
    if message is not None:
        logger.warning("rule %s cannot invoke %s: %s", rule.arn, function_arn, message)
        _undeliverable(invoker, rule, target, event, "AccessDenied", message)
        return
    invoker.submit(function_arn, payload, source=rule.arn)


def _start_state_machine(
    invoker: AsyncInvoker, rule: Rule, target: dict[str, Any], event: dict[str, Any]
) -> None:
    # Started at once, in put_events: StartExecution only queues the run. A start that fails is a
    # failed delivery among the invoker's records (its ``function_arn`` holding the machine's ARN).
    try:
        payload = target_input(target, event, rule_arn=rule.arn)
    except (ValueError, KeyError) as error:
        _undeliverable(
            invoker, rule, target, event, "InvalidInput", f"the target's input cannot be computed: {error}"
        )
        return
    refused = refusal(
        target.get("RoleArn"),
        service=EVENTS_PRINCIPAL,
        action="states:StartExecution",
        resource=target["Arn"],
        source_arn=rule.arn,
    )
    if refused is not None:
        logger.warning("rule %s cannot start %s: %s", rule.arn, target["Arn"], refused)
        _undeliverable(invoker, rule, target, event, "AccessDenied", refused)
        return
    try:
        start_execution(target["Arn"], payload)
    except Exception as error:  # moto's Step Functions errors (no such machine...) end the delivery
        _undeliverable(invoker, rule, target, event, type(error).__name__, str(error))


def _undeliverable(
    invoker: AsyncInvoker, rule: Rule, target: dict[str, Any], event: dict[str, Any], code: str, message: str
) -> None:
    """Record a delivery EventBridge could not make; send the event to the target's DLQ if it has one.

    Only a failure to deliver goes to the rule target's dead-letter queue; a function that fails after
    Lambda accepted the event is Lambda's business (its retries, its own destinations).
    """
    invoker.reject(target["Arn"], source=rule.arn, error=f"{code}: {message}")
    queue_arn = (target.get("DeadLetterConfig") or {}).get("Arn")
    if not queue_arn:
        return
    cannot = queue_refusal(EVENTS_PRINCIPAL, queue_arn, source_arn=rule.arn)
    if cannot is not None:
        iam_logger.warning("rule %s cannot send to its dead-letter queue %s: %s", rule.arn, queue_arn, cannot)
        return
    attributes = {
        "RULE_ARN": rule.arn,
        "TARGET_ARN": target["Arn"],
        "ERROR_CODE": code,
        "ERROR_MESSAGE": message,
    }
    send_to_queue(queue_arn, json.dumps(aws_event(event)), attributes)


def _service_of(arn: str) -> str:
    parts = arn.split(":")
    return parts[2] if len(parts) > 2 else ""
