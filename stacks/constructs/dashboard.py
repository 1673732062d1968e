"""A CloudWatch dashboard per dataset: drift, traffic, errors, latency, new data and training outcomes.

Every graph reads a metric something in the platform publishes: the drift monitor's (namespace
``MLOpsPlatform``, per endpoint and per model version, features by name), SageMaker's for the endpoint
(``AWS/SageMaker``, real-time and serverless alike), the validation function's ``AcceptedVersions``,
and the training functions' run outcomes (``PipelineRunsStarted``, ``ModelsApproved``,
``ModelsRejected``, by dataset and the function's service). Versions and features are found by SEARCH
expressions: a new version or feature appears without a redeploy. The alarms widget shows the
dataset's monitoring alarms and its endpoint's rollback alarms (found by name, so that this stack
refers to no other stateless stack). With ``monitoring.performance`` enabled, a last row shows the realized
metric on labelled traffic (the feedback function's ``Realized_<metric>``, per endpoint against its floor
and per version) and the labelled rows per version.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from domain import names
from domain.monitoring.metrics import ENDPOINT, LABELLED_ROWS, VERSION, realized_metric_name
from domain.monitoring.performance_config import PerformanceSettings
from stacks.constructs.monitoring_alarms import (
    drift_metric,
    endpoint_metric,
    platform_metric,
    realized_metric,
)
from stacks.constructs.platform_function import METRICS_NAMESPACE, service_name

_WIDTH = 12  # two graphs a row (a dashboard is 24 units wide)
_HEIGHT = 6
# Labels arrive in files, hours or days apart: one point per hour keeps a week's graph readable.
_PERFORMANCE_PERIOD = cdk.Duration.hours(1)
# The functions whose counts are a dataset's training outcomes (lambdas/<folder>), with those counts.
TRAINING_OUTCOMES = {
    "retraining_policy": ("PipelineRunsStarted",),
    "training_gate": ("ModelsApproved", "ModelsRejected"),
}


def search(
    metric: str, dimensions: tuple[str, ...], filters: dict[str, str], statistic: str, seconds: int
) -> str:
    """A CloudWatch SEARCH over the platform's namespace: ``metric`` with exactly ``dimensions``."""
    schema = ",".join((METRICS_NAMESPACE, *dimensions))
    terms = " ".join([f'MetricName="{metric}"', *(f'{k}="{v}"' for k, v in filters.items())])
    return f"SEARCH('{{{schema}}} {terms}', '{statistic}', {seconds})"


