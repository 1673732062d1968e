"""The feedback function's data bucket: the file read, the labelled rows and reports written.

:class:`S3FeedbackStore` is the data plane's store (``adapters.storage.S3DatasetStore``: the exact object
version the event named, conditional writes, JSON documents) with two differences:

- ``put`` writes the labelled rows, overwritten by a retry that finds no report beside them
  (``domain.feedback.ingest``); the bucket's default encryption (the platform's key) applies;
- ``read_json`` lists the key before reading it: the function's role lists the bucket by prefix only,
  and S3 answers a ``GetObject`` of a missing key with 403 (not 404) to a caller that may not list the
  whole bucket, so a report not yet written would read as a denial.

The labelled rows of earlier files are read through ``adapters.training_data.LabelStore``, the captures
through ``adapters.monitoring.S3CaptureSource``.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from adapters.aws import client, error_cause
from adapters.storage import S3DatasetStore, StorageError

__all__ = ["S3FeedbackStore"]


class S3FeedbackStore(S3DatasetStore):
    """Reads feedback files and writes labelled rows and reports in one bucket."""

    def put(self, key: str, body: bytes, content_type: str) -> None:
        """Write ``key`` (``PutObject``), replacing what is there.

        Raises
        ------
        StorageError
            S3 refused the write or could not be reached.
        """
        try:
            client("s3").put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)
        except (ClientError, BotoCoreError) as error:
            raise StorageError(
                f"cannot write s3://{self.bucket}/{key} ({error_cause(error)}): check that the feedback "
                "function's role may write under labels/ and quarantine/feedback/"
            ) from error

    def read_json(self, key: str) -> dict[str, Any] | None:
        """The JSON object at ``key``, or None when there is none (listed first: see the module)."""
        try:
            listed = client("s3").list_objects_v2(Bucket=self.bucket, Prefix=key, MaxKeys=1)
        except (ClientError, BotoCoreError) as error:
            raise StorageError(
                f"cannot list s3://{self.bucket}/{key} ({error_cause(error)}): check that the feedback "
                "function's role may list the data bucket under labels/ and quarantine/feedback/"
            ) from error
        if not any(item["Key"] == key for item in listed.get("Contents", [])):
            return None
        return super().read_json(key)
