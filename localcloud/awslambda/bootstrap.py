"""The runtime inside one local Lambda execution environment (a worker subprocess).

This file runs as a script under ``python -I`` in the function's unpacked code folder; it imports
nothing from the project (only the standard library), so the function sees the modules of its own
asset first and the virtualenv's site-packages after them, as it would see ``/var/task`` and then its
layers on AWS. It does what the AWS Python runtime does for one environment: import the handler once
(the init phase), then run one invocation at a time, with a context object, returning the handler's
JSON result or an error payload shaped like AWS's.

Protocol with the parent (``localcloud.awslambda.worker``): requests arrive as JSON lines on the
original stdin, replies leave as JSON lines on the original stdout; the handler's own stdout and
stderr go to a log file that the parent ships to CloudWatch Logs.

Time: on AWS a function and the services around it share one time. Locally the services read the local
cloud's clock (the machine's time plus an offset that ``clock.advance`` moves), so each request carries the
clock's offset at the moment it was sent (``clock_offset_seconds``; the init phase gets the offset of the
worker's start as its second argument), and the handler runs with the process's wall-clock time shifted by
it: ``time.time``/``time_ns``, ``datetime.now``/``utcnow``/``today``, ``time.gmtime``/``localtime`` and what
reads them (boto3's signatures, Powertools' EMF timestamps). Monotonic clocks are untouched, and so is this
runtime's own deadline (``LambdaContext`` counts it on the monotonic clock). The offset is read once per
invocation: a clock advanced while a handler runs is seen from its next invocation, as the clock's own
advance waits for what is in flight before it jumps.
"""

from __future__ import annotations

import contextlib
import decimal
import importlib
import json
import os
import resource
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from typing import Any

_PARENT_POLL_SECONDS = 1.0


class LambdaContext:
    """The ``context`` argument of a handler, with the attributes of the AWS Python runtime's."""

    def __init__(self, request: dict[str, Any]) -> None:
        self.aws_request_id: str = request["request_id"]
        self.invoked_function_arn: str = request["function_arn"]
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ["AWS_LAMBDA_FUNCTION_VERSION"]
        # The AWS runtime reads this from the environment too, so it is a string there as well.
        self.memory_limit_in_mb = os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]
        self.log_group_name = os.environ["AWS_LAMBDA_LOG_GROUP_NAME"]
        self.log_stream_name = os.environ["AWS_LAMBDA_LOG_STREAM_NAME"]
        self.identity = None
        self.client_context = None
        # Made before the handler's time is shifted (the deadline is in the machine's time), and counted on
        # the monotonic clock, which the shift leaves alone.
        self._deadline = time.monotonic() + request["deadline_ms"] / 1000 - time.time()

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function's timeout."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _json_default(value: Any) -> Any:
    # The AWS runtime's marshaller accepts Decimal (what boto3's DynamoDB resource returns).
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _error_payload(error: BaseException) -> dict[str, Any]:
    # AWS's stack trace starts in the user's code: this runtime's own frames are left out.
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename != __file__]
    return {
        "errorMessage": str(error),
        "errorType": type(error).__name__,
        "requestId": "",
        "stackTrace": traceback.format_list(frames),
    }


def _runtime_error(error_type: str, message: str, request_id: str = "") -> dict[str, Any]:
    # The runtime's own errors (init, marshalling, the clock) carry no stack trace, as AWS reports them.
    return {"errorMessage": message, "errorType": error_type, "requestId": request_id, "stackTrace": []}


def _log_error(payload: dict[str, Any]) -> None:
    # The AWS runtime logs an unhandled error as one "[ERROR]" record followed by the traceback.
    trace = "".join(payload["stackTrace"])
    print(
        f"[ERROR] {payload['errorType']}: {payload['errorMessage']}\n"
        f"Traceback (most recent call last):\n{trace}",
        file=sys.stderr,
    )


