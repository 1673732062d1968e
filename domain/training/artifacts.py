"""Where a run's artifacts live and how the pipeline's steps reach them, free of any data library.

The gate and the registration import this (and the channels the Split state wrote, :class:`PreparedRun`,
which their states' inputs carry) and not ``domain.training.prepare`` (which splits with pyarrow), so
that their cold starts stay short.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

__all__ = ["MAX_DOCUMENT_BYTES", "ArtifactMissingError", "ArtifactStore", "PreparedRun", "run_prefix"]

# The largest JSON document (an evaluation, a profile, a record) a step reads into memory: far above what
# training writes, far below a function's memory. A module constant, so that a test can lower it.
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024


class ArtifactMissingError(Exception):
    """An object the run needs (the snapshot, the training job's archive) does not exist."""


class ArtifactStore(Protocol):
    """The data bucket, as the pipeline's steps see it (keys in it; URIs for objects anywhere)."""

    def uri(self, key: str) -> str:
        """``s3://<bucket>/<key>``."""
        ...

    def open_ranged(self, uri: str) -> BinaryIO:
        """The object at ``uri`` as a seekable file read by ranges, never stored; raises ArtifactMissingError.

        For Parquet, which is read from its footer: a snapshot is split without a copy in ``/tmp``.
        """
        ...

    def open(self, uri: str) -> BinaryIO:
        """A stream of the object at ``uri``, read as it arrives; raises ArtifactMissingError."""
        ...

    def upload(self, path: Path, key: str, content_type: str) -> None:
        """Write the file at ``path`` to ``key``."""
        ...

    def put_json(self, key: str, document: Any) -> None:
        """Write a JSON document to ``key``."""
        ...

    def read_json(self, uri: str) -> dict[str, Any] | None:
        """The JSON object at ``uri``, or None if there is none; refused past ``MAX_DOCUMENT_BYTES``."""
        ...

    def copy(self, source_uri: str, key: str) -> None:
        """Copy the object at ``source_uri`` (any bucket) to ``key``; raises ArtifactMissingError."""
        ...


def run_prefix(dataset: str, run_name: str) -> str:
    """Where one run's channels, outputs and records live."""
    return f"runs/{dataset}/{run_name}/"


@dataclass(frozen=True)
class PreparedRun:
    """What the training job is given, as the state machine passes it on (``$.prepare``)."""

    train_uri: str
    validation_uri: str
    test_uri: str
    config_uri: str
    champion_uri: str
    output_uri: str
    training_job_name: str
    champion: bool
    summary: dict[str, Any]  # bounded (``prepare.summary_digest``): the state holds at most 256 KiB

    def to_state(self) -> dict[str, Any]:
        """The step's output, as the state machine keeps it at ``$.prepare``."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}
