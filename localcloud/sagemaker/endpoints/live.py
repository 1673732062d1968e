"""One endpoint as the manager runs it: its blue and green fleets, the traffic split, and its history.

Every field is guarded by the endpoint's lock; moto's endpoint model (``model``) holds what
``DescribeEndpoint`` reports (see ``describe``), and is written under the same lock.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import Any

from localcloud.sagemaker.endpoints.fleet import Fleet, RunningVariant
from localcloud.sagemaker.endpoints.records import (
    DeploymentRecord,
    DeploymentStatus,
    EndpointRecord,
    FleetRecord,
    FleetRole,
    VariantRecord,
)
from localcloud.sagemaker.endpoints.routing import WeightedRoundRobin

SERVING = ("InService", "Updating")


class NotServingError(Exception):
    """The endpoint does not exist, or is not serving (still ``Creating``, ``Failed``)."""


@dataclass(frozen=True)
class Served:
    """Where one request goes: the endpoint's fleet and variant."""

    fleet: Fleet
    variant: RunningVariant


class LiveEndpoint:
    """One endpoint's fleets and traffic split.

    Parameters
    ----------
    model : Any
        moto's ``FakeEndpoint``, whose fields ``DescribeEndpoint`` reports.
    """

    def __init__(self, model: Any) -> None:
        self.model = model
        self.lock = threading.Lock()
        self.blue: Fleet | None = None
        self.green: Fleet | None = None
        self.green_share = 0.0
        self.router = WeightedRoundRobin()
        self.deleted = threading.Event()
        self.retired: list[FleetRecord] = []
        self.deployments: list[DeploymentRecord] = []

    @property
    def name(self) -> str:
        """``EndpointName``."""
        return str(self.model.endpoint_name)

    @property
    def status(self) -> str:
        """``EndpointStatus``."""
        return str(self.model.endpoint_status)

    def route(self, target_variant: str | None) -> Served:
        """The fleet (by the traffic split) and variant (by weight) of one request, counted in flight.

        Raises
        ------
        NotServingError
            If the endpoint is not ``InService``/``Updating``.
        LookupError
            If ``target_variant`` is not a variant of the chosen fleet.
        """
        with self.lock:
            if self.status not in SERVING or self.blue is None:
                raise NotServingError(self.name)
            fleet, green, share = self.blue, self.green, self.green_share
            if green is not None and share > 0 and self.router.pick([1.0 - share, share]) == 1:
                fleet = green
            variant = fleet.pick(target_variant)
            if variant is None:
                raise LookupError(target_variant)
            variant.invocations += 1
            fleet.acquire()
        return Served(fleet, variant)

    def record_deployment(
        self, status: DeploymentStatus, reason: str | None = None, share: float | None = None
    ) -> None:
        """Update the latest deployment's record (call with the lock held)."""
        last = self.deployments[-1]
        shares = (*last.shares, share) if share is not None else last.shares
        self.deployments[-1] = replace(last, status=status, reason=reason, shares=shares)

    def retire(self, fleet: Fleet, role: FleetRole) -> None:
        """Remember a stopped fleet (call with the lock held)."""
        self.retired.append(fleet_record(fleet, role, 0.0, running=False))

    def stop(self) -> None:
        """Mark the endpoint deleted and stop its fleets."""
        self.deleted.set()
        with self.lock:
            fleets: list[tuple[Fleet, FleetRole]] = []
            if self.blue is not None:
                fleets.append((self.blue, "blue"))
            if self.green is not None:
                fleets.append((self.green, "green"))
            self.blue = self.green = None
        for fleet, role in fleets:
            fleet.stop()
            with self.lock:
                self.retire(fleet, role)

    def record(self) -> EndpointRecord:
        """A snapshot of the endpoint."""
        with self.lock:
            fleets = []
            if self.blue is not None:
                fleets.append(fleet_record(self.blue, "blue", 1.0 - self.green_share, running=True))
            if self.green is not None:
                fleets.append(fleet_record(self.green, "green", self.green_share, running=True))
            return EndpointRecord(
                name=self.name,
                status=self.status,
                config_name=str(self.model.endpoint_config_name),
                failure_reason=self.model.failure_reason,
                fleets=tuple(fleets),
                retired=tuple(self.retired),
                deployments=tuple(self.deployments),
            )


def fleet_record(fleet: Fleet, role: FleetRole, share: float, *, running: bool) -> FleetRecord:
    """A snapshot of one fleet."""
    return FleetRecord(
        config_name=fleet.config_name,
        role=role,
        traffic_share=share,
        invocations=fleet.invocations,
        running=running,
        variants=tuple(
            VariantRecord(
                name=v.spec.name,
                model_name=v.spec.model_name,
                invocations=v.invocations,
                log_stream=v.log_stream,
                port=v.server.port,
            )
            for v in fleet.variants
        ),
    )
