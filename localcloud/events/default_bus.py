"""Events that AWS services send to the default event bus, delivered to its rules.

S3, SageMaker and CloudWatch send their events to the account's default bus only, and asynchronously: a
failure to deliver one never fails the request (or the state change) that caused it.
"""

from __future__ import annotations

import copy
import logging
from typing import Any, cast

from moto.events.models import events_backends
from moto.events.utils import EventMessageType

logger = logging.getLogger(__name__)


def send_to_default_bus(account_id: str, region: str, event: dict[str, Any], *, about: str) -> None:
    """Send ``event`` (AWS's fields; ``time`` in Unix seconds, as moto keeps it) to the default bus's rules.

    Parameters
    ----------
    account_id, region
        Where the event happened: the default bus of that account and region receives it.
    event
        The event, as the service documents it.
    about
        What the event is about, for the log line of a delivery that failed.
    """
    try:
        default_bus = events_backends[account_id][region].event_buses["default"]
        for rule in list(default_bus.rules.values()):
            # A copy per rule: moto's delivery to a queue rewrites the event's ``time`` in place.
            rule.send_to_targets(cast(EventMessageType, copy.deepcopy(event)), transform_input=False)
    except Exception:
        logger.exception("the %s event about %s could not be sent", event.get("detail-type"), about)
