"""Always fails, after logging what it got: exercises retries, error payloads and logs."""

from __future__ import annotations

import os
from typing import Any


class FixtureFailureError(Exception):
    """The failure this function exists to raise."""


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Print a line and raise."""
    print(f"failing on purpose: {os.environ['FAILURE_MESSAGE']}")
    raise FixtureFailureError(os.environ["FAILURE_MESSAGE"])
