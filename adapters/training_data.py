"""The retraining policy's training data in S3: the labelled rows, the snapshots, and the retraining upload.

- :class:`LabelStore`: ``ListObjectsV2`` under ``labels/<dataset>/`` and ``GetObject`` of the
  ``rows.parquet`` files that may hold labels after a time (a file's labels were accepted before it was
  written, so one last modified at or before the time, to the second S3 lists, is not read), for the
  policy only those whose ``report.json`` is written (the feedback ingestion's commit point); ``HeadObject``
  of a version's source upload, whose metadata says which labels the version holds (``labels_through``).
- :class:`RetrainingUploads`: ``GetObject`` of a version's snapshot and profile (``<snapshot
  prefix>data.parquet`` and ``profile.json``) and a conditional ``PutObject`` of the retraining upload with
  its metadata; with its :class:`LabelStore`, the
  use case's ``TrainingDataStore`` (:mod:`domain.retraining.preparation`).

Errors from AWS become :class:`TrainingDataError`.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from botocore.exceptions import BotoCoreError, ClientError

from adapters.aws import client, error_cause, error_code
from adapters.s3_objects import put_if_absent
from adapters.storage import S3DatasetStore, StorageError
from domain.data.ingestion_model import DatasetVersion
from domain.feedback.labelled import (
    CAPTURED_AT,
    INFERENCE_ID,
    LABELLED_AT,
    LABELLED_ROWS,
    MODEL_VERSION,
    REPORT,
    TIMESTAMP,
)
from domain.names import labels_prefix, retraining_upload_key
from domain.retraining.training_data import LabelSummary, summarize_labels
from domain.retraining.upload_metadata import DECISION_METADATA, upload_metadata
from domain.retraining.upload_metadata import labels_through as read_labels_through

__all__ = ["LabelStore", "RetrainingUploads", "TrainingDataError"]

PARQUET = "application/vnd.apache.parquet"
# Where domain.data.ingestion writes a version's rows and profile, under its snapshot prefix.
SNAPSHOT_FILE = "data.parquet"
PROFILE_FILE = "profile.json"
# The columns every label file has whatever the contract: an empty answer has them (those asked for).
_FIXED_TYPES = {
    INFERENCE_ID: pa.string(),
    MODEL_VERSION: pa.int64(),
    CAPTURED_AT: TIMESTAMP,
    LABELLED_AT: TIMESTAMP,
}
_FORBIDDEN = {"403", "AccessDenied", "Forbidden"}
_GONE = {"NoSuchKey", "NoSuchVersion", "404", "NotFound"}
# ListObjectsV2 gives LastModified to the second; a file written within the second after a time may
# be listed as of that second.
_LISTED_PRECISION = timedelta(seconds=1)


class TrainingDataError(Exception):
    """S3 refused a read or a write of the training data, or could not be reached."""


class LabelStore:
    """The labelled rows of every accepted feedback file, in the data bucket."""

    def __init__(self, bucket: str) -> None:
        self.bucket = bucket

    def summary(self, dataset: str, after: datetime | None) -> LabelSummary:
        """The labels of ``dataset`` accepted after ``after`` (None: all), the newest per inference ID.

        Only committed label files count (see :meth:`labelled_rows`).

        Raises
        ------
        TrainingDataError
        """
        rows = self.labelled_rows(
            dataset, after=after, columns=(INFERENCE_ID, LABELLED_AT), committed_only=True
        )
        return summarize_labels(rows, after=after)

    def labelled_rows(
        self,
        dataset: str,
        *,
        after: datetime | None,
        columns: tuple[str, ...] | None = None,
        committed_only: bool = False,
    ) -> pa.Table:
        """Every row of the label files that may hold a label accepted after ``after`` (None: all files).

        Several labels of one inference ID may be among them: the caller keeps the newest
        (``domain.retraining.training_data.newest_labels``). Files are read in key order, so the same files
        give the same table.

        Parameters
        ----------
        dataset : str
        after : datetime, optional
        columns : tuple of str, optional
            Only these columns (None: all).
        committed_only : bool
            Only the files whose report is written (the feedback ingestion's commit point). A file without
            one is being joined, or its join failed half-way and its retry will write it again with a
            new ``labelled_at``: what the retraining policy reads must not take it yet. The feedback
            ingestion itself reads its own rows before its report (the realized performance).

        Raises
        ------
        TrainingDataError
        """
        keys = self._files(dataset, after, committed_only=committed_only)
        tables = [self._read(key, columns) for key in keys]
        if not tables:
            empty = pa.schema([(name, _FIXED_TYPES[name]) for name in columns or _FIXED_TYPES])
            return empty.empty_table()
        # Files written under an earlier contract may lack a column: it reads as null.
        return pa.concat_tables(tables, promote_options="permissive")

    def metadata(self, bucket: str, key: str, version_id: str | None) -> Mapping[str, str] | None:
        """An object's user metadata, or None when the object (version) is not there.

        S3 answers a HeadObject of a missing key with 403, not 404, to a caller that may not list where
        it would be (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html): a 403 is
        taken for "not there" only when a listing of the key finds nothing.

        Raises
        ------
        TrainingDataError
            S3 refused the HeadObject for another reason than the object being gone.
        """
        request: dict[str, Any] = {"Bucket": bucket, "Key": key}
        if version_id:
            request["VersionId"] = version_id
        try:
            response = client("s3").head_object(**request)
        except (ClientError, BotoCoreError) as error:
            if error_code(error) in _GONE or (
                error_code(error) in _FORBIDDEN and not self._listed(bucket, key)
            ):
                return None
            raise TrainingDataError(
                f"cannot read the metadata of s3://{bucket}/{key} ({error_cause(error)}): check that the "
                "role may read the uploads under incoming/"
            ) from error
        return dict(response.get("Metadata") or {})

    def _listed(self, bucket: str, key: str) -> bool:
        try:
            page = client("s3").list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1)
        except (ClientError, BotoCoreError) as error:
            raise TrainingDataError(
                f"cannot tell whether s3://{bucket}/{key} exists ({error_cause(error)}): check that the role "
                "may list the data bucket where it is"
            ) from error
        return any(item["Key"] == key for item in page.get("Contents", []))

    def labels_through(self, record: DatasetVersion) -> datetime | None:
        """The newest label ``record`` holds, from its source upload's metadata (None: it holds none).

        Raises
        ------
        TrainingDataError
            S3 refused the HeadObject for another reason than the upload being gone.
        """
        return read_labels_through(record, self)

    def _files(self, dataset: str, after: datetime | None, *, committed_only: bool) -> list[str]:
        prefix = labels_prefix(dataset)
        keys, reports = [], set()
        try:
            for page in (
                client("s3").get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
            ):
                for item in page.get("Contents", []):
                    key, modified = item["Key"], item["LastModified"]
                    if key.endswith("/" + REPORT):
                        reports.add(key.removesuffix(REPORT))
                    elif key.endswith("/" + LABELLED_ROWS) and (
                        after is None or modified + _LISTED_PRECISION > after
                    ):
                        keys.append(key)
        except (ClientError, BotoCoreError) as error:
            raise TrainingDataError(
                f"cannot list the labels s3://{self.bucket}/{prefix} ({error_cause(error)}): check that the "
                "role may list the data bucket under labels/"
            ) from error
        if committed_only:
            keys = [key for key in keys if key.removesuffix(LABELLED_ROWS) in reports]
        return sorted(keys)

    def _read(self, key: str, columns: tuple[str, ...] | None) -> pa.Table:
        body = _get(self.bucket, key, "the labelled rows")
        try:
            return pq.read_table(io.BytesIO(body), columns=list(columns) if columns else None)
        except (pa.ArrowInvalid, OSError) as error:
            raise TrainingDataError(
                f"s3://{self.bucket}/{key} is not a Parquet file of labelled rows; it was not written by the "
                "platform's feedback ingestion"
            ) from error


class RetrainingUploads:
    """The retraining uploads the policy prepares, and what it reads to prepare them.

    Parameters
    ----------
    bucket : str
        The data bucket (its default encryption, the platform's key, applies to the upload).
    """

    def __init__(self, bucket: str) -> None:
        self.bucket = bucket
        self.labels = LabelStore(bucket)
        self._documents = S3DatasetStore(bucket)

    def write(
        self, dataset: str, decision_id: str, base_version: str, labels_through: datetime, body: bytes
    ) -> str:
        """Write ``body`` (Parquet) at ``names.retraining_upload_key(dataset, decision_id)``; the key.

        The object carries ``mlops-decision``, ``mlops-base-version`` and ``mlops-labels-through``. It is
        written once: when the key exists already with this decision's metadata (a retried decision), it
        is left as is.

        Raises
        ------
        TrainingDataError
            S3 refused the write, or the key holds an object of another decision.
        """
        key = retraining_upload_key(dataset, decision_id)
        metadata = upload_metadata(decision_id, base_version, labels_through)
        try:
            written = put_if_absent(self.bucket, key, body, PARQUET, metadata=metadata)
        except (ClientError, BotoCoreError) as error:
            raise TrainingDataError(
                f"cannot write the retraining upload s3://{self.bucket}/{key} ({error_cause(error)}): check "
                "that the role may write under incoming/ and use the platform's key"
            ) from error
        if not written and self.written(dataset, decision_id) is None:
            raise TrainingDataError(
                f"s3://{self.bucket}/{key} exists and was not written for decision {decision_id} "
                f"(no {DECISION_METADATA} metadata naming it); it is left as is"
            )
        return key

    def written(self, dataset: str, decision_id: str) -> str | None:
        """The key of the upload written for ``decision_id`` (its ``mlops-decision`` says so), or None.

        Raises
        ------
        TrainingDataError
        """
        key = retraining_upload_key(dataset, decision_id)
        existing = self.labels.metadata(self.bucket, key, None) or {}
        return key if existing.get(DECISION_METADATA) == decision_id else None

    def labels_through(self, record: DatasetVersion) -> datetime | None:
        """See :meth:`LabelStore.labels_through`."""
        return self.labels.labels_through(record)

    def profile(self, record: DatasetVersion) -> dict[str, Any] | None:
        """The profile the data plane recorded for ``record`` (``<snapshot prefix>profile.json``), or None.

        Raises
        ------
        TrainingDataError
        """
        try:
            return self._documents.read_json(record.snapshot_prefix + PROFILE_FILE)
        except StorageError as error:
            raise TrainingDataError(
                f"cannot read the profile of {record.dataset} version {record.version[:12]}: {error}"
            ) from error

    def snapshot(self, record: DatasetVersion) -> pa.Table:
        """The rows of an accepted version.

        Raises
        ------
        TrainingDataError
        """
        key = record.snapshot_prefix + SNAPSHOT_FILE
        body = _get(self.bucket, key, f"the snapshot of {record.dataset} version {record.version[:12]}")
        try:
            return pq.read_table(io.BytesIO(body))
        except (pa.ArrowInvalid, OSError) as error:
            raise TrainingDataError(f"s3://{self.bucket}/{key} is not a readable Parquet snapshot") from error

    def labelled_rows(self, dataset: str, *, after: datetime | None) -> pa.Table:
        """The labelled rows of the committed label files (see :meth:`LabelStore.labelled_rows`)."""
        return self.labels.labelled_rows(dataset, after=after, committed_only=True)


def _get(bucket: str, key: str, what: str) -> bytes:
    try:
        body: bytes = client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    except (ClientError, BotoCoreError) as error:
        raise TrainingDataError(f"cannot read {what} s3://{bucket}/{key} ({error_cause(error)})") from error
    return body
