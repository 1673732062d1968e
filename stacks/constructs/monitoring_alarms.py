"""Each monitored dataset's alarms: its endpoint drifted, its endpoint gets no traffic, no new data came.

Beside the endpoint's rollback alarms (5xx errors, latency: ``endpoint_alarms.py``), each sends its
state changes (ALARM and back to OK) to the alert topic. Names come from ``domain.names``, which the CLI
(``mlops alarms list``) uses too; they start with ``<project>-``, which the topic's and the key's
policies let CloudWatch publish for.

- drift: the monitor's per-endpoint ``Drift`` (1 when a version's window drifted) at least 1 in N of
  the last M windows; a window without a verdict (no traffic, too few rows) publishes nothing and
  counts as not drifted.
- no traffic: SageMaker's ``Invocations`` below 1 over ``no_traffic_minutes``; no datapoint is no
  traffic.
- no new data: ``AcceptedVersions`` (the validation function's) below 1 over ``no_new_data_hours``.
  CloudWatch takes periods of at most a day, so a longer span is several periods, all of which must be
  empty.
- performance: the realized metric of labelled traffic (``monitoring.performance``,
  ``domain.monitoring.performance_config``), ``Realized_<metric>`` per endpoint (the feedback function
  publishes it after each labels file, for the newest version with enough labels), worse than its floor
  (below it, or above it for a lower-is-better metric) in 1 of 1 period. Missing data is ignored: labels
  arrive in files, days apart, and the alarm keeps what the last file said until the next one.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_sns as sns
from constructs import Construct

from domain import names
from domain.deployment.endpoint import VARIANT
from domain.monitoring.config import MonitoringConfig
from domain.monitoring.metrics import ENDPOINT, realized_metric_name
from domain.monitoring.performance_config import PerformanceSettings, resolve_performance
from domain.training.config import TrainingConfig
from stacks.constructs.platform_function import METRICS_NAMESPACE

_DAY_HOURS = 24
# The performance alarm's period: short, so that the datapoint of a labels file decides it at once; the
# periods between files have no data, which the alarm ignores.
PERFORMANCE_PERIOD = cdk.Duration.minutes(5)


def platform_metric(
    name: str, dimensions: dict[str, str], statistic: str, period: cdk.Duration, label: str | None = None
) -> cloudwatch.Metric:
    """A metric the platform's functions publish (namespace ``MLOpsPlatform``)."""
    return cloudwatch.Metric(
        namespace=METRICS_NAMESPACE,
        metric_name=name,
        dimensions_map=dimensions,
        statistic=statistic,
        period=period,
        label=label,
    )


def endpoint_metric(
    endpoint: str, name: str, statistic: str, period: cdk.Duration, label: str | None = None
) -> cloudwatch.Metric:
    """A metric SageMaker publishes for an endpoint's one variant (real-time and serverless alike)."""
    return cloudwatch.Metric(
        namespace="AWS/SageMaker",
        metric_name=name,
        dimensions_map={"EndpointName": endpoint, "VariantName": VARIANT},
        statistic=statistic,
        period=period,
        label=label,
    )


def drift_metric(endpoint: str, period: cdk.Duration, label: str | None = None) -> cloudwatch.Metric:
    """The monitor's verdict for an endpoint: the most drifted of its versions' windows (1 or 0)."""
    return platform_metric("Drift", {"EndpointName": endpoint}, "Maximum", period, label)


def realized_metric(
    endpoint: str, settings: PerformanceSettings, period: cdk.Duration, label: str | None = None
) -> cloudwatch.Metric:
    """The watched realized metric of an endpoint's newest labelled version (``Realized_<metric>``)."""
    return platform_metric(
        realized_metric_name(settings.metric), {ENDPOINT: endpoint}, "Average", period, label
    )


def day_periods(hours: int) -> tuple[int, int]:
    """``hours`` as (period in hours, number of periods): one period if it fits in a day, else the fewest."""
    # The longest period of at most a day that divides the span: 168 h is 7 of 24 h, 36 h is 2 of 18 h.
    period = max(p for p in range(1, min(hours, _DAY_HOURS) + 1) if hours % p == 0)
    return period, hours // period


