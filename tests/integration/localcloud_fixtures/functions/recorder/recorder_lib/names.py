"""Names of stored records (a package inside the asset, to check the asset is what runs)."""

from __future__ import annotations

from typing import Any


def record_id(event: dict[str, Any], request_id: str) -> str:
    """One record per invocation: the event's id when it has one, then the request id."""
    return f"{event.get('id', 'direct')}#{request_id}"
