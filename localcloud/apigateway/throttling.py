"""A stage's throttling: one token bucket per method, sized by the stage's ``MethodSettings``.

API Gateway throttles with token buckets: ``throttlingBurstLimit`` tokens at most, refilled at
``throttlingRateLimit`` per second, one token per request; a request that finds the bucket empty is
answered 429. The limits of a method are those of its own setting (``~1churn~1invocations/POST``),
else the stage's (``*/*``), else the account's (10,000 per second, bursts of 5,000). They are read on
every request, so a changed stage applies at once; a bucket whose limits changed starts full again.
Each method has its own bucket, also when its limits are the stage's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

ACCOUNT_RATE_LIMIT = 10000.0
ACCOUNT_BURST_LIMIT = 5000


@dataclass(frozen=True)
class Limits:
    """Requests per second, and the most requests at once."""

    rate: float
    burst: int


class TokenBucket:
    """``burst`` tokens at most, refilled at ``rate`` per second; starts full."""

    def __init__(self, limits: Limits, now: float) -> None:
        self.limits = limits
        self._tokens = float(limits.burst)
        self._updated = now

    def take(self, now: float) -> bool:
        """Take one token if there is one; False when the request is to be throttled."""
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(float(self.limits.burst), self._tokens + elapsed * self.limits.rate)
        self._updated = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False


class Throttle:
    """The token buckets of every stage's methods (thread-safe: the server answers on many threads)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str, str], TokenBucket] = {}

    def allow(self, api_id: str, stage_name: str, method_settings: Mapping[str, Any], resource_path: str,
              http_method: str) -> bool:  # fmt: skip
        """Whether a request to ``http_method`` on ``resource_path`` of the stage may go through now."""
        limits = method_limits(method_settings, resource_path, http_method)
        key = (api_id, stage_name, f"{resource_path} {http_method}")
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None or bucket.limits != limits:
                bucket = self._buckets[key] = TokenBucket(limits, self._clock())
            return bucket.take(self._clock())


def method_limits(method_settings: Mapping[str, Any], resource_path: str, http_method: str) -> Limits:
    """The throttling limits of a method: its own setting's, else the stage's, else the account's."""
    escaped = resource_path.replace("~", "~0").replace("/", "~1")
    for key in (f"{escaped}/{http_method}", f"{escaped}/*", "*/*"):
        setting = method_settings.get(key)
        if setting is not None and "throttlingRateLimit" in setting:
            rate = float(setting["throttlingRateLimit"])
            burst = int(setting.get("throttlingBurstLimit", ACCOUNT_BURST_LIMIT))
            return Limits(rate, burst)
    return Limits(ACCOUNT_RATE_LIMIT, ACCOUNT_BURST_LIMIT)
