"""Writes every event it receives to the table named by ``TABLE_NAME``: the local cloud's probe.

Plain boto3, no endpoint logic: where the SDK points is the environment's business (``AWS_ENDPOINT_URL``).
"""

from __future__ import annotations

import json
import os
from typing import Any

import boto3
from recorder_lib.names import record_id

_table = None


def _get_table() -> Any:
    global _table  # noqa: PLW0603 - one client per execution environment, as Lambda reuses it
    if _table is None:
        _table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])
    return _table


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Store the event and what the runtime said about itself; return the stored id."""
    item = {
        "pk": record_id(event, context.aws_request_id),
        "event": json.dumps(event),
        "function_name": context.function_name,
        "request_id": context.aws_request_id,
        "memory_limit_in_mb": str(context.memory_limit_in_mb),
        "remaining_ms": int(context.get_remaining_time_in_millis()),
        "greeting": os.environ["GREETING"],
        "handler_env": os.environ["_HANDLER"],
    }
    print(f"recording {item['pk']}")
    _get_table().put_item(Item=item)
    return {"pk": item["pk"]}
