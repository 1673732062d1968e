"""Runs Lambda functions locally from their deployed code, in pools of warm worker subprocesses.

Like Lambda's execution environments, a worker is started on demand (a cold start), serves one
invocation at a time, and is reused while the function's code and configuration stay the same. A
worker that timed out or died is discarded; so are the workers of a function's previous version.
What a worker sees is described in ``localcloud.awslambda.environment``; with IAM enforced, it acts as
the function's execution role (assumed by ``lambda.amazonaws.com``, the session named after the function,
as Lambda names it), and each denial of its calls is written to its logs, where AWS shows it too.
Each invocation runs at the local cloud's clock: its request carries the clock's offset at that moment,
and the worker shifts the handler's time by it (``bootstrap._shifted``).
"""

from __future__ import annotations

import json
import shutil
import threading
import time
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from localcloud.awslambda import logs, payload_limits
from localcloud.awslambda.code import CodeCache
from localcloud.awslambda.environment import FunctionSpec, worker_environment
from localcloud.awslambda.roles import LAMBDA_PRINCIPAL, ROLE_CANNOT_BE_ASSUMED
from localcloud.awslambda.worker import Worker, WorkerExitError, WorkerTimeoutError
from localcloud.iam.errors import AccessDeniedError
from localcloud.iam.local_iam import LocalIam
from localcloud.iam.report import Denial
from localcloud.records import Activity, InvocationRecord, InvocationType
from localcloud.role_credentials import assume, environment


@dataclass(frozen=True)
class InvocationOutcome:
    """The result of one invocation, in the shape the Invoke API returns it."""

    request_id: str
    payload: bytes
    error_type: str | None
    logs: str

    @property
    def function_error(self) -> bool:
        """True when the payload is an error payload (the API's ``FunctionError: Unhandled``)."""
        return self.error_type is not None


@dataclass
class _Run:
    """What happened in one worker during one invocation."""

    body: str = "null"
    error: dict[str, Any] | None = None
    status: str | None = None  # REPORT's "Status:" (timeout, error) when the environment is lost
    max_rss_kb: int = 0
    duration_ms: float = 0.0


