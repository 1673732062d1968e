"""Sleeps for as long as the event asks: exercises the function timeout."""

from __future__ import annotations

import time
from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Sleep ``event["seconds"]`` (default: longer than any fixture timeout) and return."""
    seconds = float(event.get("seconds", 30))
    print(f"sleeping {seconds} s")
    time.sleep(seconds)
    return {"slept": seconds}
