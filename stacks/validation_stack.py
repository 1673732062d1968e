"""Data validation: uploads under ``incoming/`` become validated dataset versions or rejection reports."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from domain import names
from domain.data.contract import DatasetContract
from stacks.config import PlatformConfig
from stacks.constructs.dataset_validation import DatasetValidation
from stacks.foundation_stack import Foundation
from stacks.stateless_stack import StatelessStack


class ValidationStack(StatelessStack):
    """The validation function, its failure recorder, the upload rule and their alarm."""

    def __init__(
        self,
        scope: Construct,
        *,
        foundation: Foundation,
        config: PlatformConfig,
        contracts: dict[str, DatasetContract],
        **kwargs: object,
    ) -> None:
        super().__init__(scope, lifecycle=names.VALIDATION, foundation=foundation, config=config, **kwargs)
        shared = self.shared
        sizing = config.validation
        self.validation = DatasetValidation(
            self,
            "DatasetValidation",
            contracts=contracts,
            data_bucket=shared.data_bucket,
            catalog=shared.catalog,
            bus=shared.bus,
            alerts=shared.alerts,
            key=shared.key,
            memory_mb=sizing.memory_mb,
            timeout=cdk.Duration.minutes(sizing.timeout_minutes),
            ephemeral_storage_gb=sizing.ephemeral_storage_gb,
            architecture=self.architecture,
            log_retention=self.log_retention,
        )
        self.outputs(
            {
                "ValidationFunctionName": self.validation.function.function_name,
                "ValidationDeadLetterQueueUrl": self.validation.dead_letters.queue_url,
            }
        )
