"""``LocalCloud``: moto serving the AWS APIs on loopback, with what moto lacks filled in.

One object owns the pieces: moto's threaded server (with the daemon's control API and API Gateway's
stage URLs), the Lambda executor and its asynchronous queue, the SageMaker training runner, and the
patches that connect them to moto's services (Step Functions executions included). Standard clients
(boto3, the AWS CLI) reach it with ``AWS_ENDPOINT_URL``; ``env()`` gives that environment.
moto's state is per process, so one local cloud runs per process.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import requests

from localcloud import patches
from localcloud.alarms import AlarmEvaluator, AlarmScope
from localcloud.apigateway.gateway import RestApiGateway, local_stage_url, stage_url
from localcloud.awslambda import service as lambda_service
from localcloud.awslambda.async_invoke import DEFAULT_RETRY_DELAYS, AsyncInvoker
from localcloud.awslambda.emf import EmfExtractor
from localcloud.awslambda.environment import TEST_CREDENTIALS
from localcloud.awslambda.executor import LambdaExecutor
from localcloud.clock import Clock
from localcloud.deploy import Deployer, fixups, moto_cfn
from localcloud.errors import LocalCloudError
from localcloud.iam.front import IamFront
from localcloud.iam.local_iam import LocalIam
from localcloud.outputs import merge_outputs
from localcloud.records import Activity, DeliveryRecord, InvocationRecord
from localcloud.role_credentials import RoleClients
from localcloud.sagemaker.endpoints import EndpointManager, EndpointRecord, Telemetry
from localcloud.sagemaker.endpoints.quotas import EndpointQuotas
from localcloud.sagemaker.quotas import TrainingQuotas
from localcloud.sagemaker.runner import TrainingRunner, TrainingRunRecord
from localcloud.scheduler.firing import ScheduleFiring, ScheduleRunner
from localcloud.server import ControlApi, LoopbackMotoServer
from localcloud.wiring import Executors, ProcessGlobals, moto_patches

#: How long a step of the clock waits for what it set off (``Clock.advance``).
CLOCK_SETTLE_SECONDS = 900.0


class LocalCloud:
    """An AWS double on ``host:port``: moto plus Lambda execution and event delivery.

    Parameters
    ----------
    host : str
        Loopback address to listen on.
    port : int
        Port to listen on; 0 picks a free one.
    region : str
        Default region of the clients and of environment-agnostic stacks.
    account_id : str
        The account every resource lives in.
    work_dir : Path | None
        Where unpacked code and execution environments go; a temporary folder (removed on ``stop``)
        when None.
    async_retry_delays : tuple[float, ...]
        Seconds before the retries of a failed asynchronous invocation (AWS waits minutes).
    evaluate_alarms : bool | None
        Which CloudWatch alarms are evaluated, at the clock's now (``localcloud.alarms``). None (default):
        those on metrics the local cloud produces as AWS does, the application's own namespaces
        (``PutMetricData``, EMF) and ``AWS/SageMaker`` ``Invocations``; True: all, the endpoints' latency
        and error alarms too (a laptop's latencies are not production's); False: none.
    endpoint_quotas : EndpointQuotas | None
        The account's quotas of endpoint instances per instance type and of serverless concurrency;
        ``CreateEndpoint``/``UpdateEndpoint`` past one is ``ResourceLimitExceeded``. Eight instances of
        each type and a concurrency of 1,000 when None.
    training_quotas : TrainingQuotas | None
        The account's quotas of training instances per instance type; ``CreateTrainingJob`` past one is
        ``ResourceLimitExceeded``. Four instances of each type when None.
    training_concurrency : int | None
        How many training jobs run at once on this machine (the others wait ``Starting``); one per CPU
        when None.
    enforce_iam : bool
        Decide every request signed by a role session (a function's, a job's, a state machine's) with
        the role's policies and the resource's, as AWS does (``localcloud.iam``); a denial is the
        service's AccessDenied. The local cloud's own credentials (the deployer, the CLI, tests) are the
        administrator's and always pass. On by default, as in ``mlops local up``: a grant missing from a
        template fails here, not after ``cdk deploy``. Off, nothing is decided or recorded.

    Examples
    --------
    >>> with LocalCloud() as cloud:                                    # doctest: +SKIP
    ...     outputs = cloud.deploy(Path("cdk.out"))
    ...     cloud.client("s3").put_object(Bucket=..., Key="incoming/a.csv", Body=b"...")
    ...     cloud.wait_idle()
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        region: str = "us-east-1",
        account_id: str = "123456789012",
        work_dir: Path | None = None,
        async_retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS,
        evaluate_alarms: bool | None = None,
        endpoint_quotas: EndpointQuotas | None = None,
        training_quotas: TrainingQuotas | None = None,
        training_concurrency: int | None = None,
        enforce_iam: bool = True,
    ) -> None:
        self.host = host
        self.region = region
        self.account_id = account_id
        self._port = port
        self._work_dir = work_dir
        self._owns_work_dir = work_dir is None
        self._retry_delays = async_retry_delays
        scopes: dict[bool | None, AlarmScope] = {None: "default", True: "all", False: "none"}
        self._alarm_scope = scopes[evaluate_alarms]
        self._endpoint_quotas = endpoint_quotas or EndpointQuotas()
        self._training_quotas = training_quotas or TrainingQuotas()
        self._training_concurrency = training_concurrency
        self._enforce_iam = enforce_iam
        # Rebuilt by start() (fresh sessions and records each time); typed here for the components.
        self.iam = LocalIam.create(account_id=account_id, region=region, enforce=enforce_iam)
        self._server: LoopbackMotoServer | None = None
        self._executor: LambdaExecutor | None = None
        self._invoker: AsyncInvoker | None = None
        self._trainer: TrainingRunner | None = None
        self._endpoints: EndpointManager | None = None
        self._telemetry: Telemetry | None = None
        self._alarms: AlarmEvaluator | None = None
        self._schedules: ScheduleRunner | None = None
        self.clock = Clock()  # rebuilt by start(): cloud.clock.now(), cloud.clock.advance(delta)
        self._deployer: Deployer | None = None
        self._activity = Activity()
        self._globals = ProcessGlobals()
        self._unquiet: Callable[[], None] | None = None
        self._patched = False
        self.control = ControlApi()
        self._clients = RoleClients(endpoint_url=lambda: self.endpoint_url)
        self.started_at: float | None = None

    # -- lifecycle -------------------------------------------------------------------------------------

    def start(self) -> LocalCloud:
        """Start moto on loopback and the local executors; return ``self``."""
        if self._server is not None:
            raise LocalCloudError("the local cloud is already started")
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one log line per request otherwise
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        self._deployer = Deployer(
            client=lambda service, region: self.client(service, region=region),
            account_id=self.account_id,
            region=self.region,
            settle=self._activity.wait_idle,
        )
        self.started_at = time.time()
        return self

    def _start(self) -> None:
        work_dir = self._work_dir or Path(tempfile.mkdtemp(prefix="localcloud-"))
        self._work_dir = work_dir
        self.iam = LocalIam.create(account_id=self.account_id, region=self.region, enforce=self._enforce_iam)
        # A step settles all its firings set off, a training run an alarm started included: minutes on a
        # busy machine, not wait_idle's default minute.
        self.clock = Clock(settle=lambda: self.wait_idle(timeout=CLOCK_SETTLE_SECONDS))
        self._alarms = AlarmEvaluator(self._alarm_scope, now=self.clock.moto_now)
        self._alarms.watch(self.account_id, self.region)
        self.clock.after_step(lambda: self._alarms.evaluate(force=True) if self._alarms else None)
        self._executor = LambdaExecutor(
            work_dir=work_dir / "lambda",
            endpoint_url=lambda: self.endpoint_url,
            activity=self._activity,
            iam=self.iam,
            log_lines=EmfExtractor(written=self._alarms.evaluate),
            clock_offset=lambda: self.clock.offset,
        )
        self._invoker = AsyncInvoker(
            executor=self._executor,
            activity=self._activity,
            find_function=lambda_service.find_function,
            retry_delays=self._retry_delays,
        )
        self._schedules = ScheduleRunner(
            clock=self.clock, invoker=self._invoker, where=[(self.account_id, self.region)]
        )
        self.clock.attach(self._schedules)
        self._trainer = TrainingRunner(
            work_dir=work_dir / "sagemaker",
            client=lambda service, region: self.client(service, region=region),
            endpoint_url=lambda: self.endpoint_url,
            activity=self._activity,
            concurrency=self._training_concurrency,
            iam=self.iam,
        )
        self._endpoints = EndpointManager(
            work_dir=work_dir / "endpoints",
            client=lambda service, region: self.client(service, region=region),
            endpoint_url=lambda: self.endpoint_url,
            activity=self._activity,
            iam=self.iam,
        )
        self._telemetry = Telemetry(
            client=lambda service, region: self.client(service, region=region),
            activity=self._activity,
            alarms=self._alarms,
            now=self.clock.now,
        )
        executors = Executors(
            lambdas=self._executor,
            invoker=self._invoker,
            trainer=self._trainer,
            endpoints=self._endpoints,
            telemetry=self._telemetry,
            activity=self._activity,
            iam=self.iam,
        )
        patches.install(
            moto_patches(
                executors,
                training_quotas=self._training_quotas,
                endpoint_quotas=self._endpoint_quotas,
                host=self.host,
                endpoint_url=lambda: self.endpoint_url,
                now=self.clock.moto_now,
            )
        )
        self._patched = True
        self._globals.save_moto_config()
        self._unquiet = moto_cfn.quiet_skipped_types(fixups.FIXUPS)
        gateway = RestApiGateway(executor=self._executor, activity=self._activity, iam=self.iam)
        self._server = LoopbackMotoServer(
            host=self.host, port=self._port, control=self.control, fronts=[IamFront(self.iam), gateway]
        )
        self._server.start()
        self._schedules.start()
        self._alarms.start()
        self._globals.set_environ("MOTO_ACCOUNT_ID", self.account_id)
        # moto builds the URLs it hands out (custom resource ResponseURLs...) from MOTO_PORT.
        self._globals.set_environ("MOTO_PORT", str(self.port))
        # moto's state is per process: start from a clean slate, whatever ran before in it.
        requests.post(f"{self.endpoint_url}/moto-api/reset", timeout=10).raise_for_status()
        # Not {"lambda": {"use_docker": False}}: that swaps in moto's echoing Lambda backend, which
        # never reaches LambdaFunction.invoke; with the default backend every path ends in ours.
        config = {"stepfunctions": {"execute_state_machine": True}}
        requests.post(f"{self.endpoint_url}/moto-api/config", json=config, timeout=10).raise_for_status()

    def stop(self) -> None:
        """Stop the server and every worker; restore moto; remove the work dir if it was temporary."""
        runners = (self._schedules, self._alarms, self._trainer, self._endpoints, self._telemetry)
        for running in (*runners, self._invoker, self._executor):
            if running is not None:
                running.shutdown()
        if self._server is not None and self._server._server is not None:
            # Leave the process's moto as empty as it was found (a later mock_aws must not see our stacks).
            with contextlib.suppress(requests.RequestException):
                requests.post(f"{self.endpoint_url}/moto-api/reset", timeout=10)
            self._server.stop()
        self._server = self._invoker = self._executor = self._deployer = self._trainer = None
        self._endpoints, self._telemetry, self._alarms, self._schedules = None, None, None, None
        if self._patched:
            patches.uninstall()
            self._patched = False
        if self._unquiet is not None:
            self._unquiet()
            self._unquiet = None
        self._globals.restore()
        if self._owns_work_dir and self._work_dir is not None:
            shutil.rmtree(self._work_dir, ignore_errors=True)
            self._work_dir = None

    def __enter__(self) -> LocalCloud:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    # -- clients ---------------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return self._running_server().get_host_and_port()[1]

    @property
    def endpoint_url(self) -> str:
        """``http://<host>:<port>``, what clients use as ``AWS_ENDPOINT_URL``."""
        return f"http://{self.host}:{self.port}"

    def env(self) -> dict[str, str]:
        """The environment that points standard AWS clients (boto3, the AWS CLI) at this local cloud."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "AWS_ACCESS_KEY_ID": TEST_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            "AWS_SECRET_ACCESS_KEY": TEST_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        }

    def client(self, service: str, *, region: str | None = None) -> Any:
        """A boto3 client for ``service`` on this local cloud, as the administrator (cached, thread-safe)."""
        return self._clients.client(service, region or self.region, None)

    def api_url(self, api_id: str, stage: str) -> str:
        """The local URL of a REST API's stage, ending with ``/`` (AWS: ``https://<id>.execute-api...``).

        ``<endpoint>/restapis/<api id>/<stage>/_user_request_/``: append a resource path without its
        leading ``/`` (``churn/invocations``). Requests are signed for this URL, as it is.
        """
        return stage_url(self.endpoint_url, api_id, stage)

    def local_url(self, url: str) -> str:
        """``url`` on this local cloud if it is an ``execute-api`` URL (``local_stage_url``), else as is."""
        return local_stage_url(self.endpoint_url, url)

    # -- work ------------------------------------------------------------------------------------------

    def deploy(self, cloud_assembly: Path, stacks: list[str] | None = None) -> dict[str, dict[str, str]]:
        """Deploy a synthesized cloud assembly (``cdk.out``); re-deploying updates the stacks.

        Parameters
        ----------
        cloud_assembly : Path
            The folder holding ``manifest.json``.
        stacks : list[str] | None
            Stack names (or artifact ids) to deploy with their dependencies; all when None.

        Returns
        -------
        dict[str, dict[str, str]]
            Stack name -> outputs, as ``describe_stacks`` reports them.
        """
        if self._deployer is None:
            raise LocalCloudError("start the local cloud before deploying")
        return self._deployer.deploy(Path(cloud_assembly), stacks)

    @property
    def deployed_stacks(self) -> dict[str, dict[str, str]]:
        """Every stack deployed so far, with its outputs."""
        return dict(self._deployer.deployed) if self._deployer else {}

    def outputs(self) -> dict[str, str]:
        """The outputs of every stack deployed so far in one mapping (``merge_outputs``).

        Raises
        ------
        OutputConflictError
            If two stacks have an output of the same key.
        """
        return merge_outputs(self.deployed_stacks)

    def wait_idle(self, timeout: float = 60.0) -> None:
        """Wait until every delivery, invocation, execution and training job in flight has finished.

        Endpoints being created or updated count as work in flight (an update's traffic shifting and
        baking included), and so do the endpoints' metrics and captured data not yet written (they are
        written first) and requests to API Gateway stages being answered.

        Raises
        ------
        TimeoutError
            If work is still in flight after ``timeout`` seconds.
        """
        if self._telemetry is not None:
            self._telemetry.flush()
        if not self._activity.wait_idle(timeout):
            raise TimeoutError(
                f"the local cloud is still busy after {timeout} s ({self._activity.busy} in flight)"
            )

    def invocations(self, function_name: str | None = None) -> list[InvocationRecord]:
        """Every Lambda invocation so far (oldest first), optionally of one function (physical name)."""
        return self._executor.records(function_name) if self._executor else []

    def deliveries(self, function_arn: str | None = None) -> list[DeliveryRecord]:
        """Every asynchronous delivery so far (EventBridge targets, ``Event`` invocations)."""
        return self._invoker.deliveries(function_arn) if self._invoker else []

    def training_runs(self) -> list[TrainingRunRecord]:
        """Every training job run so far (oldest first), with its job folder and exit status."""
        return self._trainer.records() if self._trainer else []

    def schedules(self) -> list[ScheduleFiring]:
        """Every EventBridge Scheduler firing so far (oldest first): schedule, time, target, result."""
        return self._schedules.firings() if self._schedules else []

    def endpoints(self) -> list[EndpointRecord]:
        """Every SageMaker endpoint (by name): status, configuration, and which fleets serve what."""
        return self._endpoints.records() if self._endpoints else []

    # -- internals -------------------------------------------------------------------------------------

    def _running_server(self) -> LoopbackMotoServer:
        if self._server is None:
            raise LocalCloudError("the local cloud is not started")
        return self._server