class LambdaExecutor:
    """Invokes functions in pools of warm workers and records every invocation.

    Parameters
    ----------
    work_dir : Path
        Where code is unpacked and workers keep their logs, home and temp folders.
    endpoint_url : Callable[[], str]
        The local cloud's endpoint, given to every worker as ``AWS_ENDPOINT_URL``.
    activity : Activity
        Counts invocations in flight for ``wait_idle``.
    iam : LocalIam | None
        Where roles are assumed and calls decided; None (or enforcement off): workers get the
        administrator's credentials.
    log_lines : Callable[[str, str, str, list[str]], None] | None
        Called with ``(account, region, log group, lines)`` after an invocation's lines reached its
        log group (CloudWatch Logs' extraction of EMF metrics: ``emf.EmfExtractor``).
    clock_offset : Callable[[], timedelta]
        How far ahead of the machine's time the local cloud's clock is (``Clock.offset``), read as each
        invocation is sent.
    """

    def __init__(
        self,
        *,
        work_dir: Path,
        endpoint_url: Callable[[], str],
        activity: Activity,
        iam: LocalIam | None = None,
        log_lines: Callable[[str, str, str, list[str]], None] | None = None,
        clock_offset: Callable[[], timedelta],
    ) -> None:
        self._work_dir = work_dir
        self._clock_offset = clock_offset
        self._log_lines = log_lines
        self._iam = iam
        self._endpoint_url = endpoint_url
        self._activity = activity
        self._code = CodeCache(work_dir / "code")
        self._lock = threading.Lock()
        self._idle: dict[str, list[Worker]] = {}
        self._current: dict[str, str] = {}  # function ARN -> fingerprint of its current version
        self._busy: set[Worker] = set()
        self._records: list[InvocationRecord] = []
        self._functions: dict[str, str] = {}  # a role session's ARN -> the ARN of the function acting so
        self._denied: dict[str, list[str]] = {}  # function ARN -> denial messages not yet in its logs
        if iam is not None:
            iam.enforcer.add_denial_listener(self._on_denial)

    def invoke(self, function: Any, event: Any, invocation_type: InvocationType) -> InvocationOutcome:
        """Run ``function`` (a moto ``LambdaFunction``) on ``event`` and wait for its result."""
        spec = FunctionSpec.from_moto(function)
        request_id = str(uuid.uuid4())
        self._activity.begin()
        try:
            return self._invoke(spec, event, invocation_type, request_id)
        finally:
            self._activity.end()

    @property
    def iam(self) -> LocalIam | None:
        """Where the workers' roles are assumed (None: the administrator's credentials)."""
        return self._iam

    def records(self, function_name: str | None = None) -> list[InvocationRecord]:
        """Every invocation so far, oldest first, optionally of one function only."""
        with self._lock:
            return [r for r in self._records if function_name in (None, r.function_name)]

    def shutdown(self) -> None:
        """Kill every worker."""
        with self._lock:
            workers = [w for pool in self._idle.values() for w in pool] + list(self._busy)
            self._idle.clear()
            self._busy.clear()
        for worker in workers:
            self._discard(worker)

    def _invoke(
        self, spec: FunctionSpec, event: Any, invocation_type: InvocationType, request_id: str
    ) -> InvocationOutcome:
        started = time.time()
        if not spec.runtime.startswith("python"):
            message = (
                f"The local cloud runs Python functions only; {spec.name} uses {spec.runtime or 'an image'}"
            )
            return self._fail_early(
                spec, request_id, invocation_type, "LocalCloud.UnsupportedRuntime", message
            )
        try:
            worker, cold = self._acquire(spec)
        except (OSError, zipfile.BadZipFile) as error:
            message = f"The deployed code of {spec.name} cannot be unpacked: {error}"
            return self._fail_early(spec, request_id, invocation_type, "LocalCloud.CodeUnavailable", message)
        except AccessDeniedError as error:  # the role was deleted or its trust changed since CreateFunction
            message = f"{ROLE_CANNOT_BE_ASSUMED} {error.message}"
            return self._fail_early(spec, request_id, invocation_type, "LocalCloud.RoleUnavailable", message)
        run = self._run(worker, spec, event, request_id)
        if invocation_type == "RequestResponse" and run.error is None:
            run.error = payload_limits.oversized_response(run.body.encode("utf-8"))
        output = worker.take_logs()
        self._release(spec, worker, healthy=run.status is None)
        lines = self._ship_logs(spec, worker, request_id=request_id, run=run, output=output, cold=cold)
        self._record(spec, request_id, invocation_type, started, run.duration_ms, cold, run.error)
        payload = json.dumps(run.error) if run.error is not None else run.body
        error_type = run.error["errorType"] if run.error else None
        return InvocationOutcome(request_id, payload.encode(), error_type, "\n".join(lines))

    def _run(self, worker: Worker, spec: FunctionSpec, event: Any, request_id: str) -> _Run:
        if worker.init_error is not None:
            return _Run(error=dict(worker.init_error, requestId=request_id), status="error")
        request = {
            "request_id": request_id,
            "event": event,
            "function_arn": spec.arn,
            "deadline_ms": int((time.time() + spec.timeout) * 1000),
            "clock_offset_seconds": self._clock_offset().total_seconds(),
        }
        clock = time.perf_counter()
        run = _Run()
        try:
            reply = worker.invoke(request, spec.timeout)
            run.max_rss_kb = reply.max_rss_kb
            if reply.ok:
                run.body = reply.body or "null"
            else:
                run.error = reply.error
        except WorkerTimeoutError:
            message = f"RequestId: {request_id} Error: Task timed out after {spec.timeout:.2f} seconds"
            run.error, run.status = {"errorType": "Sandbox.Timedout", "errorMessage": message}, "timeout"
        except WorkerExitError as exit_error:
            message = f"RequestId: {request_id} Error: {exit_error}"
            run.error, run.status = {"errorType": "Runtime.ExitError", "errorMessage": message}, "error"
        run.duration_ms = (time.perf_counter() - clock) * 1000
        return run

    def _ship_logs(
        self, spec: FunctionSpec, worker: Worker, *, request_id: str, run: _Run, output: str, cold: bool
    ) -> list[str]:
        lines = [f"START RequestId: {request_id} Version: {spec.version}", *output.splitlines()]
        with self._lock:
            denied = self._denied.pop(spec.arn, [])
        lines.extend(logs.denial_line(request_id, message) for message in denied)
        if run.status == "timeout":
            lines.append(f"{_iso_now()} {request_id} Task timed out after {spec.timeout:.2f} seconds")
        lines.append(f"END RequestId: {request_id}")
        lines.append(
            logs.report_line(
                request_id,
                duration_ms=run.duration_ms,
                memory_mb=spec.memory_mb,
                max_rss_kb=run.max_rss_kb,
                init_ms=worker.init_ms if cold else None,
                status=run.status,
            )
        )
        where = {"account_id": spec.account_id, "region": spec.region, "group": spec.log_group}
        if self._iam is None or logs.writes_allowed(
            self._iam.enforcer, worker.principal, stream=worker.log_stream, **where
        ):
            logs.write(stream=worker.log_stream, lines=lines, **where)
            if self._log_lines is not None:
                self._log_lines(spec.account_id, spec.region, spec.log_group, lines)
        return lines

    def _fail_early(
        self,
        spec: FunctionSpec,
        request_id: str,
        invocation_type: InvocationType,
        error_type: str,
        message: str,
    ) -> InvocationOutcome:
        error = {"errorType": error_type, "errorMessage": message}
        self._record(spec, request_id, invocation_type, time.time(), 0.0, False, error)
        return InvocationOutcome(request_id, json.dumps(error).encode(), error_type, message)

    def _record(
        self,
        spec: FunctionSpec,
        request_id: str,
        invocation_type: InvocationType,
        started: float,
        duration_ms: float,
        cold: bool,
        error: dict[str, Any] | None,
    ) -> None:
        record = InvocationRecord(
            function_name=spec.name,
            request_id=request_id,
            invocation_type=invocation_type,
            started_at=started,
            duration_ms=duration_ms,
            cold_start=cold,
            error_type=error.get("errorType") if error else None,
            error_message=error.get("errorMessage") if error else None,
        )
        with self._lock:
            self._records.append(record)

    def _acquire(self, spec: FunctionSpec) -> tuple[Worker, bool]:
        fingerprint = spec.fingerprint
        with self._lock:
            previous = self._current.get(spec.arn)
            # After an update the old version's environments are never used again, as on AWS.
            retired = self._idle.pop(previous, []) if previous not in (None, fingerprint) else []
            self._current[spec.arn] = fingerprint
            pool = self._idle.setdefault(fingerprint, [])
            worker = pool.pop() if pool else None
            if worker is not None:
                self._busy.add(worker)
        for old in retired:
            self._discard(old)
        if worker is not None and worker.alive:
            return worker, False
        if worker is not None:
            self._discard(worker)
        worker = self._start_worker(spec)
        with self._lock:
            self._busy.add(worker)
        return worker, True

    def _start_worker(self, spec: FunctionSpec) -> Worker:
        task_root = self._code.task_root(spec.code)
        worker_id = uuid.uuid4().hex
        home = self._work_dir / "environments" / worker_id
        (home / "tmp").mkdir(parents=True)
        stream = logs.stream_name(worker_id, "$LATEST")
        session = assume(
            self._iam, spec.role, service=LAMBDA_PRINCIPAL, session_name=spec.name, source_arn=spec.arn
        )
        if session is not None:
            with self._lock:
                self._functions[session.arn] = spec.arn
        variables = worker_environment(
            spec,
            task_root=task_root,
            home=home,
            log_stream=stream,
            endpoint_url=self._endpoint_url(),
            credentials=environment(session),
        )
        worker = Worker(
            task_root=task_root,
            environment=variables,
            log_path=home / "output.log",
            log_stream=stream,
            clock_offset_seconds=self._clock_offset().total_seconds(),
        )
        worker.principal = session.arn if session is not None else None
        worker.wait_ready()
        return worker

    def _release(self, spec: FunctionSpec, worker: Worker, *, healthy: bool) -> None:
        with self._lock:
            self._busy.discard(worker)
            keep = healthy and worker.alive and self._current.get(spec.arn) == spec.fingerprint
            if keep:
                self._idle.setdefault(spec.fingerprint, []).append(worker)
        if not keep:
            self._discard(worker)

    def _on_denial(self, denial: Denial) -> None:
        # Kept until the invocation's logs are shipped, so that it appears between its START and END;
        # a denied log write is not: its lines are dropped (the enforcer keeps and logs the denial).
        if denial.action.startswith("logs:"):
            return
        with self._lock:
            function_arn = self._functions.get(denial.principal)
            if function_arn is not None:
                self._denied.setdefault(function_arn, []).append(denial.message)

    def _discard(self, worker: Worker) -> None:
        with self._lock:
            self._busy.discard(worker)
        worker.kill()
        shutil.rmtree(worker.log_path.parent, ignore_errors=True)


def _iso_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + "Z"
