"""Deterministic traffic splitting: which fleet, which variant, which request is captured.

SageMaker splits traffic at random in proportion to weights and shares. Here the split is exact and
repeatable instead (smooth weighted round-robin, as nginx balances upstreams): with a canary share of
0.2, every fifth request goes to the green fleet; with variants weighted 3:1, three requests in four go to
the first. Tests can then count what each fleet served without a seed or a tolerance.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence


class WeightedRoundRobin:
    """Picks an index in proportion to weights, spreading the picks evenly (smooth weighted round-robin)."""

    def __init__(self) -> None:
        self._current: list[float] = []
        self._lock = threading.Lock()

    def pick(self, weights: Sequence[float]) -> int:
        """The index to serve next; the weights may change between calls (a traffic shift)."""
        with self._lock:
            if len(self._current) != len(weights):
                self._current = [0.0] * len(weights)
            total = sum(w for w in weights if w > 0)
            if total <= 0:
                return 0
            for index, weight in enumerate(weights):
                self._current[index] += max(0.0, weight)
            chosen = max(range(len(weights)), key=lambda i: (self._current[i], -i))
            self._current[chosen] -= total
            return chosen

    def reset(self) -> None:
        """Forget past picks (a new traffic split starts evenly)."""
        with self._lock:
            self._current = []


class Sampler:
    """Says yes to ``percent`` % of the calls, evenly spread (``InitialSamplingPercentage`` of capture)."""

    def __init__(self, percent: float) -> None:
        self._chooser = WeightedRoundRobin()
        self._weights = (max(0.0, min(100.0, percent)), max(0.0, 100.0 - percent))

    def sample(self) -> bool:
        """Whether this call is in the sample."""
        return self._weights[0] > 0 and self._chooser.pick(self._weights) == 0
