"""What every stateless stack shares: the foundation's resources, imported, and the functions' settings.

A stateless stack owns compute only (functions, state machines, rules, alarms, roles, queues of failed
events, log groups): destroying and redeploying it touches no data. It deploys after the foundation and
reaches the foundation's resources through ``SharedResources``.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from domain import names
from stacks.config import PlatformConfig
from stacks.foundation_stack import Foundation, SharedResources

LOG_RETENTION = {
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    731: logs.RetentionDays.TWO_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}


class StatelessStack(cdk.Stack):
    """A stack of compute named ``<project>-<lifecycle>``, deployed after the foundation it imports.

    Attributes
    ----------
    shared
        The foundation's key, data bucket, tables, bus and alert topic, as constructs of this stack.
    architecture, log_retention
        What every function of the platform runs on, and how long its logs are kept.
    """

    def __init__(
        self,
        scope: Construct,
        *,
        lifecycle: str,
        foundation: Foundation,
        config: PlatformConfig,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, names.stack_name(config.project, lifecycle), **kwargs)  # type: ignore[arg-type]
        self.add_stack_dependency(foundation.stack)
        self.shared = SharedResources(self, foundation)
        self.architecture = (
            lambda_.Architecture.ARM_64
            if config.validation.architecture == "arm64"
            else lambda_.Architecture.X86_64
        )
        self.log_retention = LOG_RETENTION[config.log_retention_days]

    def outputs(self, values: dict[str, str]) -> None:
        """One stack output per entry; a key is unique across the project's stacks (the CLI merges them)."""
        for name, value in values.items():
            cdk.CfnOutput(self, name, value=value)
