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
"""

from __future__ import annotations

import decimal
import importlib
import json
import os
import resource
import sys
import threading
import time
import traceback
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
        self._deadline_ms: int = request["deadline_ms"]

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function's timeout."""
        return max(0, self._deadline_ms - int(time.time() * 1000))


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


def _log_error(payload: dict[str, Any]) -> None:
    # The AWS runtime logs an unhandled error as one "[ERROR]" record followed by the traceback.
    trace = "".join(payload["stackTrace"])
    print(
        f"[ERROR] {payload['errorType']}: {payload['errorMessage']}\n"
        f"Traceback (most recent call last):\n{trace}",
        file=sys.stderr,
    )


class _InitError(Exception):
    """The handler could not be loaded; carries AWS's error type for it."""

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


def _invoke(handler: Any, request: dict[str, Any]) -> dict[str, Any]:
    context = LambdaContext(request)
    try:
        result = handler(request["event"], context)
    except Exception as error:
        payload = _error_payload(error)
        payload["requestId"] = context.aws_request_id
        _log_error(payload)
        return {"ok": False, "error": payload}
    try:
        body = json.dumps(result, default=_json_default)
    except (TypeError, ValueError) as error:
        payload = {
            "errorMessage": f"Unable to marshal response: {error}",
            "errorType": "Runtime.MarshalError",
            "requestId": context.aws_request_id,
            "stackTrace": [],
        }
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
        handler = _load_handler()
        init_error = None
    except _InitError as error:
        # AWS reports a failed init on the invocation that triggered it, without a stack trace.
        handler = None
        init_error = {
            "errorMessage": str(error),
            "errorType": error.error_type,
            "requestId": "",
            "stackTrace": [],
        }
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
