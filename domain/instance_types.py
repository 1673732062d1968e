"""What the platform needs to know about SageMaker ML instance types, in one place.

Instance store. Some Nitro-based instance types come with local NVMe SSD storage, which SageMaker uses
instead of an EBS volume and which a hardware module on the instance encrypts. SageMaker refuses a KMS
key for those volumes: ``CreateEndpointConfig`` fails with a ``KmsKeyId`` when a variant runs on such a
type, and ``CreateTrainingJob`` with ``ResourceConfig.VolumeKmsKeyId``
(https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateEndpointConfig.html#sagemaker-CreateEndpointConfig-request-KmsKeyId,
https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ResourceConfig.html#sagemaker-Type-ResourceConfig-VolumeKmsKeyId;
the types are listed in "Instance storage volumes",
https://docs.aws.amazon.com/sagemaker/latest/dg/host-instance-storage.html). The platform therefore
leaves the volume key out for them: their storage is encrypted all the same, by the instance.

EC2 names such types with a ``d`` among the family's attribute letters (``m5d``, ``c5d``, ``r5d``,
``g4dn``, ``p3dn``, ``p4d``, ``p4de``, ``m6id``, ``c6gd``...); a few GPU and accelerator families have
instance store without one (``g5``, ``g6``, ``g6e``, ``p5``, ``trn1``...).
"""

from __future__ import annotations

import re

__all__ = ["family", "has_local_storage"]

# Families with NVMe instance store whose names carry no ``d`` attribute (the P6 names do not even
# follow the pattern below: ``p6-b200``).
_LOCAL_STORAGE_FAMILIES = frozenset(
    {"g5", "g6", "g6e", "gr6", "p5", "p5e", "p5en", "p6-b200", "p6-b300", "p6e-gb200"}
    | {"trn1", "trn1n", "trn2", "dl1", "i3", "i4i"}
)
# <kind letters><generation digits><attribute letters>, as EC2 names families: m5d, g4dn, p4de, c6gd.
_FAMILY = re.compile(r"(?P<kind>[a-z]+)(?P<generation>\d+)(?P<attributes>[a-z]*)")


def family(instance_type: str) -> str:
    """The family of ``ml.<family>.<size>`` (``ml.g4dn.xlarge`` -> ``g4dn``)."""
    parts = instance_type.split(".")
    return parts[1] if len(parts) == 3 and parts[0] == "ml" else instance_type


def has_local_storage(instance_type: str) -> bool:
    """Whether the type's volumes are local NVMe instance store (encrypted by the instance, no KMS key).

    Parameters
    ----------
    instance_type : str
        An ML instance type, ``ml.m5d.large``.
    """
    name = family(instance_type)
    if name in _LOCAL_STORAGE_FAMILIES:
        return True
    match = _FAMILY.fullmatch(name)
    return match is not None and "d" in match["attributes"]
