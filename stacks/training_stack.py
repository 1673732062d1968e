"""Continuous training: the retraining policy decides each trigger; a run trains, gates and registers."""

from __future__ import annotations

from pathlib import Path

from constructs import Construct

from domain import names
from domain.data.contract import DatasetContract
from domain.training.config import TrainingConfig
from stacks.config import PlatformConfig
from stacks.constructs.retraining_policy import RetrainingPolicy
from stacks.constructs.training_pipeline import TrainingPipeline
from stacks.foundation_stack import Foundation
from stacks.stateless_stack import StatelessStack


class TrainingStack(StatelessStack):
    """The training pipeline, its step functions, the training job's definition, and the retraining policy.

    The policy is the pipeline's only automatic entry, so it lives with it (its decisions table is the
    foundation's: a record).
    """

    def __init__(
        self,
        scope: Construct,
        *,
        foundation: Foundation,
        config: PlatformConfig,
        contracts: dict[str, DatasetContract],
        training: dict[str, TrainingConfig],
        team_code: Path | None,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, lifecycle=names.TRAINING, foundation=foundation, config=config, **kwargs)
        shared = self.shared
        self.training = TrainingPipeline(
            self,
            "Training",
            project=config.project,
            contracts=contracts,
            training=training,
            settings=config.training,
            data_bucket=shared.data_bucket,
            alerts=shared.alerts,
            key=shared.key,
            architecture=self.architecture,
            log_retention=self.log_retention,
            team_code=team_code,
        )
        self.policy = RetrainingPolicy(
            self,
            "RetrainingPolicy",
            project=config.project,
            contracts=contracts,
            retraining={name: dataset.retraining for name, dataset in config.datasets.items()},
            state_machine=self.training.state_machine,
            decisions=shared.decisions,
            catalog=shared.catalog,
            data_bucket=shared.data_bucket,
            bus=shared.bus,
            alerts=shared.alerts,
            key=shared.key,
            architecture=self.architecture,
            log_retention=self.log_retention,
        )
        self.outputs(
            {
                "TrainingStateMachineArn": self.training.state_machine.state_machine_arn,
                "RetrainingPolicyFunctionName": self.policy.function.function_name,
                "ModelPackageGroupPrefix": names.group_prefix(config.project),
            }
        )
