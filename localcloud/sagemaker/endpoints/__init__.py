"""SageMaker real-time endpoints in the local cloud: fleets of local model servers behind moto's API.

``service`` and ``runtime`` patch moto's SageMaker and SageMaker Runtime APIs; ``manager`` runs the
endpoints (``live``) as fleets of :class:`~localcloud.sagemaker.serving.ModelServer` (``fleet``, built
from ``spec``), creates and deletes them, and updates them blue/green (``plan``, ``rollout``, with
rollback on alarms); ``describe`` writes what ``DescribeEndpoint`` reports; ``telemetry`` writes the
invocations' CloudWatch metrics (``metrics``, evaluated by ``alarms`` when asked) and data capture
(``capture``) in batches. See the README's "Endpoints" section.
"""

from localcloud.sagemaker.endpoints.manager import EndpointManager
from localcloud.sagemaker.endpoints.records import (
    DeploymentRecord,
    EndpointRecord,
    FleetRecord,
    VariantRecord,
)
from localcloud.sagemaker.endpoints.telemetry import Telemetry

__all__ = [
    "DeploymentRecord",
    "EndpointManager",
    "EndpointRecord",
    "FleetRecord",
    "Telemetry",
    "VariantRecord",
]
