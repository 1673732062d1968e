"""Runs SageMaker endpoints as fleets of local model servers: creation, blue/green updates, deletion.

``CreateEndpoint`` leaves the endpoint ``Creating`` while its fleet starts on a thread of its own, then
``InService`` (or ``Failed`` with a ``FailureReason``). ``UpdateEndpoint`` leaves it ``Updating`` while a
:class:`~localcloud.sagemaker.endpoints.rollout.Rollout` runs: the green fleet starts beside the blue one,
takes the traffic step by step, bakes, and blue is stopped; or the update rolls back, and the endpoint is
``InService`` on the previous configuration with a ``FailureReason``, as SageMaker leaves it.
``DeleteEndpoint`` stops the fleets. The manager's threads hold units of the local cloud's activity, so
``wait_idle`` waits for endpoints that are ``Creating`` or ``Updating``.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from moto.core import utils as moto_utils  # its utcnow is the clock (moto_times)

from localcloud.iam.local_iam import LocalIam
from localcloud.records import Activity
from localcloud.role_credentials import RoleClients
from localcloud.sagemaker.endpoints import describe
from localcloud.sagemaker.endpoints.fleet import Fleet, FleetStartError, start_fleet
from localcloud.sagemaker.endpoints.live import LiveEndpoint, NotServingError, Served
from localcloud.sagemaker.endpoints.plan import RolloutPlan
from localcloud.sagemaker.endpoints.records import DeploymentRecord, EndpointRecord
from localcloud.sagemaker.endpoints.rollout import Rollout
from localcloud.sagemaker.endpoints.spec import FleetSpec

Client = Callable[[str, str], Any]
DELETING_SECONDS = 1.0  # how long an endpoint stays Deleting at least (SageMaker: minutes)

__all__ = ["EndpointBusyError", "EndpointManager", "NotServingError", "Served"]


class EndpointBusyError(Exception):
    """The endpoint cannot be updated in its status (``Creating``, ``Updating``, ``Failed``...)."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


