"""The endpoints' telemetry (CloudWatch metrics, data capture), buffered and written every half second.

``flush`` writes everything now: the local cloud calls it from ``wait_idle`` and on shutdown, so that a
test reads the metrics and captured data of the invocations it made as soon as it is idle. With an
:class:`~localcloud.alarms.AlarmEvaluator`, the alarms are evaluated after each flush. Metric data
points and captured invocations are timed by ``now``: the local cloud's clock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from localcloud.alarms import AlarmEvaluator
from localcloud.records import Activity
from localcloud.sagemaker.endpoints import metrics
from localcloud.sagemaker.endpoints.buffer import Buffer
from localcloud.sagemaker.endpoints.capture import CapturedInvocation, CaptureWriter
from localcloud.sagemaker.endpoints.metrics import InvocationMetrics

FLUSH_SECONDS = 0.5


class Telemetry:
    """The buffers of invocation metrics and captured invocations, and the thread that writes them."""

    def __init__(
        self,
        *,
        client: Callable[[str, str], Any],
        activity: Activity,
        alarms: AlarmEvaluator | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self._alarms = alarms
        self.now = now or (lambda: datetime.now(UTC))
        self.metrics: Buffer[InvocationMetrics] = Buffer(self._publish, activity)
        self._writer = CaptureWriter(client)
        self.captures: Buffer[CapturedInvocation] = Buffer(self._writer.write, activity)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tick, name="endpoint-telemetry", daemon=True)
        self._thread.start()

    @property
    def capture_failures(self) -> int:
        """Capture objects S3 refused so far (each is logged; the invocations were answered)."""
        return self._writer.failures

    def flush(self) -> None:
        """Write whatever is buffered."""
        self.metrics.flush()
        self.captures.flush()
        if self._alarms is not None:
            self._alarms.evaluate()

    def shutdown(self) -> None:
        """Write what is left and stop the thread."""
        self._stop.set()
        self._thread.join(timeout=10)
        self.flush()

    def _publish(self, batch: list[InvocationMetrics]) -> None:
        metrics.publish(batch, at=self.now())
        if self._alarms is not None:
            for account_id, region in {(item.account_id, item.region) for item in batch}:
                self._alarms.watch(account_id, region)

    def _tick(self) -> None:
        while not self._stop.wait(FLUSH_SECONDS):
            self.flush()
