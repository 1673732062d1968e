"""Ships a function's output to CloudWatch Logs (moto's logs backend), framed as Lambda frames it.

Each execution environment writes to its own stream, ``YYYY/MM/DD/[$LATEST]<id>``, and each
invocation appears as ``START``, the handler's lines, ``END`` and ``REPORT``, so that whoever reads the
logs of a local run (a person, ``aws logs tail``, a test) sees what they would see on AWS. With IAM
enforced, a call of the function that its role may not make adds an ``[ERROR]`` line with AWS's
``AccessDenied`` message to the invocation's logs (``denial_line``), where its author looks first.

Lambda writes those logs with the function's execution role
(https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html): ``logs:CreateLogGroup``
when the group does not exist, ``logs:CreateLogStream`` for a new environment's stream,
``logs:PutLogEvents`` for each batch. ``writes_allowed`` decides them as the role, so the least-privilege
report counts them as used; a denied write drops the lines, as on AWS, and the denial is recorded.
"""

from __future__ import annotations

import math
import threading
import time
from datetime import UTC, datetime

from moto.logs.models import logs_backends

from localcloud.iam.actions import required
from localcloud.iam.enforcer import Enforcer
from localcloud.iam.errors import AccessDeniedError

_LOCK = threading.Lock()  # moto's put_log_events is not thread-safe (its own TODO says so)


def stream_name(worker_id: str, version: str) -> str:
    """The log stream of one execution environment, named as Lambda names it."""
    return f"{datetime.now(UTC):%Y/%m/%d}/[{version}]{worker_id}"


def report_line(
    request_id: str,
    *,
    duration_ms: float,
    memory_mb: int,
    max_rss_kb: int,
    init_ms: float | None,
    status: str | None = None,
) -> str:
    """The ``REPORT`` line that closes an invocation's logs."""
    parts = [
        f"REPORT RequestId: {request_id}",
        f"Duration: {duration_ms:.2f} ms",
        f"Billed Duration: {math.ceil(duration_ms)} ms",
        f"Memory Size: {memory_mb} MB",
        f"Max Memory Used: {max(1, max_rss_kb // 1024)} MB",
    ]
    if init_ms is not None:
        parts.append(f"Init Duration: {init_ms:.2f} ms")
    if status is not None:
        parts.append(f"Status: {status}")
    return "\t".join(parts)


def write(*, account_id: str, region: str, group: str, stream: str, lines: list[str]) -> None:
    """Append ``lines`` to ``group``/``stream``, creating both if needed (as Lambda does)."""
    backend = logs_backends[account_id][region]
    now_ms = int(time.time() * 1000)
    events = [{"timestamp": now_ms, "message": line} for line in lines if line]
    with _LOCK:
        backend.ensure_log_group(group)
        if stream not in backend.groups[group].streams:
            backend.create_log_stream(group, stream)
        if events:
            backend.put_log_events(group, stream, events)


def writes_allowed(
    enforcer: Enforcer, principal: str | None, *, account_id: str, region: str, group: str, stream: str
) -> bool:
    """Whether ``principal`` (a role session) may write to ``group``/``stream`` as Lambda writes for it.

    Parameters
    ----------
    enforcer : Enforcer
        Decides each action (nothing is decided when enforcement is off).
    principal : str | None
        The session the function's environment acts as; None: the administrator's, always allowed.
    account_id, region, group, stream : str
        Where the lines go.

    Returns
    -------
    bool
        False when a needed action is denied (the denial is logged and kept by the enforcer).
    """
    if principal is None:
        return True
    group_arn = f"arn:aws:logs:{region}:{account_id}:log-group:{group}"
    stream_arn = f"{group_arn}:log-stream:{stream}"
    existing = logs_backends[account_id][region].groups.get(group)
    needed = [("logs:PutLogEvents", stream_arn)]
    if existing is None or stream not in existing.streams:
        needed.insert(0, ("logs:CreateLogStream", stream_arn))
    if existing is None:  # the table knows the group's ARN as IAM sees it
        (create,) = required(
            "logs", "create_log_group", {"logGroupName": group}, region=region, account=account_id
        )
        needed.insert(0, (create.action, create.resource))
    try:
        for action, resource in needed:
            enforcer.authorize_action(principal, action, resource)
    except AccessDeniedError:
        return False
    return True


def denial_line(request_id: str, message: str) -> str:
    """A denied AWS call of the function, as its log shows it (the runtime's ``[ERROR]`` line format)."""
    return f"[ERROR]\t{_iso_now()}\t{request_id}\tAccessDenied: {message}"


def _iso_now() -> str:
    now = datetime.now(UTC)
    return f"{now:%Y-%m-%dT%H:%M:%S}.{now.microsecond // 1000:03d}Z"
