"""A capture store in memory for the drift monitor's tests: ``domain.monitoring.captures.CaptureSource``."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from domain.deployment.capture import capture_key


class FakeCaptureSource:
    """Objects in memory, listed as S3 lists them (folders with ``/`` as delimiter); remembers reads."""

    def __init__(self, endpoint: str = "mlops-shop") -> None:
        self.endpoint = endpoint
        self.objects: dict[str, bytes] = {}
        self.read_keys: list[str] = []

    def folders(self, prefix: str) -> list[str]:
        found = {
            prefix + key[len(prefix) :].split("/", 1)[0] + "/"
            for key in self.objects
            if key.startswith(prefix)
        }
        return sorted(folder for folder in found if folder.count("/") > prefix.count("/"))

    def keys(self, prefix: str) -> list[str]:
        return sorted(key for key in self.objects if key.startswith(prefix))

    def read(self, key: str) -> bytes:
        self.read_keys.append(key)
        return self.objects[key]

    def put(self, prefix: str, at: datetime, records: list[dict[str, Any] | str], unique: str = "a") -> str:
        """A capture file of ``records`` (a record, or a line as it stands) named at ``at``; its key."""
        key = capture_key(prefix, self.endpoint, "AllTraffic", at, unique)
        lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
        self.objects[key] = ("\n".join(lines) + "\n").encode()
        return key
