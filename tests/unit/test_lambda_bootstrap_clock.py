"""The local Lambda runtime's time shift (``localcloud/awslambda/bootstrap.py``), in this process.

The runtime runs as a script in each worker; here its functions are called directly: the handler's time
moved by the offset a request carries, and a clear error when the shift cannot be made.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import pytest

from localcloud.awslambda.worker import BOOTSTRAP

HOUR = 3600.0


@pytest.fixture(scope="module")
def bootstrap() -> ModuleType:
    spec = importlib.util.spec_from_file_location("lambda_bootstrap_under_test", BOOTSTRAP)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def lambda_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the worker's environment gives the context object."""
    for name, value in {
        "AWS_LAMBDA_FUNCTION_NAME": "clock",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/clock",
        "AWS_LAMBDA_LOG_STREAM_NAME": "stream",
    }.items():
        monkeypatch.setenv(name, value)


def _request(offset_seconds: float) -> dict[str, Any]:
    return {
        "request_id": "r-1",
        "function_arn": "arn:aws:lambda:us-east-1:123456789012:function:clock",
        "event": {},
        "deadline_ms": int((time.time() + 30) * 1000),
        "clock_offset_seconds": offset_seconds,
    }


def _reader(event: Any, context: Any) -> dict[str, float]:
    return {
        "time": time.time(),
        "now": datetime.now(UTC).timestamp(),
        "remaining_ms": context.get_remaining_time_in_millis(),
    }


def test_a_handler_runs_shifted_by_the_requests_offset_and_the_time_is_real_after(
    bootstrap: ModuleType, lambda_environment: None
) -> None:
    # Given a request sent while the clock was an hour ahead
    request, before = _request(HOUR), time.time()

    # When the runtime invokes a handler that reads the time
    reply = bootstrap._invoke(_reader, request)

    # Then the handler read the clock's time in both APIs, its remaining time unshifted
    read = json.loads(reply["body"])
    assert HOUR - 1 < read["time"] - before < HOUR + 5
    assert abs(read["now"] - read["time"]) < 1
    assert 29_000 < read["remaining_ms"] <= 30_000
    # and the process's time is the machine's again once the handler returned
    assert 0 <= time.time() - before < 5
    assert abs(datetime.now(UTC).timestamp() - time.time()) < 1


def test_no_offset_leaves_the_time_alone(bootstrap: ModuleType, lambda_environment: None) -> None:
    # Given a request of a clock never advanced
    before = time.time()

    # When the runtime invokes the handler
    read = json.loads(bootstrap._invoke(_reader, _request(0.0))["body"])

    # Then it read the machine's time
    assert 0 <= read["time"] - before < 5


def test_an_offset_without_time_machine_installed_is_a_clear_error(
    bootstrap: ModuleType, lambda_environment: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a virtualenv without time-machine (its import fails)
    monkeypatch.setitem(sys.modules, "time_machine", None)
    called: list[Any] = []

    # When a request of an advanced clock comes
    reply = bootstrap._invoke(lambda event, context: called.append(event), _request(HOUR))

    # Then the handler is not run, and the error says what is missing and how to get it
    assert called == []
    assert reply["ok"] is False
    error = reply["error"]
    assert (error["errorType"], error["requestId"]) == ("LocalCloud.ClockUnavailable", "r-1")
    assert "3600 s ahead" in error["errorMessage"]
    assert "time-machine is not installed" in error["errorMessage"]
    assert "make setup" in error["errorMessage"]
