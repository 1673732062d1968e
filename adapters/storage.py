"""The data bucket, as the ingestion use case sees it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, BinaryIO, cast

from botocore.exceptions import ClientError

from adapters import s3_objects
from adapters.aws import client, error_code, error_message
from domain.data.ingestion import Upload, UploadMissingError
from domain.data.ingestion_failures import UploadDeniedError
from domain.training import artifacts as run_artifacts

_MISSING = {"NoSuchKey", "NoSuchVersion", "404", "NotFound"}
_DENIED = {"AccessDenied", "403"}


class StorageError(Exception):
    """The data bucket refused a request for a reason other than a missing object."""


class S3DatasetStore:
    """Reads uploads and writes snapshots and reports in one bucket."""

    def __init__(self, bucket: str) -> None:
        self.bucket = bucket

    def opener(self, upload: Upload) -> Callable[[], BinaryIO]:
        """Open the exact version the event named, so a later overwrite cannot change what is validated."""
        version = {"VersionId": upload.version_id} if upload.version_id else {}

        def open_upload() -> BinaryIO:
            try:
                response = client("s3").get_object(Bucket=upload.bucket, Key=upload.key, **version)
            except ClientError as error:
                if error_code(error) in _MISSING:
                    raise UploadMissingError(
                        f"s3://{upload.bucket}/{upload.key} does not exist (any more)"
                    ) from None
                if error_code(error) in _DENIED:
                    raise UploadDeniedError(error_message(error) or "Access Denied") from error
                raise StorageError(f"cannot read s3://{upload.bucket}/{upload.key}: {error}") from error
            return cast(BinaryIO, response["Body"])

        return open_upload

    def put_if_absent(self, key: str, body: bytes | BinaryIO, content_type: str) -> bool:
        """Write ``key`` unless it exists (conditional, multipart past 5 GB); True if this call wrote it."""
        try:
            return s3_objects.put_if_absent(self.bucket, key, body, content_type)
        except (ClientError, s3_objects.ObjectTooLargeError) as error:
            raise StorageError(f"cannot write s3://{self.bucket}/{key}: {error}") from error

    def read_json(self, key: str) -> dict[str, Any] | None:
        """The JSON object at ``key``, or None."""
        where = f"s3://{self.bucket}/{key}"
        try:
            response = client("s3").get_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if error_code(error) in _MISSING:
                return None
            raise StorageError(f"cannot read {where}: {error}") from error
        try:
            return cast(
                dict[str, Any], s3_objects.json_document(response, where, run_artifacts.MAX_DOCUMENT_BYTES)
            )
        except s3_objects.ObjectTooLargeError as error:
            raise StorageError(str(error)) from None