class DatasetDashboard(Construct):
    """The dashboard ``<project>-<dataset>``.

    Parameters
    ----------
    window_minutes
        The monitor's window: the period of the drift graphs, one point per window.
    alarms
        The dataset's monitoring alarms (none when its monitoring is disabled).
    performance
        Its ``monitoring.performance`` resolved: the realized-performance row when enabled.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        project: str,
        dataset: str,
        endpoint: str,
        window_minutes: int,
        alarms: list[cloudwatch.IAlarm],
        performance: PerformanceSettings | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        # The graphs' region: the stack's (a concrete one when the stack has an environment), not CDK's
        # default of the AWS::Region pseudo parameter.
        self._region = cdk.Stack.of(self).region
        window = cdk.Duration.minutes(window_minutes)
        minute = cdk.Duration.minutes(1)
        day = cdk.Duration.days(1)
        rollback = [
            cloudwatch.Alarm.from_alarm_name(self, f"Rollback{i}", name)
            for i, name in enumerate(names.alarm_names(endpoint))
        ]
        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=names.dashboard_name(project, dataset),
            default_interval=cdk.Duration.days(7),
            widgets=[
                [
                    cloudwatch.TextWidget(
                        markdown=f"# {dataset}\nEndpoint `{endpoint}`. The latest drift report: "
                        f"`mlops drift report {dataset} --open`; a check now: `mlops drift check {dataset}`.",
                        width=_WIDTH,
                        height=_HEIGHT,
                    ),
                    cloudwatch.AlarmStatusWidget(
                        title="Alarms", alarms=[*alarms, *rollback], width=_WIDTH, height=_HEIGHT
                    ),
                ],
                [
                    self._graph(
                        "Drift verdict and drifted share (per endpoint, highest of its versions)",
                        [
                            drift_metric(endpoint, window, "Drift (1: drifted)"),
                            platform_metric(
                                "DriftedShare", {"EndpointName": endpoint}, "Maximum", window, "Drifted share"
                            ),
                        ],
                    ),
                    self._searches(
                        "Prediction drift and rows per version",
                        endpoint,
                        window,
                        {
                            "PredictionDrift": ("Maximum", "prediction drift v${PROP('Dim.ModelVersion')}"),
                            "WindowRows": ("Sum", "rows v${PROP('Dim.ModelVersion')}"),
                        },
                        ("EndpointName", "ModelVersion"),
                    ),
                ],
                [
                    self._searches(
                        "Feature drift (score per feature and version, the most drifted features)",
                        endpoint,
                        window,
                        {"FeatureDrift": ("Maximum", "${PROP('Dim.Feature')} v${PROP('Dim.ModelVersion')}")},
                        ("EndpointName", "Feature", "ModelVersion"),
                    ),
                    self._graph(
                        "Traffic (requests answered)",
                        [endpoint_metric(endpoint, "Invocations", "Sum", minute, "Invocations")],
                    ),
                ],
                [
                    self._graph(
                        "Errors",
                        [
                            endpoint_metric(
                                endpoint, "Invocation4XXErrors", "Sum", minute, "4XX (bad requests)"
                            ),
                            endpoint_metric(
                                endpoint, "Invocation5XXErrors", "Sum", minute, "5XX (model failures)"
                            ),
                        ],
                    ),
                    self._graph(
                        "Model latency (microseconds)",
                        [
                            endpoint_metric(endpoint, "ModelLatency", "p50", minute, "p50"),
                            endpoint_metric(endpoint, "ModelLatency", "p99", minute, "p99"),
                        ],
                    ),
                ],
                [
                    self._graph(
                        "Accepted dataset versions (per day)",
                        [
                            platform_metric(
                                "AcceptedVersions", {"Dataset": dataset}, "Sum", day, "AcceptedVersions"
                            )
                        ],
                    ),
                    self._graph(
                        "Training outcomes (per day)",
                        [
                            platform_metric(
                                metric,
                                {"dataset": dataset, "service": service_name(folder)},
                                "Sum",
                                day,
                                metric,
                            )
                            for folder, metrics in TRAINING_OUTCOMES.items()
                            for metric in metrics
                        ],
                    ),
                ],
                *self._performance(endpoint, performance),
            ],
        )

    def _performance(
        self, endpoint: str, settings: PerformanceSettings | None
    ) -> list[list[cloudwatch.IWidget]]:
        """The realized-performance row: the watched metric against its floor, and the labelled rows."""
        if settings is None or not settings.enabled:
            return []
        metric = settings.metric
        seconds = int(_PERFORMANCE_PERIOD.to_seconds())
        dimensions = (ENDPOINT, VERSION)
        per_version = cloudwatch.MathExpression(
            expression=search(
                realized_metric_name(metric), dimensions, {ENDPOINT: endpoint}, "Average", seconds
            ),
            label=f"{metric} v${{PROP('Dim.{VERSION}')}}",
            period=_PERFORMANCE_PERIOD,
        )
        floor = settings.floor
        annotations = (
            [] if floor is None else [cloudwatch.HorizontalAnnotation(value=floor, label=f"floor {floor:g}")]
        )
        endpoint_value = realized_metric(endpoint, settings, _PERFORMANCE_PERIOD, f"{metric} (endpoint)")
        return [
            [
                self._graph(
                    f"Realized {metric} on labelled traffic (endpoint: its newest labelled version)",
                    [endpoint_value, per_version],
                    annotations,
                ),
                self._searches(
                    "Labelled rows per version",
                    endpoint,
                    _PERFORMANCE_PERIOD,
                    {LABELLED_ROWS: ("Maximum", f"labelled rows v${{PROP('Dim.{VERSION}')}}")},
                    dimensions,
                ),
            ]
        ]

    def _graph(
        self,
        title: str,
        metrics: list[cloudwatch.IMetric],
        annotations: list[cloudwatch.HorizontalAnnotation] | None = None,
    ) -> cloudwatch.GraphWidget:
        return cloudwatch.GraphWidget(
            title=title,
            left=metrics,
            left_annotations=annotations,
            width=_WIDTH,
            height=_HEIGHT,
            region=self._region,
        )

    def _searches(
        self,
        title: str,
        endpoint: str,
        period: cdk.Duration,
        metrics: dict[str, tuple[str, str]],
        dimensions: tuple[str, ...],
    ) -> cloudwatch.GraphWidget:
        """A graph of SEARCH expressions: each metric (statistic, label) of every version (and feature).

        The labels are CloudWatch's dynamic labels: each series is named by its own dimensions.
        """
        seconds = int(period.to_seconds())
        expressions: list[cloudwatch.IMetric] = [
            cloudwatch.MathExpression(
                expression=search(metric, dimensions, {"EndpointName": endpoint}, statistic, seconds),
                label=label,
                period=period,
            )
            for metric, (statistic, label) in metrics.items()
        ]
        return self._graph(title, expressions)
