"""The local cloud's training limits without a cloud: the account's quotas, the job queue, isolation."""

from __future__ import annotations

import functools
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from localcloud.sagemaker import isolation
from localcloud.sagemaker.quotas import ResourceLimitExceededError, TrainingQuotas
from localcloud.sagemaker.scheduler import JobQueue


@dataclass
class FakeJob:
    """What the quota check reads of moto's training job."""

    training_job_status: str
    resource_config: dict[str, Any] = field(
        default_factory=lambda: {"InstanceType": "ml.m5.large", "InstanceCount": 1}
    )


def test_the_instances_of_jobs_in_progress_or_stopping_count_against_their_types_quota() -> None:
    quotas = TrainingQuotas(instance_types={"ml.m5.large": 3})
    jobs = [
        FakeJob("InProgress"),
        FakeJob("Stopping"),
        FakeJob("Completed"),
        FakeJob("Failed"),
        FakeJob("InProgress", {"InstanceType": "ml.c5.xlarge", "InstanceCount": 4}),
    ]

    quotas.check({"InstanceType": "ml.m5.large", "InstanceCount": 1}, jobs)  # 2 held + 1 = 3
    with pytest.raises(ResourceLimitExceededError) as refused:
        quotas.check({"InstanceType": "ml.m5.large", "InstanceCount": 2}, jobs)

    assert refused.value.code == "ResourceLimitExceeded"
    assert "'ml.m5.large for training job usage' is 3 Instances, with current utilization of 2 " in str(
        refused.value.message
    )


def test_heterogeneous_instance_groups_count_each_type_and_the_default_covers_the_rest() -> None:
    quotas = TrainingQuotas(default=2)
    groups = {
        "InstanceGroups": [
            {"InstanceType": "ml.m5.large", "InstanceCount": 2, "InstanceGroupName": "a"},
            {"InstanceType": "ml.c5.xlarge", "InstanceCount": 3, "InstanceGroupName": "b"},
        ]
    }

    with pytest.raises(ResourceLimitExceededError, match=r"ml\.c5\.xlarge for training job usage"):
        quotas.check(groups, [])


def test_a_negative_quota_is_refused_where_it_is_configured() -> None:
    with pytest.raises(ValueError, match=r"training quota ml\.m5\.large: -1; a quota is 0 or more"):
        TrainingQuotas(instance_types={"ml.m5.large": -1})


def test_the_queue_starts_no_more_than_its_concurrency_in_submission_order() -> None:
    started: list[str] = []
    queue = JobQueue(2)
    for name in ("a", "b", "c", "d", "e"):
        queue.submit(name, functools.partial(started.append, name))

    assert started == ["a", "b"]
    assert queue.waiting() == ["c", "d", "e"]
    assert queue.withdraw("d") is True and queue.withdraw("a") is False
    queue.done()
    queue.done()
    assert started == ["a", "b", "c", "e"]


@pytest.fixture
def fresh_probe() -> Iterator[None]:
    isolation.available.cache_clear()
    yield
    isolation.available.cache_clear()


def test_without_unshare_an_isolated_script_gets_the_socket_guard(
    fresh_probe: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda _: None)

    command, environment, how = isolation.isolate(["python", "train.py"], {"PYTHONPATH": "/job/code"})

    assert how is isolation.Isolation.GUARD
    assert command == ["python", "train.py"]
    guard, code = environment["PYTHONPATH"].split(":")
    assert guard.endswith("network_guard") and code == "/job/code"
