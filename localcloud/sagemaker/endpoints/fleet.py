"""A fleet: the model servers of one endpoint configuration, serving one endpoint.

Each production variant gets one :class:`~localcloud.sagemaker.serving.ModelServer` (it stands for the
variant's instances, whatever ``InitialInstanceCount`` says): ``ModelDataUrl`` is downloaded from the
local S3 and extracted into a model folder of its own, and the server's output goes to CloudWatch Logs,
group ``/aws/sagemaker/Endpoints/<endpoint>``, stream ``<variant>/<instance id>``, as SageMaker ships a
container's output. The container sees its model's ``Environment``, the region, and (unless the model has
``EnableNetworkIsolation``) the local cloud's endpoint and credentials; an isolated model's server
reaches no network at all (the socket guard, see ``ModelServer.start``). With IAM enforced, the model
data is downloaded, the server runs and captured data is written as the model's ``ExecutionRoleArn``
(``localcloud.sagemaker.roles``); without, as the administrator.
"""

from __future__ import annotations

import itertools
import secrets
import shutil
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from moto.core import utils as moto_utils  # its utcnow is the clock (moto_times)

from localcloud.awslambda import logs
from localcloud.iam.errors import AccessDeniedError
from localcloud.iam.local_iam import LocalIam
from localcloud.role_credentials import RoleClients, environment
from localcloud.sagemaker import roles
from localcloud.sagemaker.endpoints.routing import Sampler, WeightedRoundRobin
from localcloud.sagemaker.endpoints.spec import FleetSpec, VariantSpec
from localcloud.sagemaker.serving import ModelServer, ModelServerError
from localcloud.sagemaker.transfer import JobSetupError, split_s3_uri

LOG_GROUP_PREFIX = "/aws/sagemaker/Endpoints"
DRAIN_SECONDS = 30.0

_fleet_numbers = itertools.count(1)


class FleetStartError(Exception):
    """A fleet could not start; the message is the endpoint's ``FailureReason``."""


def log_group(endpoint: str) -> str:
    """The CloudWatch Logs group of an endpoint's containers."""
    return f"{LOG_GROUP_PREFIX}/{endpoint}"


@dataclass
class RunningVariant:
    """One variant's model server, and what it served."""

    spec: VariantSpec
    server: ModelServer
    log_stream: str
    s3: Any = None  # an S3 client acting as the model's role: data capture writes with it
    invocations: int = 0


class Fleet:
    """The running model servers of one endpoint configuration (start one with :func:`start_fleet`)."""

    def __init__(self, spec: FleetSpec, variants: list[RunningVariant], folder: Path) -> None:
        self.spec = spec
        self.variants = variants
        self._folder = folder
        self._chooser = WeightedRoundRobin()
        self.sampler: Sampler | None = spec.capture.sampler() if spec.capture else None
        self._in_flight = 0
        self._changed = threading.Condition()
        self.stopped = False
        self.started_at = moto_utils.utcnow()  # DeployedImages' ResolutionTime

    @property
    def config_name(self) -> str:
        """The endpoint configuration it serves."""
        return self.spec.config_name

    @property
    def invocations(self) -> int:
        """Invocations served so far, all variants together."""
        return sum(variant.invocations for variant in self.variants)

    def pick(self, target_variant: str | None = None) -> RunningVariant | None:
        """The variant to serve a request (by weight, or the one asked for; None if there is no such)."""
        if target_variant is not None:
            return next((v for v in self.variants if v.spec.name == target_variant), None)
        index = self._chooser.pick([variant.spec.weight for variant in self.variants])
        return self.variants[index]

    def acquire(self) -> None:
        """Count one request in flight (a fleet is only stopped once its requests are answered)."""
        with self._changed:
            self._in_flight += 1

    def release(self) -> None:
        """Count one request as answered."""
        with self._changed:
            self._in_flight -= 1
            self._changed.notify_all()

    def stop(self, drain_seconds: float = DRAIN_SECONDS) -> None:
        """Wait for the requests in flight (up to ``drain_seconds``), then stop every server."""
        with self._changed:
            self._changed.wait_for(lambda: self._in_flight == 0, timeout=drain_seconds)
            if self.stopped:
                return
            self.stopped = True
        for variant in self.variants:
            variant.server.stop()
        shutil.rmtree(self._folder, ignore_errors=True)


