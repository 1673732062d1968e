"""SageMaker's account quotas on training instances: "<instance type> for training job usage".

An account may run only so many instances of each type in training jobs at once (Service Quotas, per
region; for a new account often a few instances, or none, per type). ``CreateTrainingJob`` beyond the
quota fails with ``ResourceLimitExceeded`` and creates nothing; the instances of every job still
``InProgress`` or ``Stopping`` count, each job its ``InstanceCount`` (or its instance groups').
https://docs.aws.amazon.com/sagemaker/latest/dg/regions-quotas.html,
https://docs.aws.amazon.com/general/latest/gr/sagemaker.html
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from moto.sagemaker.exceptions import SagemakerClientError

# The local cloud's quota per instance type when none is configured: a new account's "few".
DEFAULT_INSTANCES_PER_TYPE = 4
_HOLDING_INSTANCES = ("InProgress", "Stopping")


class ResourceLimitExceededError(SagemakerClientError):
    """SageMaker's ``ResourceLimitExceeded`` (HTTP 400): a quota would be passed."""

    code = "ResourceLimitExceeded"

    def __init__(self, message: str) -> None:
        super().__init__(message)


@dataclass(frozen=True)
class InstanceQuotas:
    """How many instances of each type the account may hold for one use (training jobs, endpoints).

    Service Quotas names each quota "<instance type> for <use>"; a subclass says which use it counts
    (``_USE``) and what the instances held and asked for are.

    Attributes
    ----------
    default : int
        The quota of every instance type not in ``instance_types``.
    instance_types : Mapping[str, int]
        Quotas by instance type (``ml.m5.large``...), as Service Quotas would apply them.
    """

    _USE: ClassVar[str]  # what Service Quotas names after the instance type: "training job usage"
    _KIND: ClassVar[str]  # how a configuration error names these quotas: "training quota"

    default: int = DEFAULT_INSTANCES_PER_TYPE
    instance_types: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        refuse_negative(self._KIND, {"default": self.default, **self.instance_types})

    def limit(self, instance_type: str) -> int:
        """The quota of ``instance_type``."""
        return self.instance_types.get(instance_type, self.default)

    def refuse_past(self, in_use: Counter[str], wanted: Counter[str]) -> None:
        """Refuse ``wanted`` instances on top of ``in_use`` past the quota of their type.

        Raises
        ------
        ResourceLimitExceededError
            With SageMaker's message, for the first instance type (by name) past its quota.
        """
        for instance_type, delta in sorted(wanted.items()):
            limit = self.limit(instance_type)
            if in_use[instance_type] + delta > limit:
                raise exceeded(f"{instance_type} for {self._USE}", limit, in_use[instance_type], delta)


@dataclass(frozen=True)
class TrainingQuotas(InstanceQuotas):
    """How many instances of each type the account's training jobs may use at once."""

    _USE = "training job usage"
    _KIND = "training quota"

    def check(self, resource_config: Mapping[str, Any], jobs: Iterable[Any]) -> None:
        """Refuse a job whose instances would pass a quota, given moto's training jobs.

        Raises
        ------
        ResourceLimitExceededError
            With SageMaker's message, for the first instance type past its quota.
        """
        in_use: Counter[str] = Counter()
        for job in jobs:
            if job.training_job_status in _HOLDING_INSTANCES:
                in_use.update(instances(job.resource_config or {}))
        self.refuse_past(in_use, instances(resource_config))


def exceeded(
    quota: str, limit: int, used: int, delta: int, unit: str = " Instances"
) -> ResourceLimitExceededError:
    """SageMaker's error for an account-level quota passed, in its words (any quota: training, endpoints).

    CreateTrainingJob, Errors: ResourceLimitExceeded, "You have exceeded an SageMaker resource limit",
    https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateTrainingJob.html
    """
    return ResourceLimitExceededError(
        f"The account-level service limit '{quota}' is {limit}{unit}, with current utilization of "
        f"{used}{unit} and a request delta of {delta}{unit}. Please use AWS Service Quotas to request an "
        "increase for this quota. If AWS Service Quotas is not available, contact AWS support to request an "
        "increase for this quota."
    )


def refuse_negative(kind: str, quotas: Mapping[str, int]) -> None:
    """Refuse a configured quota below 0 where it is given (``kind`` names the quotas in the message).

    Raises
    ------
    ValueError
        Naming the first negative quota.
    """
    for name, value in quotas.items():
        if value < 0:
            raise ValueError(f"{kind} {name}: {value}; a quota is 0 or more")


def instances(resource_config: Mapping[str, Any]) -> Counter[str]:
    """Instances a job's ``ResourceConfig`` asks for, by type (one type, or heterogeneous groups)."""
    groups = resource_config.get("InstanceGroups") or [resource_config]
    wanted: Counter[str] = Counter()
    for group in groups:
        if group.get("InstanceType"):
            wanted[str(group["InstanceType"])] += int(group.get("InstanceCount", 1))
    return wanted
