"""S3's size limits on writes and copies, which moto does not apply.

S3 takes at most 5 GB in one ``PutObject`` or ``UploadPart`` (``EntityTooLarge``), copies at most 5 GB
in one ``CopyObject`` or ``UploadPartCopy`` (``InvalidRequest``: larger objects are copied in parts),
and numbers parts 1 to 10,000 (https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html,
https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html,
https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPartCopy.html). moto 5.2.5 stores any size,
and checks part numbers on ``UploadPart`` only. It does refuse, at ``CompleteMultipartUpload``, a part
other than the last under 5 MiB (``EntityTooSmall``, ``moto.s3.models.S3_UPLOAD_PART_MIN_SIZE``), and
takes ``If-None-Match: *`` there: both are kept.

The limits are module constants so that a test can lower them for one test (no test sends 5 GB).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from moto.s3.exceptions import InvalidArgumentError, S3ClientError
from moto.s3.responses import S3Response

from localcloud.patches import Patch

MAX_SINGLE_REQUEST_BYTES = 5 * 1024**3  # PutObject, UploadPart; a CopyObject's or UploadPartCopy's source
MAX_PART_NUMBER = 10_000


class EntityTooLargeError(S3ClientError):
    """S3's answer to a body over the single-request limit."""

    def __init__(self, size: int) -> None:
        super().__init__("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
        self.proposed_size = size
        self.max_size_allowed = MAX_SINGLE_REQUEST_BYTES


class CopySourceTooLargeError(S3ClientError):
    """S3's answer to a copy of more than the single-request limit in one request."""

    def __init__(self) -> None:
        super().__init__(
            "InvalidRequest",
            "The specified copy source is larger than the maximum allowable size for a copy source: "
            f"{MAX_SINGLE_REQUEST_BYTES}",
        )


def _part_number(response: S3Response) -> None:
    number = response._get_int_param("partNumber")
    if not 1 <= number <= MAX_PART_NUMBER:
        raise InvalidArgumentError(
            f"Part number must be an integer between 1 and {MAX_PART_NUMBER}, inclusive",
            "partNumber",
            str(number),
        )


def _body(response: S3Response) -> None:
    size = len(response.body or b"")
    if size > MAX_SINGLE_REQUEST_BYTES:
        raise EntityTooLargeError(size)


def _copied_bytes(response: S3Response) -> int | None:
    """How many bytes the request copies (its range, or the whole source), or None without a source."""
    source = response.headers.get("x-amz-copy-source")
    if isinstance(source, bytes):
        source = source.decode()
    parsed = urlparse(source)
    bucket, _, key = unquote(parsed.path).lstrip("/").partition("/")
    version = parse_qs(parsed.query).get("versionId", [None])[0]
    copied = response.backend.get_object(bucket, key, version_id=version)
    if copied is None:
        return None
    first, _, last = (
        str(response.headers.get("x-amz-copy-source-range", "")).removeprefix("bytes=").partition("-")
    )
    if first.isdigit() and last.isdigit():
        return int(last) - int(first) + 1
    return int(copied.size)


def _checked(original: Callable[[S3Response], Any], *checks: Callable[[S3Response], None]) -> Any:
    def handler(self: S3Response) -> Any:
        for check in checks:
            check(self)
        return original(self)

    return handler


def _copy_size(response: S3Response) -> None:
    size = _copied_bytes(response)
    if size is not None and size > MAX_SINGLE_REQUEST_BYTES:
        raise CopySourceTooLargeError()


def patches() -> list[Patch]:
    """The checks, in front of moto's ``PutObject``, ``UploadPart``, ``CopyObject`` and ``UploadPartCopy``."""
    return [
        Patch(S3Response, "put_object", _checked(S3Response.put_object, _body)),
        Patch(S3Response, "upload_part", _checked(S3Response.upload_part, _part_number, _body)),
        Patch(S3Response, "copy_object", _checked(S3Response.copy_object, _copy_size)),
        Patch(
            S3Response, "upload_part_copy", _checked(S3Response.upload_part_copy, _part_number, _copy_size)
        ),
    ]
