"""The datasets a function was built for: what synth generated into its asset next to the handler.

``contracts.json`` holds the validated contracts, ``training.json`` the resolved training
configurations, ``serving.json`` the serving configurations, ``monitoring.json`` the monitoring
configurations and ``retraining.json`` the retraining policies, each keyed by dataset name;
``retraining_alarms.json`` the alarms the retraining policy reacts to. Read once per execution environment.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, cast

from domain.data.contract import DatasetContract

if TYPE_CHECKING:
    from domain.deployment.serving_config import ServingConfig
    from domain.feedback.config import FeedbackConfig
    from domain.monitoring.config import MonitoringConfig
    from domain.retraining.config import RetrainingConfig
    from domain.retraining.triggers import PolicyTriggerKind
    from domain.training.config import TrainingConfig

CONTRACTS_FILE = "contracts.json"
TRAINING_FILE = "training.json"
SERVING_FILE = "serving.json"
MONITORING_FILE = "monitoring.json"
FEEDBACK_FILE = "feedback.json"
RETRAINING_FILE = "retraining.json"
RETRAINING_ALARMS_FILE = "retraining_alarms.json"


@cache
def declared_contracts(folder: Path) -> dict[str, DatasetContract]:
    """The contracts generated into ``folder`` (a function's code root)."""
    declared = json.loads((folder / CONTRACTS_FILE).read_text(encoding="utf-8"))
    return {name: DatasetContract.model_validate(contract) for name, contract in declared.items()}


@cache
def declared_training(folder: Path) -> dict[str, TrainingConfig]:
    """The training configurations generated into ``folder`` (a function's code root)."""
    # Imported here: the validation function reads only contracts and should not pay for these models.
    from domain.training.config import TrainingConfig

    declared = json.loads((folder / TRAINING_FILE).read_text(encoding="utf-8"))
    return {name: TrainingConfig.model_validate(config) for name, config in declared.items()}


@cache
def declared_serving(folder: Path) -> dict[str, ServingConfig]:
    """The serving configurations generated into ``folder`` (a function's code root)."""
    from domain.deployment.serving_config import ServingConfig

    declared = json.loads((folder / SERVING_FILE).read_text(encoding="utf-8"))
    return {name: ServingConfig.model_validate(config) for name, config in declared.items()}


@cache
def declared_monitoring(folder: Path) -> dict[str, MonitoringConfig]:
    """The monitoring configurations generated into ``folder`` (a function's code root)."""
    from domain.monitoring.config import MonitoringConfig

    declared = json.loads((folder / MONITORING_FILE).read_text(encoding="utf-8"))
    return {name: MonitoringConfig.model_validate(config) for name, config in declared.items()}


@cache
def declared_feedback(folder: Path) -> dict[str, FeedbackConfig]:
    """The feedback configurations (``feedback.json``) generated into ``folder`` (a function's code root)."""
    from domain.feedback.config import FeedbackConfig

    declared = json.loads((folder / FEEDBACK_FILE).read_text(encoding="utf-8"))
    return {name: FeedbackConfig.model_validate(config) for name, config in declared.items()}


@cache
def declared_retraining(folder: Path) -> dict[str, RetrainingConfig]:
    """The retraining configurations generated into ``folder`` (a function's code root)."""
    from domain.retraining.config import RetrainingConfig

    declared = json.loads((folder / RETRAINING_FILE).read_text(encoding="utf-8"))
    return {name: RetrainingConfig.model_validate(config) for name, config in declared.items()}


@cache
def declared_retraining_alarms(folder: Path) -> dict[str, tuple[str, PolicyTriggerKind]]:
    """The alarms that trigger the retraining policy, by name: (dataset, trigger kind).

    Synth writes them from ``domain.names`` (the drift and performance alarms of each dataset whose
    retraining is enabled), so the function never rebuilds an alarm's name.
    """
    declared = json.loads((folder / RETRAINING_ALARMS_FILE).read_text(encoding="utf-8"))
    # Written by synth from the two kinds only (stacks/constructs/retraining_policy.py).
    return {
        name: (str(dataset), cast("PolicyTriggerKind", kind)) for name, (dataset, kind) in declared.items()
    }