class EndpointManager:
    """The endpoints of the local cloud and their fleets.

    Parameters
    ----------
    work_dir : Path
        Where model folders go (``<work_dir>/<endpoint>/<config>-<n>/<variant>/``).
    client : Callable[[str, str], Any]
        ``client(service, region)``: a boto3 client on the local cloud (S3, for model data).
    endpoint_url : Callable[[], str]
        The local cloud's endpoint, given to containers without network isolation.
    activity : Activity
        Holds one unit per endpoint being created, updated or deleted.
    python : str
        The interpreter of the model servers (the virtualenv's stands in for the serving image).
    iam : LocalIam | None
        Where the models' roles are assumed; None (or enforcement off): models act as the administrator.
    """

    def __init__(
        self,
        *,
        work_dir: Path,
        client: Client,
        endpoint_url: Callable[[], str],
        activity: Activity,
        python: str = sys.executable,
        startup_timeout: float = 60.0,
        iam: LocalIam | None = None,
    ) -> None:
        self._work_dir = work_dir
        self.iam = iam
        self._clients = RoleClients(endpoint_url=endpoint_url, administrator=client)
        self._endpoint_url = endpoint_url
        self._activity = activity
        self._python = python
        self._startup_timeout = startup_timeout
        self._lock = threading.Lock()
        self._endpoints: dict[str, LiveEndpoint] = {}
        self._threads: list[threading.Thread] = []

    # -- the API's side --------------------------------------------------------------------------------

    def create(self, model: Any, spec: FleetSpec) -> None:
        """Start the fleet of a new endpoint (moto's model, already ``Creating``) and return."""
        endpoint = LiveEndpoint(model)
        endpoint.deployments.append(DeploymentRecord(spec.config_name, None, "in_progress"))
        with self._lock:
            previous = self._endpoints.get(model.arn)
            self._endpoints[model.arn] = endpoint
        if previous is not None:  # replaced without DeleteEndpoint (CloudFormation's delete and create)
            previous.stop()
        self._run(f"endpoint-create-{endpoint.name}", lambda: self._create(endpoint, spec))

    def update(
        self, arn: str, spec: FleetSpec, plan: RolloutPlan, deployment_config: Mapping[str, Any] | None
    ) -> None:
        """Start a blue/green update to ``spec`` and return.

        Raises
        ------
        NotServingError
            If the manager does not run the endpoint.
        EndpointBusyError
            If the endpoint is not ``InService`` (one update at a time, as on SageMaker).
        """
        with self._lock:
            endpoint = self._endpoints.get(arn)
        if endpoint is None:
            raise NotServingError(arn)
        started = moto_utils.utcnow()
        with endpoint.lock:
            if endpoint.status != "InService" or endpoint.blue is None:
                raise EndpointBusyError(endpoint.status)
            previous = endpoint.model.endpoint_config_name
            endpoint.deployments.append(DeploymentRecord(spec.config_name, previous, "in_progress"))
            describe.updating(
                endpoint.model,
                spec,
                variant_status="Creating",
                started_at=started,
                deployment_config=deployment_config,
            )
        rollout = Rollout(endpoint, spec, plan, started, self._start)
        self._run(f"endpoint-update-{endpoint.name}", rollout.run)

    def delete(self, arn: str, on_deleted: Callable[[], None]) -> bool:
        """Stop the endpoint's fleets in the background (DeleteEndpoint returns at once), then ``on_deleted``.

        The deletion lasts at least ``DELETING_SECONDS``, as SageMaker's does (minutes there), so that a
        caller sees ``Deleting`` and must wait before it reuses the name. False: no such endpoint here.
        """
        with self._lock:
            endpoint = self._endpoints.pop(arn, None)
        if endpoint is None:
            return False

        def stop() -> None:
            endpoint.deleted.set()
            time.sleep(DELETING_SECONDS)
            endpoint.stop()
            on_deleted()

        self._run(f"endpoint-delete-{endpoint.name}", stop)
        return True

    @contextlib.contextmanager
    def serving(self, arn: str, target_variant: str | None = None) -> Iterator[Served]:
        """Route one request: the fleet (by the traffic split) and its variant (by weight).

        Raises
        ------
        NotServingError
            If there is no such endpoint, or it is not ``InService``/``Updating``.
        LookupError
            If ``target_variant`` is not a variant of the chosen fleet.
        """
        with self._lock:
            endpoint = self._endpoints.get(arn)
        if endpoint is None:
            raise NotServingError(arn)
        served = endpoint.route(target_variant)
        try:
            yield served
        finally:
            served.fleet.release()

    def records(self) -> list[EndpointRecord]:
        """Every endpoint the manager runs, by name."""
        with self._lock:
            endpoints = sorted(self._endpoints.values(), key=lambda e: e.name)
        return [endpoint.record() for endpoint in endpoints]

    def shutdown(self) -> None:
        """Stop every fleet and wait for the manager's threads."""
        with self._lock:
            endpoints, self._endpoints = list(self._endpoints.values()), {}
        for endpoint in endpoints:
            endpoint.deleted.set()
        for endpoint in endpoints:
            endpoint.stop()
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout=self._startup_timeout + 10)

    # -- the fleets' side ------------------------------------------------------------------------------

    def _run(self, name: str, target: Callable[[], None]) -> None:
        self._activity.begin()

        def run() -> None:
            try:
                target()
            finally:
                self._activity.end()

        thread = threading.Thread(target=run, name=name, daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def _start(self, spec: FleetSpec) -> Fleet:
        return start_fleet(
            spec,
            work_dir=self._work_dir,
            clients=self._clients,
            endpoint_url=self._endpoint_url(),
            iam=self.iam,
            python=self._python,
            startup_timeout=self._startup_timeout,
        )

    def _create(self, endpoint: LiveEndpoint, spec: FleetSpec) -> None:
        try:
            fleet = self._start(spec)
        except Exception as error:
            reason = str(error) if isinstance(error, FleetStartError) else f"InternalServerError: {error}"
            with endpoint.lock:
                if not endpoint.deleted.is_set():
                    describe.failed(endpoint.model, reason)
                endpoint.record_deployment("failed", reason)
            return
        with endpoint.lock:
            deleted = endpoint.deleted.is_set()
            if not deleted:
                endpoint.blue = fleet
                describe.in_service(endpoint.model, spec, deployed_at=fleet.started_at, failure_reason=None)
                endpoint.record_deployment("deployed", share=1.0)
        if deleted:
            fleet.stop()