class _InitError(Exception):
    """The handler could not be loaded or run; carries AWS's (or the local cloud's) error type for it."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def _load_handler() -> Any:
    module_path, _, function_name = os.environ["_HANDLER"].rpartition(".")
    module_name = module_path.replace("/", ".")
    try:
        module = importlib.import_module(module_name)
    except Exception as error:
        raise _InitError(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {error}"
        ) from error
    handler = getattr(module, function_name, None)
    if handler is None:
        raise _InitError(
            "Runtime.HandlerNotFound", f"Handler '{function_name}' missing on module '{module_name}'"
        )
    return handler


@contextlib.contextmanager
def _shifted(offset_seconds: float) -> Iterator[None]:
    """Run the body with the process's wall-clock time ``offset_seconds`` ahead of the machine's.

    With no offset (a local cloud whose clock was never advanced) nothing is patched or imported. Otherwise
    time-machine (a development dependency in the virtualenv that stands in for the function's layers:
    imported here only then, so that this runtime needs nothing but the standard library until the clock
    moves) patches the interpreter's time functions at the C level, so that ``datetime`` and ``time``
    agree, in every thread, for modules that imported them before; time goes on ticking from the clock's
    now.

    Parameters
    ----------
    offset_seconds : float
        How far ahead of the machine's time the local cloud's clock is.
    """
    if not offset_seconds:
        yield
        return
    blocked = "pytest" not in sys.modules
    if blocked:
        # time-machine imports pytest when it can, for its fixture: 0.16 s per environment, and a module the
        # function would not have on AWS. It does without it (None in sys.modules: the import fails).
        sys.modules["pytest"] = None  # type: ignore[assignment]
    try:
        import time_machine
    except ImportError as error:
        raise _InitError(
            "LocalCloud.ClockUnavailable",
            f"the local cloud's clock is {offset_seconds:.0f} s ahead of the machine's and this function "
            "cannot be shown its time: time-machine is not installed in the virtualenv (run make setup, "
            "which installs requirements-dev.txt)",
        ) from error
    finally:
        if blocked:
            del sys.modules["pytest"]

    travel = time_machine.travel(time.time() + offset_seconds, tick=True)
    travel.start()
    # time-machine starts ticking at the first read, not at start(): read at once, so that a handler that
    # reads the time late in its run does not see the clock's time of its start.
    time.time_ns()
    try:
        yield
    finally:
        travel.stop()


def _invoke(handler: Any, request: dict[str, Any]) -> dict[str, Any]:
    context = LambdaContext(request)
    try:
        with _shifted(float(request.get("clock_offset_seconds", 0.0))):
            result = handler(request["event"], context)
    except _InitError as error:
        payload = _runtime_error(error.error_type, str(error), context.aws_request_id)
        _log_error(payload)
        return {"ok": False, "error": payload}
    except Exception as error:
        payload = _error_payload(error)
        payload["requestId"] = context.aws_request_id
        _log_error(payload)
        return {"ok": False, "error": payload}
    try:
        body = json.dumps(result, default=_json_default)
    except (TypeError, ValueError) as error:
        payload = _runtime_error(
            "Runtime.MarshalError", f"Unable to marshal response: {error}", context.aws_request_id
        )
        _log_error(payload)
        return {"ok": False, "error": payload}
    return {"ok": True, "body": body}


def _exit_with_parent() -> None:
    # A worker must not outlive the local cloud that started it, even while a handler runs.
    parent = os.getppid()
    while True:
        time.sleep(_PARENT_POLL_SECONDS)
        if os.getppid() != parent:
            os._exit(1)


def _redirect_streams(log_path: str) -> tuple[Any, Any]:
    requests = os.fdopen(os.dup(0), "r", encoding="utf-8")
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    log_fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    null_fd = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null_fd, 0)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    os.close(null_fd)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    sys.stderr.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    return requests, replies


def _reply(replies: Any, message: dict[str, Any]) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    message["max_rss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    replies.write(json.dumps(message) + "\n")
    replies.flush()


def main() -> None:
    """Initialise the function, then serve invocations until the parent closes the pipe."""
    requests, replies = _redirect_streams(sys.argv[1])
    task_root = os.environ["LAMBDA_TASK_ROOT"]
    sys.path.insert(0, task_root)
    threading.Thread(target=_exit_with_parent, daemon=True).start()

    started = time.perf_counter()
    try:
        # The init phase runs at the clock's time of the worker's start (a module may read the time).
        with _shifted(float(sys.argv[2])):
            handler = _load_handler()
        init_error = None
    except _InitError as error:
        # AWS reports a failed init on the invocation that triggered it, without a stack trace.
        handler = None
        init_error = _runtime_error(error.error_type, str(error))
        cause = error.__cause__
        detail = "".join(traceback.format_exception(cause)) if cause is not None else ""
        print(f"[ERROR] {error.error_type}: {error}\n{detail}".rstrip(), file=sys.stderr)
    except Exception as error:
        handler = None
        init_error = _error_payload(error)
        _log_error(init_error)
    _reply(
        replies, {"ready": True, "init_ms": (time.perf_counter() - started) * 1000, "init_error": init_error}
    )

    for line in requests:
        request = json.loads(line)
        if handler is None:
            _reply(replies, {"ok": False, "error": init_error})
            continue
        _reply(replies, _invoke(handler, request))


if __name__ == "__main__":
    main()
