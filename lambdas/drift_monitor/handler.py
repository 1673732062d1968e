"""Drift monitor: an endpoint's captured traffic in a window, scored against each version's baseline.

Thin: the schedule's or a person's event (``domain.monitoring.request``), one use case, the adapters.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from adapters.function_settings import DriftMonitorSettings
from adapters.lambda_function import LambdaContext, LambdaFunction
from adapters.monitoring import EmfMetricsSink, RegistryBaselineSource, S3CaptureSource, S3ReportStore
from domain.declared import declared_contracts, declared_monitoring, declared_training
from domain.monitoring.check import check_drift
from domain.monitoring.columns import CaptureSchema
from domain.monitoring.request import parse_drift_request
from domain.names import endpoint_name

function = LambdaFunction(DriftMonitorSettings, __file__)
adapters = function.adapter(
    lambda s: (S3CaptureSource(s.data_bucket), S3ReportStore(s.data_bucket, s.kms_key_arn))
)


@function.handler()
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Check the dataset's endpoint for drift over the event's window; the report's summary."""
    project, here, now = function.settings().project, function.here, datetime.now(UTC)
    monitoring = declared_monitoring(here)
    windows = {name: config.window_minutes for name, config in monitoring.items()}
    request = parse_drift_request(event, datasets=monitoring.keys(), window_minutes=windows, now=now)
    dataset, (captures, reports) = request.dataset, adapters()
    function.logger.append_keys(dataset=dataset, endpoint=endpoint_name(project, dataset))
    outcome = check_drift(
        dataset=dataset, endpoint=endpoint_name(project, dataset), since=request.since, until=request.until,
        schema=CaptureSchema.of(declared_contracts(here)[dataset], declared_training(here)[dataset]),
        config=monitoring[dataset], captures=captures, reports=reports, metrics=EmfMetricsSink(), now=now,
        baselines=RegistryBaselineSource.of_function(project, context.invoked_function_arn),
    )  # fmt: skip
    function.count("DriftChecks")
    function.report(outcome.headline(), outcome.facts())
    return outcome.summary()