class MonitoringAlarms(Construct):
    """The drift, no-traffic and no-new-data alarms of each dataset whose monitoring is enabled.

    Attributes
    ----------
    by_dataset
        Per dataset, its alarms by name (an alarm set to None in the configuration is absent).
    performance
        Per dataset, its ``monitoring.performance`` resolved against its training gate.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        project: str,
        endpoints: dict[str, str],
        monitoring: dict[str, MonitoringConfig],
        training: dict[str, TrainingConfig],
        alerts: sns.ITopic,
    ) -> None:
        super().__init__(scope, construct_id)
        self._action = cloudwatch_actions.SnsAction(alerts)
        self.by_dataset: dict[str, dict[str, cloudwatch.Alarm]] = {}
        self.performance = {
            dataset: resolve_performance(config.performance, training[dataset])
            for dataset, config in monitoring.items()
        }
        for dataset, config in sorted(monitoring.items()):
            if config.enabled:
                alarms = self._alarms(project, dataset, endpoints[dataset], config)
                alarms |= self._performance_alarm(dataset, endpoints[dataset], self.performance[dataset])
                self.by_dataset[dataset] = alarms

    def _alarms(
        self, project: str, dataset: str, endpoint: str, config: MonitoringConfig
    ) -> dict[str, cloudwatch.Alarm]:
        window = cdk.Duration.minutes(config.window_minutes)
        drift = names.drift_alarm_name(endpoint)
        alarms = {
            drift: self._alarm(
                drift,
                drift_metric(endpoint, window),
                f"{endpoint}: its traffic drifted from a version's baseline in {config.alarm.datapoints} "
                f"of the last {config.alarm.periods} windows of {config.window_minutes} minutes; the "
                f"monitor's report says which features (`mlops drift report {dataset}`).",
                threshold=1,
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                periods=config.alarm.periods,
                datapoints=config.alarm.datapoints,
                missing=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
        }
        if config.no_traffic_minutes is not None:
            name = names.no_traffic_alarm_name(endpoint)
            alarms[name] = self._alarm(
                name,
                endpoint_metric(
                    endpoint, "Invocations", "Sum", cdk.Duration.minutes(config.no_traffic_minutes)
                ),
                f"{endpoint}: no request answered in {config.no_traffic_minutes} minutes.",
                threshold=1,
                comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                periods=1,
                datapoints=1,
                missing=cloudwatch.TreatMissingData.BREACHING,
            )
        if config.no_new_data_hours is not None:
            name = names.no_new_data_alarm_name(project, dataset)
            hours, periods = day_periods(config.no_new_data_hours)
            alarms[name] = self._alarm(
                name,
                platform_metric("AcceptedVersions", {"Dataset": dataset}, "Sum", cdk.Duration.hours(hours)),
                f"{dataset}: no dataset version accepted in {config.no_new_data_hours} hours "
                f"(uploads under incoming/{dataset}/ that pass its contract).",
                threshold=1,
                comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                periods=periods,
                datapoints=periods,
                missing=cloudwatch.TreatMissingData.BREACHING,
            )
        return alarms

    def _performance_alarm(
        self, dataset: str, endpoint: str, settings: PerformanceSettings
    ) -> dict[str, cloudwatch.Alarm]:
        if not settings.enabled or settings.floor is None:
            return {}
        name = names.performance_alarm_name(endpoint)
        worse, comparison = (
            ("below", cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD)
            if settings.higher_is_better
            else ("above", cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD)
        )
        alarm = self._alarm(
            name,
            realized_metric(endpoint, settings, PERFORMANCE_PERIOD),
            f"{endpoint}: its realized {settings.metric} on labelled traffic is {worse} the floor "
            f"{settings.floor:g} (the newest model version with at least {settings.min_labels} labelled "
            f"rows); the labels' reports are under {names.labels_prefix(dataset)}.",
            threshold=settings.floor,
            comparison=comparison,
            periods=1,
            datapoints=1,
            missing=cloudwatch.TreatMissingData.IGNORE,
        )
        return {name: alarm}

    def _alarm(
        self,
        name: str,
        metric: cloudwatch.Metric,
        description: str,
        *,
        threshold: float,
        comparison: cloudwatch.ComparisonOperator,
        periods: int,
        datapoints: int,
        missing: cloudwatch.TreatMissingData,
    ) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self,
            name,
            alarm_name=name,
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            comparison_operator=comparison,
            evaluation_periods=periods,
            datapoints_to_alarm=datapoints,
            treat_missing_data=missing,
        )
        alarm.add_alarm_action(self._action)
        alarm.add_ok_action(self._action)
        return alarm
