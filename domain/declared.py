"""The datasets a function was built for: what synth generated into its asset next to the handler.

``contracts.json`` holds the validated contracts, ``training.json`` the resolved training
configurations, ``serving.json`` the serving configurations and ``monitoring.json`` the monitoring
configurations, each keyed by dataset name. Read once per execution environment.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from domain.data.contract import DatasetContract

if TYPE_CHECKING:
    from domain.deployment.serving_config import ServingConfig
    from domain.monitoring.config import MonitoringConfig
    from domain.training.config import TrainingConfig

CONTRACTS_FILE = "contracts.json"
TRAINING_FILE = "training.json"
SERVING_FILE = "serving.json"
MONITORING_FILE = "monitoring.json"


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
