"""SageMaker's account quotas on endpoints: "<instance type> for endpoint usage", serverless concurrency.

An account may run only so many instances of each type behind its endpoints (Service Quotas, per region;
for a new account a few per type, or none). A blue/green update starts the new fleet while the old one
still serves, so both count until the old one is stopped: an endpoint of two instances needs four to
update. Serverless endpoints share one "total concurrency across all serverless endpoints" (1,000 in most
regions). ``CreateEndpoint`` or ``UpdateEndpoint`` past a quota fails with ``ResourceLimitExceeded``
and changes nothing (https://docs.aws.amazon.com/general/latest/gr/sagemaker.html,
https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_UpdateEndpoint.html#API_UpdateEndpoint_Errors).

The instances counted are those of every endpoint not ``Failed`` (its configuration's, and while it is
``Updating`` the new configuration's too); a deleted endpoint counts no more.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from localcloud.sagemaker.endpoints.spec import FleetSpec
from localcloud.sagemaker.quotas import InstanceQuotas, exceeded, refuse_negative

# The local cloud's quota per instance type when none is configured: room for a few endpoints of two
# instances to update blue/green at once.
DEFAULT_ENDPOINT_INSTANCES_PER_TYPE = 8
DEFAULT_SERVERLESS_CONCURRENCY = 1000  # "Total concurrency across all serverless endpoints"
_HOLDING_NOTHING = ("Failed", "Deleting")


@dataclass(frozen=True)
class EndpointQuotas(InstanceQuotas):
    """How many endpoint instances of each type, and how much serverless concurrency, the account has.

    ``default`` and ``instance_types`` as in ``InstanceQuotas`` (a larger ``default``: see the constant).

    Attributes
    ----------
    serverless_concurrency : int
        The ``MaxConcurrency`` of all serverless endpoints together.
    """

    _USE = "endpoint usage"
    _KIND = "endpoint quota"

    default: int = DEFAULT_ENDPOINT_INSTANCES_PER_TYPE
    serverless_concurrency: int = DEFAULT_SERVERLESS_CONCURRENCY

    def __post_init__(self) -> None:
        super().__post_init__()
        refuse_negative(self._KIND, {"serverless_concurrency": self.serverless_concurrency})

    def check(self, backend: Any, new: FleetSpec) -> None:
        """Refuse a new fleet (of a new endpoint, or the green fleet of an update) past a quota.

        Raises
        ------
        ResourceLimitExceededError
            With SageMaker's message (``localcloud.sagemaker.quotas.exceeded``), for the first quota passed.
        """
        instances, concurrency = _held(backend, _configs_in_use(backend))
        wanted, wanted_concurrency = _held(backend, [new.config_name])
        self.refuse_past(instances, wanted)
        if wanted_concurrency and concurrency + wanted_concurrency > self.serverless_concurrency:
            raise exceeded(
                "Total concurrency across all serverless endpoints",
                self.serverless_concurrency,
                concurrency,
                wanted_concurrency,
                unit="",
            )


def _configs_in_use(backend: Any) -> list[str]:
    """The configurations the account's endpoints run (both while one is ``Updating``), once each."""
    names: list[str] = []
    for endpoint in list(backend.endpoints.values()):
        if endpoint.endpoint_status in _HOLDING_NOTHING:
            continue
        pending = getattr(endpoint, "pending_deployment_summary", None) or {}
        names.extend({endpoint.endpoint_config_name, pending.get("EndpointConfigName")} - {None})
    return names


def _held(backend: Any, config_names: list[str]) -> tuple[Counter[str], int]:
    """Instances by type, and serverless concurrency, that fleets of these configurations hold."""
    instances: Counter[str] = Counter()
    concurrency = 0
    for name in config_names:
        config = backend.endpoint_configs.get(name)
        for variant in getattr(config, "production_variants", None) or []:
            serverless = variant.get("ServerlessConfig")
            if serverless:
                concurrency += int(serverless.get("MaxConcurrency") or 0)
            elif variant.get("InstanceType"):
                instances[str(variant["InstanceType"])] += int(variant.get("InitialInstanceCount") or 1)
    return instances, concurrency
