"""What a retraining upload says of itself in its S3 metadata, and reading back the labels a version holds.

The policy's upload (``names.retraining_upload_key``) carries its decision, the version it extends and the
newest ``labelled_at`` it includes. The data plane records the upload (bucket, key, version id) as the
source of the dataset version it becomes, so :func:`labels_through` can tell, from a catalog record alone,
which labels a version already holds (``domain.retraining.training_data``: labels after that time are the
ones it lacks).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Protocol

from domain.data.ingestion_model import DatasetVersion
from domain.names import retraining_upload_prefix

__all__ = [
    "BASE_VERSION_METADATA",
    "DECISION_METADATA",
    "LABELS_THROUGH_METADATA",
    "MetadataReader",
    "labels_through",
    "upload_metadata",
]

# S3 user metadata of a prepared upload (lowercase: S3 returns metadata keys lowercased).
DECISION_METADATA = "mlops-decision"
BASE_VERSION_METADATA = "mlops-base-version"
LABELS_THROUGH_METADATA = "mlops-labels-through"


class MetadataReader(Protocol):
    """Reads an object's S3 user metadata."""

    def metadata(self, bucket: str, key: str, version_id: str | None) -> Mapping[str, str] | None:
        """The object's user metadata (keys lowercased), or None when the object (version) is gone."""
        ...


def upload_metadata(decision_id: str, base_version: str, labels_through: datetime) -> dict[str, str]:
    """The S3 user metadata of a prepared upload (see :func:`labels_through`)."""
    return {
        DECISION_METADATA: decision_id,
        BASE_VERSION_METADATA: base_version,
        LABELS_THROUGH_METADATA: labels_through.astimezone(UTC).isoformat(),
    }


def labels_through(record: DatasetVersion, reader: MetadataReader) -> datetime | None:
    """The newest ``labelled_at`` a dataset version holds: read from its source upload's metadata.

    Parameters
    ----------
    record : DatasetVersion
        The catalog record; ``source`` names the upload (bucket, key, version id).
    reader : MetadataReader

    Returns
    -------
    datetime or None
        None for a version the retraining policy did not prepare (an upload outside
        ``names.retraining_upload_prefix``, one without the metadata, or one no longer there): it holds
        no labelled rows, so every label is new to it. Only the policy's own uploads are asked about.
    """
    bucket, key = record.source.get("bucket"), record.source.get("key")
    if not bucket or not key or not str(key).startswith(retraining_upload_prefix(record.dataset)):
        return None
    metadata = reader.metadata(str(bucket), str(key), record.source.get("version_id"))
    text = (metadata or {}).get(LABELS_THROUGH_METADATA)
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None  # not written by this module: no labels are credited to it
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