def start_fleet(
    spec: FleetSpec,
    *,
    work_dir: Path,
    clients: RoleClients,
    endpoint_url: str,
    iam: LocalIam | None = None,
    python: str = sys.executable,
    startup_timeout: float = 60.0,
) -> Fleet:
    """Start one model server per variant of ``spec``; return once every one answers ``/ping``.

    ``clients`` make the S3 clients acting as each model's role (assumed in ``iam``; the
    administrator's when it is None or not enforced).

    Raises
    ------
    FleetStartError
        If a model cannot be downloaded or its server does not start (the servers already started are
        stopped); the message says why, as SageMaker's ``FailureReason`` does.
    """
    folder = work_dir / spec.endpoint / f"{spec.config_name}-{next(_fleet_numbers)}"
    running: list[RunningVariant] = []
    try:
        for variant in spec.variants:
            running.append(
                _start_variant(
                    spec,
                    variant,
                    folder / variant.name,
                    clients,
                    iam,
                    endpoint_url,
                    python,
                    startup_timeout,
                )
            )
    except BaseException:
        for started in running:
            started.server.stop()
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return Fleet(spec, running, folder)


def _start_variant(
    spec: FleetSpec,
    variant: VariantSpec,
    folder: Path,
    clients: RoleClients,
    iam: LocalIam | None,
    endpoint_url: str,
    python: str,
    startup_timeout: float,
) -> RunningVariant:
    folder.mkdir(parents=True, exist_ok=True)
    try:
        session = roles.session(iam, variant.role_arn)
    except AccessDeniedError as error:  # CreateModel checked it: the role was deleted or changed since
        raise FleetStartError(
            f"{roles.unable_to_assume(variant.role_arn)} for production variant {variant.name}: {error}"
        ) from error
    s3 = clients.client("s3", spec.region, session)
    archive = _download(variant.model_data_url, folder, s3)
    stream = f"{variant.name}/i-{secrets.token_hex(9)[:17]}"

    def ship(lines: list[str]) -> None:
        # SageMaker writes an endpoint's logs as the model's role: a denied write drops them, as on AWS.
        where = {"account_id": spec.account_id, "region": spec.region, "group": log_group(spec.endpoint)}
        principal = session.arn if session is not None else None
        if iam is None or logs.writes_allowed(iam.enforcer, principal, stream=stream, **where):
            logs.write(stream=stream, lines=lines, **where)

    ship([])  # the stream exists from the start, as the instance's does
    try:
        server = ModelServer.start(
            archive,
            folder / "model",
            container_environment(
                variant, region=spec.region, endpoint_url=endpoint_url, credentials=environment(session)
            ),
            python=python,
            ship=ship,
            startup_timeout=startup_timeout,
            network_isolation=variant.network_isolation,
        )
    except ModelServerError as error:
        raise FleetStartError(
            f"The primary container for production variant {variant.name} did not pass the ping health "
            f"check. Please check CloudWatch logs for this endpoint. Local model server: {error}"
        ) from error
    return RunningVariant(spec=variant, server=server, log_stream=stream, s3=s3)


def _download(url: str | None, folder: Path, s3: Any) -> Path | None:
    """``ModelDataUrl`` downloaded into ``folder`` (None when the model has no artifact)."""
    if not url:
        return None
    try:
        bucket, key = split_s3_uri(url)
    except JobSetupError as error:
        raise FleetStartError(f"Could not download model data from {url}: {error}") from error
    target = folder / "model.tar.gz"
    try:
        s3.download_file(bucket, key, str(target))
    except (ClientError, BotoCoreError, OSError) as error:
        raise FleetStartError(
            f"Failed to download model data(bucket: {bucket}, key: {key}). Please ensure that there is an "
            "object located at the URL and that the role passed to CreateModel has permissions to download "
            "the model."
        ) from error
    return target


def container_environment(
    variant: VariantSpec, *, region: str, endpoint_url: str, credentials: Mapping[str, str]
) -> dict[str, str]:
    """The model's ``Environment``, with the region, and AWS access unless the model is isolated.

    ``credentials`` are the model's role's (``AWS_ACCESS_KEY_ID``, ``..._SECRET_...``, ``..._SESSION_TOKEN``).
    """
    variables = dict(variant.environment)
    variables.update({"AWS_REGION": region, "AWS_DEFAULT_REGION": region})
    if not variant.network_isolation:
        variables.update({"AWS_ENDPOINT_URL": endpoint_url, **credentials})
    return variables
