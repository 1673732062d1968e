"""Monitoring: each endpoint's traffic scored for drift on a schedule, its alarms, a dashboard per dataset."""

from __future__ import annotations

from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from domain import names
from domain.data.contract import DatasetContract
from domain.training.config import TrainingConfig
from stacks.config import PlatformConfig
from stacks.constructs.dashboard import DatasetDashboard
from stacks.constructs.drift_monitor import DriftMonitor
from stacks.constructs.feedback_ingestion import FeedbackIngestion
from stacks.constructs.monitoring_alarms import MonitoringAlarms
from stacks.foundation_stack import Foundation
from stacks.stateless_stack import StatelessStack


class MonitoringStack(StatelessStack):
    """The drift monitor and its schedules, the monitoring alarms, and each dataset's dashboard.

    ``endpoints`` are the datasets' endpoint names (``ServingStack.deployment.endpoints``): names, not
    resources, so that this stack deploys after the foundation alone. A dataset whose monitoring is
    disabled has no schedule and no monitoring alarms, and keeps its dashboard.
    """

    def __init__(
        self,
        scope: Construct,
        *,
        foundation: Foundation,
        config: PlatformConfig,
        contracts: dict[str, DatasetContract],
        training: dict[str, TrainingConfig],
        endpoints: dict[str, str],
        **kwargs: object,
    ) -> None:
        super().__init__(scope, lifecycle=names.MONITORING, foundation=foundation, config=config, **kwargs)
        shared = self.shared
        monitoring = {name: dataset.monitoring for name, dataset in config.datasets.items()}
        self.monitor = DriftMonitor(
            self,
            "DriftMonitor",
            project=config.project,
            contracts=contracts,
            training=training,
            monitoring=monitoring,
            data_bucket=shared.data_bucket,
            key=shared.key,
            architecture=self.architecture,
            log_retention=self.log_retention,
        )
        self.alarms = MonitoringAlarms(
            self,
            "Alarms",
            project=config.project,
            endpoints=endpoints,
            monitoring=monitoring,
            training=training,
            alerts=shared.alerts,
        )
        self.dashboards = {
            dataset: DatasetDashboard(
                self,
                f"Dashboard-{dataset}",
                project=config.project,
                dataset=dataset,
                endpoint=endpoints[dataset],
                window_minutes=settings.window_minutes,
                alarms=list[cloudwatch.IAlarm](self.alarms.by_dataset.get(dataset, {}).values()),
                performance=self.alarms.performance[dataset],
            )
            for dataset, settings in sorted(monitoring.items())
        }
        self.feedback = FeedbackIngestion(
            self,
            "FeedbackIngestion",
            project=config.project,
            contracts=contracts,
            training=training,
            monitoring=monitoring,
            feedback={name: dataset.feedback for name, dataset in config.datasets.items()},
            data_bucket=shared.data_bucket,
            alerts=shared.alerts,
            key=shared.key,
            architecture=self.architecture,
            log_retention=self.log_retention,
        )
        self.outputs(
            {
                "DriftMonitorFunctionName": self.monitor.function.function_name,
                "FeedbackIngestionFunctionName": self.feedback.function.function_name,
                # The datasets that take labels, for `mlops feedback push` to check a name before uploading.
                "FeedbackDatasets": ",".join(sorted(contracts)),
            }
        )
