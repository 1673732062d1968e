"""What the local cloud reports about its endpoints: which fleets serve which configuration, and how much.

Plain frozen dataclasses, as the other records: a snapshot handed out never changes under the reader.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

FleetRole = Literal["blue", "green"]
DeploymentStatus = Literal["in_progress", "deployed", "rolled_back", "failed", "deleted"]


@dataclass(frozen=True)
class VariantRecord:
    """One variant's model server in a fleet."""

    name: str
    model_name: str
    invocations: int
    log_stream: str
    port: int


@dataclass(frozen=True)
class FleetRecord:
    """The model servers of one endpoint configuration.

    Attributes
    ----------
    config_name : str
        The endpoint configuration it serves.
    role : {"blue", "green"}
        ``blue`` serves the configuration in service; ``green`` the one an update is deploying.
    traffic_share : float
        Its share of the endpoint's traffic now (0 once stopped).
    invocations : int
        Requests it served.
    running : bool
        False once stopped (a replaced or rolled-back fleet).
    variants : tuple[VariantRecord, ...]
    """

    config_name: str
    role: FleetRole
    traffic_share: float
    invocations: int
    running: bool
    variants: tuple[VariantRecord, ...] = ()


@dataclass(frozen=True)
class DeploymentRecord:
    """One ``CreateEndpoint`` or ``UpdateEndpoint`` and how it ended.

    Attributes
    ----------
    config_name, previous_config : str, str | None
        What it deployed, and what served before (None for a creation).
    status : {"in_progress", "deployed", "rolled_back", "failed", "deleted"}
    reason : str | None
        Why it rolled back or failed.
    shares : tuple[float, ...]
        The green fleet's traffic shares, in the order they were applied.
    """

    config_name: str
    previous_config: str | None
    status: DeploymentStatus
    reason: str | None = None
    shares: tuple[float, ...] = ()


@dataclass(frozen=True)
class EndpointRecord:
    """An endpoint as the local cloud runs it.

    Attributes
    ----------
    name, status, config_name : str
        ``EndpointName``, ``EndpointStatus``, ``EndpointConfigName``.
    failure_reason : str | None
    fleets : tuple[FleetRecord, ...]
        The running fleets: blue, then green during an update.
    retired : tuple[FleetRecord, ...]
        Fleets stopped so far (replaced blue fleets, rolled-back green ones), oldest first.
    deployments : tuple[DeploymentRecord, ...]
        Oldest first.
    """

    name: str
    status: str
    config_name: str
    failure_reason: str | None
    fleets: tuple[FleetRecord, ...] = ()
    retired: tuple[FleetRecord, ...] = ()
    deployments: tuple[DeploymentRecord, ...] = field(default_factory=tuple)

    def fleet(self, config_name: str) -> FleetRecord | None:
        """The running fleet of ``config_name``, if any."""
        return next((f for f in self.fleets if f.config_name == config_name), None)

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON-ready data."""
        return asdict(self)
