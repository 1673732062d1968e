"""What the local cloud times itself reads its clock: the endpoints' metric data points.

The endpoints' telemetry writes invocation metrics to moto's CloudWatch (in-process, an account of its
own) timed by the ``now`` it is given: the local cloud's clock, so that an advanced clock puts the
traffic in the windows the alarms then evaluate.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from moto.cloudwatch.models import cloudwatch_backends

from localcloud.clock import Clock
from localcloud.records import Activity
from localcloud.sagemaker.endpoints.metrics import InvocationMetrics
from localcloud.sagemaker.endpoints.telemetry import Telemetry

ACCOUNT, REGION = "210987654322", "eu-west-1"


@pytest.fixture
def backend() -> Iterator[Any]:
    backend = cloudwatch_backends[ACCOUNT][REGION]
    yield backend
    backend.metric_data.clear()


def _no_client(service: str, region: str) -> Any:
    raise AssertionError("the metrics need no client")


def test_endpoint_metrics_are_timed_by_the_clock(backend: Any) -> None:
    # Given a clock three hours ahead, and the endpoints' telemetry on it
    clock = Clock()
    clock.advance(timedelta(hours=3))
    telemetry = Telemetry(client=_no_client, activity=Activity(), now=clock.now)
    try:
        # When an invocation's metrics are written
        telemetry.metrics.add(
            InvocationMetrics(
                account_id=ACCOUNT, region=REGION, endpoint="churn", variant="AllTraffic",
                status=200, model_latency_us=900, overhead_latency_us=100,
            )
        )  # fmt: skip
        telemetry.flush()
    finally:
        telemetry.shutdown()

    # Then every data point is at the clock's time, not the machine's
    stamps = {datum.timestamp for datum in backend.metric_data}
    assert {datum.name for datum in backend.metric_data} >= {"Invocations", "ModelLatency"}
    (stamp,) = stamps
    machine = datetime.now(UTC).replace(tzinfo=None)
    assert timedelta(hours=3) - timedelta(seconds=5) < stamp - machine <= timedelta(hours=3)
