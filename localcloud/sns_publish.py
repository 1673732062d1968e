"""What SNS checks in a ``Publish`` request and moto does not (or answers with a server error).

From the API reference (https://docs.aws.amazon.com/sns/latest/api/API_Publish.html): a ``Subject``
"must be UTF-8 text with no line breaks or control characters, and less than 100 characters long"; a
message must not be empty, and the message with its attributes (names, types and values) must fit the
topic's maximum size, 256 KiB by default, counted in bytes ("262,144 bytes, not 262,144 characters"). SNS
answers ``InvalidParameter``. moto 5.2.5 refuses a subject past 100 characters but takes exactly 100,
an empty one, line breaks and control characters; it counts the message in characters and leaves its
attributes out; it checks attribute types and empty values, but not names.

The checks sit on moto's ``SNSBackend.publish``: SDK calls and Step Functions' SNS tasks reach SNS
through it, and so do the services the local cloud publishes for (alarm actions, Lambda's on-failure
records), through ``publish_as``, which first asks ``sns_encryption`` whether the publisher may publish
(and use an encrypted topic's key). ``PublishBatch`` is not checked (the platform does not call it).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from typing import Any

from moto.core.exceptions import ServiceException
from moto.sns.exceptions import InvalidParameterValue
from moto.sns.models import SNSBackend, sns_backends

from localcloud.patches import Patch
from localcloud.sns_encryption import Publisher, Refusal, publish_refusal

MAX_SUBJECT_CHARACTERS = 99
MAX_MESSAGE_BYTES = 256 * 1024
_ATTRIBUTE_NAME = re.compile(r"(?!\.)(?!.*\.\.)(?!(?i:aws|amazon)\.)[A-Za-z0-9_.-]{1,256}(?<!\.)")


def _control(char: str) -> bool:
    return ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0 or char in "\u2028\u2029"


def subject_refusal(subject: str | None) -> str | None:
    """SNS's message for a ``Subject`` it refuses, or None."""
    if subject is None:
        return None
    if not subject or len(subject) > MAX_SUBJECT_CHARACTERS or any(_control(c) for c in subject):
        return "Invalid parameter: Subject"
    return None


def _attributes_bytes(attributes: Mapping[str, Any] | None) -> int:
    """The size SNS counts for the attributes as moto passes them (``{name: {"Type", "Value"}}``)."""
    size = 0
    for name, attribute in (attributes or {}).items():
        kind, value = str(attribute.get("Type", "")), str(attribute.get("Value", ""))
        # moto keeps a Binary value base64-encoded; SNS counts its bytes.
        data = base64.b64decode(value) if kind.startswith("Binary") else value.encode()
        size += len(name.encode()) + len(kind.encode()) + len(data)
    return size


def attributes_refusal(attributes: Mapping[str, Any] | None) -> str | None:
    """SNS's message for a message attribute name it refuses, or None."""
    for name in attributes or {}:
        if not _ATTRIBUTE_NAME.fullmatch(name):
            return f"Invalid parameter: MessageAttributes name {name!r}"
    return None


def message_refusal(message: str | None, attributes: Mapping[str, Any] | None) -> str | None:
    """SNS's message for a message it refuses (empty, or too large with its attributes), or None."""
    if not message:
        return "Invalid parameter: Empty message"
    if len(message.encode()) + _attributes_bytes(attributes) > MAX_MESSAGE_BYTES:
        return "Invalid parameter: Message too long"
    return None


def publish_as(
    publisher: Publisher, topic_arn: str, message: str, subject: str | None = None
) -> Refusal | None:
    """Publish ``message`` to ``topic_arn`` as ``publisher`` (a service), or say why SNS refuses it.

    Parameters
    ----------
    publisher : Publisher
        Who publishes: its policies and the topic's (and key's) decide first (``sns_encryption``).
    topic_arn, message, subject
        As ``Publish`` takes them; SNS's own checks (above) apply.

    Returns
    -------
    Refusal or None
        SNS's error code and message when the message was not published.
    """
    refused = publish_refusal(topic_arn, publisher)
    if refused is not None:
        return refused
    _, _, _, region, account, _ = topic_arn.split(":", 5)
    try:
        sns_backends[account][region].publish(message=message, arn=topic_arn, subject=subject)
    except ServiceException as error:  # SNS's own refusal, in its words
        return Refusal(error.code, error.message)
    return None


def patches() -> list[Patch]:
    """The checks, in front of moto's ``SNSBackend.publish``."""
    original = SNSBackend.publish

    def publish(self: SNSBackend, message: str, arn: str | None, *args: Any, **kwargs: Any) -> str:
        subject = kwargs.get("subject", args[1] if len(args) > 1 else None)
        attributes = kwargs.get("message_attributes", args[2] if len(args) > 2 else None)
        phone_number = kwargs.get("phone_number", args[0] if args else None)
        refusal = subject_refusal(subject) or attributes_refusal(attributes)
        if refusal is None and not phone_number:  # an SMS has its own limits, which moto applies
            refusal = message_refusal(message, attributes)
        if refusal is not None:
            raise InvalidParameterValue(refusal)
        return original(self, message, arn, *args, **kwargs)

    return [Patch(SNSBackend, "publish", publish)]
