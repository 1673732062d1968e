"""The deployment workflow's history and timeout, bounded at synth (Step Functions' 25,000 events)."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest

from stacks import workflow_limits
from stacks.app import PROJECT_ROOT, cdk_json_context
from stacks.config import ConfigError, load_platform


@pytest.fixture
def context() -> dict[str, Any]:
    return copy.deepcopy(cdk_json_context()["mlops"])


def _load(context: dict[str, Any], deployment: dict[str, int]) -> Any:
    context["deployment"] = deployment
    return load_platform(context, Path(PROJECT_ROOT))


def test_a_quick_poll_for_a_long_timeout_is_refused_with_what_would_work(context: dict[str, Any]) -> None:
    # Given cdk.json's former settings: a look every 10 s for up to 12 hours (about 39,000 events)
    with pytest.raises(ConfigError) as refused:
        _load(context, {"poll_seconds": 10, "lock_wait_seconds": 30, "timeout_minutes": 720})

    # Then synth stops, naming the keys, the limit and the values that would fit
    message = str(refused.value)
    assert message.startswith("cdk.json: mlops.deployment: poll_seconds 10 and lock_wait_seconds 30")
    assert "Step Functions fails an execution at 25,000" in message
    found = re.search(r"poll_seconds to at least (\d+) and lock_wait_seconds to at least (\d+)", message)
    longest = re.search(r"timeout_minutes to at most (\d+)", message)
    assert found and longest
    # and each suggestion is accepted
    poll, lock = int(found[1]), int(found[2])
    _load(context, {"poll_seconds": poll, "lock_wait_seconds": lock, "timeout_minutes": 720})
    _load(context, {"poll_seconds": 10, "lock_wait_seconds": 30, "timeout_minutes": int(longest[1])})
    # while one second less is refused
    with pytest.raises(ConfigError):
        _load(context, {"poll_seconds": poll - 1, "lock_wait_seconds": lock, "timeout_minutes": 720})


@pytest.mark.parametrize("lock", [False, True])
def test_a_quick_lock_wait_counts_as_much_as_a_quick_poll(context: dict[str, Any], lock: bool) -> None:
    quick = {"poll_seconds": 600, "lock_wait_seconds": 3600} | {
        "lock_wait_seconds" if lock else "poll_seconds": 1
    }
    with pytest.raises(ConfigError, match=r"mlops\.deployment"):
        _load(context, {**quick, "timeout_minutes": 720})


def test_the_bound_counts_retries_that_write_events_faster_than_the_poll() -> None:
    # A DescribeEndpoint retried once writes 12 events in 5 s more than the poll: faster than 9 per
    # poll once the poll is longer than 15 s
    plain = workflow_limits.LOOP_EVENTS / 60
    bound = workflow_limits.worst_case_events(poll_seconds=60, lock_wait_seconds=3600, timeout_minutes=600)

    assert bound > workflow_limits.ONCE_EVENTS + 600 * 60 * plain
    assert bound >= workflow_limits.ONCE_EVENTS + 600 * 60 * 12 / 65


def test_a_rollout_longer_than_the_deployment_timeout_is_refused(context: dict[str, Any]) -> None:
    # Given a linear rollout of 10 steps an hour apart, and a deployment timeout of 2 hours
    context["datasets"]["churn"]["serving"] = {
        "instance_count": 2,
        "rollout": {"strategy": "linear", "linear_step_percent": 10, "wait_seconds": 3600},
    }

    with pytest.raises(ConfigError) as refused:
        _load(context, {"poll_seconds": 30, "lock_wait_seconds": 60, "timeout_minutes": 120})

    # Then synth stops: the workflow would time out with the update still going and the endpoint taken
    message = str(refused.value)
    assert "deployment.timeout_minutes (120)" in message
    assert "datasets.churn.serving.rollout" in message
    needed = int(re.search(r"at least (\d+)", message)[1])  # type: ignore[index]
    assert _load(context, {"poll_seconds": 30, "lock_wait_seconds": 60, "timeout_minutes": needed})


def test_the_longest_rollout_fits_the_default_timeout_within_the_history_limit(
    context: dict[str, Any],
) -> None:
    # The default deployment settings accept every rollout the serving configuration allows
    context["datasets"]["churn"]["serving"] = {
        "instance_count": 20,
        "rollout": {
            "strategy": "linear",
            "linear_step_percent": 10,
            "wait_seconds": 3600,
            "bake_seconds": 3600,
        },
    }
    platform = load_platform({**context, "deployment": {}}, Path(PROJECT_ROOT))

    settings = platform.config.deployment
    assert settings.timeout_minutes * 60 >= 28_800 + workflow_limits.ENDPOINT_START_SECONDS
    assert (
        workflow_limits.worst_case_events(
            poll_seconds=settings.poll_seconds,
            lock_wait_seconds=settings.lock_wait_seconds,
            timeout_minutes=settings.timeout_minutes,
        )
        < workflow_limits.MAX_HISTORY_EVENTS
    )
