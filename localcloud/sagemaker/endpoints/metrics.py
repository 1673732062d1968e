"""The invocation metrics SageMaker publishes for endpoints, written to moto's CloudWatch in batches.

Per invocation, in namespace ``AWS/SageMaker`` with dimensions ``EndpointName`` and ``VariantName``:
``Invocations`` (1), ``Invocation4XXErrors`` and ``Invocation5XXErrors`` (1 when the model answered
so, else 0, so that their average is an error rate, as on SageMaker), ``ModelLatency`` (the model
server's time) and ``OverheadLatency`` (the rest of the request's time), in microseconds. A batch goes
to CloudWatch as one ``PutMetricData`` per account and region, values with their counts.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from moto.cloudwatch.models import cloudwatch_backends

NAMESPACE = "AWS/SageMaker"
_LOCK = threading.Lock()  # moto's CloudWatch backend is not written for concurrent writers


@dataclass(frozen=True)
class InvocationMetrics:
    """What one invocation contributes to an endpoint's metrics."""

    account_id: str
    region: str
    endpoint: str
    variant: str
    status: int | None
    model_latency_us: int
    overhead_latency_us: int

    def values(self) -> list[tuple[str, float, str]]:
        """``(metric name, value, unit)`` of each metric."""
        values: list[tuple[str, float, str]] = [
            ("Invocations", 1.0, "None"),
            (
                "Invocation4XXErrors",
                1.0 if self.status is not None and 400 <= self.status < 500 else 0.0,
                "None",
            ),
            ("Invocation5XXErrors", 1.0 if self.status is None or self.status >= 500 else 0.0, "None"),
        ]
        values.append(("ModelLatency", float(self.model_latency_us), "Microseconds"))
        values.append(("OverheadLatency", float(self.overhead_latency_us), "Microseconds"))
        return values


def publish(batch: list[InvocationMetrics], at: datetime | None = None) -> None:
    """Write a batch of invocations' metrics to moto's CloudWatch, timed ``at`` (when written if None)."""
    grouped: dict[tuple[str, str], dict[tuple[str, str, str, str], Counter[float]]] = {}
    for item in batch:
        series = grouped.setdefault((item.account_id, item.region), {})
        for name, value, unit in item.values():
            series.setdefault((item.endpoint, item.variant, name, unit), Counter())[value] += 1
    for (account_id, region), series in grouped.items():
        data = [
            {
                "MetricName": name,
                "Dimensions": [
                    {"Name": "EndpointName", "Value": endpoint},
                    {"Name": "VariantName", "Value": variant},
                ],
                "Values": list(counts),
                "Counts": [float(count) for count in counts.values()],
                "Unit": unit,
                # moto keeps the API's times naive UTC (an aware one breaks its GetMetricStatistics)
                **({"Timestamp": at.astimezone(UTC).replace(tzinfo=None)} if at is not None else {}),
            }
            for (endpoint, variant, name, unit), counts in series.items()
        ]
        with _LOCK:
            cloudwatch_backends[account_id][region].put_metric_data(NAMESPACE, data)
