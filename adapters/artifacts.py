"""The pipeline's artifacts in S3 (snapshots, splits, channels, job archives)."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, cast

from botocore.exceptions import ClientError

from adapters.aws import client, error_code
from adapters.s3_objects import ObjectTooLargeError, copy_object, json_document
from domain.training import artifacts as run_artifacts
from domain.training.artifacts import ArtifactMissingError

__all__ = ["ArtifactError", "S3ArtifactStore", "split_uri"]

_MISSING = {"NoSuchKey", "404", "NotFound", "NoSuchBucket"}


class ArtifactError(Exception):
    """S3 or SageMaker refused a request for a reason other than a missing object."""


@contextlib.contextmanager
def _reading(uri: str) -> Iterator[None]:
    """S3's errors on reading ``uri`` as the store's: a missing object is ``ArtifactMissingError``."""
    try:
        yield
    except ClientError as error:
        if error_code(error) in _MISSING:
            raise ArtifactMissingError(f"{uri} does not exist") from None
        raise ArtifactError(f"cannot read {uri}: {error}") from error


def split_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` as ``(bucket, key)``."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    if not uri.startswith("s3://") or not bucket or not key:
        raise ArtifactError(f"{uri!r} is not an s3://bucket/key URI")
    return bucket, key


RANGE_BYTES = 8 * 1024 * 1024  # the least a ranged read fetches: few requests, little memory


class RangedObject(io.RawIOBase):
    """An S3 object read by ranged ``GetObject`` calls, for readers that seek (Parquet's footer first).

    ``If-Match`` on the ETag read when it was opened: an object replaced in the meantime fails the
    read instead of mixing two versions.
    """

    def __init__(self, bucket: str, key: str, size: int, etag: str) -> None:
        super().__init__()
        self._bucket, self._key, self._size, self._etag = bucket, key, size, etag
        self._position = 0

    def readable(self) -> bool:
        """Always."""
        return True

    def seekable(self) -> bool:
        """Always."""
        return True

    def tell(self) -> int:
        """The position of the next read."""
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Move the position; no request is made."""
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, buffer: Any) -> int:
        """Fill ``buffer`` from the position with one ranged GET; 0 at the end."""
        view = memoryview(buffer).cast("B")
        end = min(self._size, self._position + len(view))
        if end <= self._position:
            return 0
        with _reading(f"s3://{self._bucket}/{self._key}"):
            body = (
                client("s3")
                .get_object(
                    Bucket=self._bucket,
                    Key=self._key,
                    Range=f"bytes={self._position}-{end - 1}",
                    IfMatch=self._etag,
                )["Body"]
                .read()
            )
        view[: len(body)] = body
        self._position += len(body)
        return len(body)


class S3ArtifactStore:
    """Writes in the data bucket; reads and copies from any bucket the function may read."""

    def __init__(self, bucket: str) -> None:
        self.bucket = bucket

    def uri(self, key: str) -> str:
        """``s3://<bucket>/<key>``."""
        return f"s3://{self.bucket}/{key}"

    def open_ranged(self, uri: str) -> BinaryIO:
        """The object as a seekable file: each read is a ranged GET, buffered, nothing stored."""
        bucket, key = split_uri(uri)
        with _reading(uri):
            head = client("s3").head_object(Bucket=bucket, Key=key)
        ranged = RangedObject(bucket, key, int(head["ContentLength"]), str(head["ETag"]))
        return cast(BinaryIO, io.BufferedReader(ranged, buffer_size=RANGE_BYTES))

    def open(self, uri: str) -> BinaryIO:
        """A stream of the object at ``uri`` (the response body: read as it arrives, never stored)."""
        bucket, key = split_uri(uri)
        with _reading(uri):
            response = client("s3").get_object(Bucket=bucket, Key=key)
        return cast(BinaryIO, response["Body"])

    def upload(self, path: Path, key: str, content_type: str) -> None:
        """Write a local file to ``key`` (multipart above the transfer manager's threshold)."""
        try:
            client("s3").upload_file(str(path), self.bucket, key, ExtraArgs={"ContentType": content_type})
        except ClientError as error:
            raise ArtifactError(f"cannot write {self.uri(key)}: {error}") from error

    def put_json(self, key: str, document: Any) -> None:
        """Write a JSON document to ``key``."""
        body = json.dumps(document, indent=1, sort_keys=True, default=str).encode()
        try:
            client("s3").put_object(Bucket=self.bucket, Key=key, Body=body, ContentType="application/json")
        except ClientError as error:
            raise ArtifactError(f"cannot write {self.uri(key)}: {error}") from error

    def read_json(self, uri: str) -> dict[str, Any] | None:
        """The JSON object at ``uri``, or None; one larger than ``MAX_DOCUMENT_BYTES`` is refused unread."""
        bucket, key = split_uri(uri)
        try:
            response = client("s3").get_object(Bucket=bucket, Key=key)
        except ClientError as error:
            if error_code(error) in _MISSING:
                return None
            raise ArtifactError(f"cannot read {uri}: {error}") from error
        try:
            return cast(dict[str, Any], json_document(response, uri, run_artifacts.MAX_DOCUMENT_BYTES))
        except ObjectTooLargeError as error:
            raise ArtifactError(str(error)) from None

    def copy(self, source_uri: str, key: str) -> None:
        """Copy an object server-side to ``key``: one CopyObject up to 5 GB, a multipart copy past it."""
        bucket, source_key = split_uri(source_uri)
        try:
            copy_object(bucket, source_key, self.bucket, key)
        except ClientError as error:
            if error_code(error) in _MISSING:
                raise ArtifactMissingError(f"{source_uri} does not exist") from None
            raise ArtifactError(f"cannot copy {source_uri} to {self.uri(key)}: {error}") from error
