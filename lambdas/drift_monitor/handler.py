"""Drift monitor: one endpoint's captured traffic in a window, scored against each version's baseline.

EventBridge Scheduler (``{"dataset", "scheduled_time"}``) or a person (``mlops drift check``, with
``since``/``until``) → this function → :func:`domain.monitoring.check.check_drift` on the data bucket's
captures, the registry's baselines, the report store and EMF metrics. Thin by design: the shared wiring,
the event read into a window (:mod:`domain.monitoring.request`), one use case; the answer is the report's
summary with the report's keys.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
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
    lambda s: (S3CaptureSource(s.data_bucket), S3ReportStore(s.data_bucket, s.kms_key_arn), EmfMetricsSink())
)


@cache
def _baselines(project: str, function_arn: str) -> RegistryBaselineSource:
    """The registry of the function's own region and account (``arn:aws:lambda:<region>:<account>:...``)."""
    region, account = function_arn.split(":")[3:5]
    return RegistryBaselineSource(project, region, account)


@function.handler()
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Check the dataset's endpoint for drift over the event's window; the report's summary."""
    settings, monitoring = function.settings(), declared_monitoring(function.here)
    now = datetime.now(UTC)
    windows = {name: config.window_minutes for name, config in monitoring.items()}
    request = parse_drift_request(event, datasets=monitoring.keys(), window_minutes=windows, now=now)
    dataset = request.dataset
    here = function.here
    schema = CaptureSchema.of(declared_contracts(here)[dataset], declared_training(here)[dataset])
    (captures, reports, metrics), endpoint = adapters(), endpoint_name(settings.project, dataset)
    baselines = _baselines(settings.project, context.invoked_function_arn)
    function.logger.append_keys(dataset=dataset, endpoint=endpoint)
    outcome = check_drift(
        dataset=dataset, endpoint=endpoint, since=request.since, until=request.until, schema=schema,
        config=monitoring[dataset], captures=captures, baselines=baselines, reports=reports, metrics=metrics,
        now=now,
    )  # fmt: skip
    report = outcome.report
    function.count("DriftChecks")
    function.report(
        f"drift check of {endpoint}: {report.status}",
        {"status": report.status, "rows": report.rows, "report": outcome.uris.html,
         "versions": {str(v.version): v.status for v in report.versions}},
    )  # fmt: skip
    return outcome.summary()
