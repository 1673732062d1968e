"""Each real-time endpoint's rollback alarms: 5xx errors and p99 model latency, alerted on the topic.

An endpoint update (blue/green, canary or linear) rolls back when one of these alarms fires; the
deployment functions read them by name (``domain.names.alarm_names``), never by attribute.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_sns as sns
from constructs import Construct

from domain.deployment.endpoint import VARIANT
from domain.deployment.serving_config import ServingConfig
from domain.names import alarm_names


class EndpointAlarms:
    """The rollback alarms of every endpoint, built under ``scope`` (the deployment construct).

    They are built in their owner's scope, not a scope of their own, so that each alarm keeps the
    logical ID it had in a deployed stack: an alarm has a fixed name, and a new logical ID would create
    the new alarm (CloudWatch overwrites the one of that name) and then delete the old one, by that name.

    Attributes
    ----------
    by_dataset
        Per dataset, its endpoint's alarms: 5xx errors, then p99 model latency.
    """

    def __init__(
        self,
        scope: Construct,
        *,
        endpoints: dict[str, str],
        serving: dict[str, ServingConfig],
        alerts: sns.ITopic,
    ) -> None:
        self.by_dataset = {
            dataset: _alarms(scope, endpoints[dataset], config, alerts) for dataset, config in serving.items()
        }


def _alarms(
    scope: Construct, endpoint: str, config: ServingConfig, alerts: sns.ITopic
) -> list[cloudwatch.Alarm]:
    """The alarms of one endpoint, each sending its state changes to ``alerts``."""
    dimensions = {"EndpointName": endpoint, "VariantName": VARIANT}
    errors_name, latency_name = alarm_names(endpoint)
    period = cdk.Duration.minutes(1)
    metrics = {
        errors_name: (
            cloudwatch.Metric(
                namespace="AWS/SageMaker",
                metric_name="Invocation5XXErrors",
                dimensions_map=dimensions,
                statistic="Sum",
                period=period,
            ),
            config.alarms.max_5xx_errors,
            cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            f"{endpoint}: {config.alarms.max_5xx_errors} or more 5xx answers in a minute.",
        ),
        latency_name: (
            cloudwatch.Metric(
                namespace="AWS/SageMaker",
                metric_name="ModelLatency",
                dimensions_map=dimensions,
                statistic="p99",
                period=period,
            ),
            config.alarms.max_model_latency_ms * 1000,  # ModelLatency is in microseconds
            cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            f"{endpoint}: p99 model latency above {config.alarms.max_model_latency_ms} ms.",
        ),
    }
    alarms = []
    for name, (metric, threshold, comparison, description) in metrics.items():
        alarm = cloudwatch.Alarm(
            scope,
            f"{name}-alarm",
            alarm_name=name,
            alarm_description=description + " Rolls back an update in progress.",
            metric=metric,
            threshold=threshold,
            comparison_operator=comparison,
            evaluation_periods=config.alarms.evaluation_minutes,
            datapoints_to_alarm=config.alarms.evaluation_minutes,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(cloudwatch_actions.SnsAction(alerts))
        alarms.append(alarm)
    return alarms
