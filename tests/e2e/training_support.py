"""What the training pipeline's end-to-end tests read of a deployed platform: its runs, its catalog."""

from __future__ import annotations

import time
from typing import Any

from tests.e2e.conftest import DataPlane


def runs(data_plane: DataPlane) -> list[dict[str, Any]]:
    """Every execution of the training state machine, described (newest first, as Step Functions lists)."""
    return data_plane.executions("TrainingStateMachineArn")


def accepted(data_plane: DataPlane, version: str, timeout: float = 60) -> None:
    """Wait until ``version`` of churn is in the catalog (and so announced to the policy)."""
    deadline = time.monotonic() + timeout
    while not any(item["version"] == version for item in data_plane.catalog("churn")):
        assert time.monotonic() < deadline, f"version {version[:12]} was not accepted in {timeout:.0f} s"
        time.sleep(0.2)
