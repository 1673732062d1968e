"""Writing, copying and reading S3 objects within S3's request limits, whatever their size.

One ``PutObject``, one ``UploadPart`` and one ``CopyObject`` each carry at most 5 GB; a multipart upload
has parts of at least 5 MB (all but the last) and at most 10,000 of them
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html). So an object past the single-request
limit is written with a multipart upload, and copied with ``UploadPartCopy``. A conditional write
(``If-None-Match: *``) keeps its guarantee either way: S3 takes the condition on
``CompleteMultipartUpload`` (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html),
and s3transfer's managed upload (0.19) does not pass it, so the parts are driven here, one in memory at
a time.

The limits are module constants so that a test can lower them for one test (the local cloud's S3 has
the same constants in ``localcloud/s3_limits.py``): no test writes 5 GB.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Mapping
from typing import Any, BinaryIO

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from adapters.aws import client, error_code

__all__ = ["ObjectTooLargeError", "copy_object", "json_document", "part_size", "put_if_absent"]

MIB = 1024 * 1024
MAX_SINGLE_REQUEST_BYTES = 5 * 1024 * MIB  # PutObject, UploadPart, CopyObject
MIN_PART_BYTES = 5 * MIB
MAX_PARTS = 10_000
PART_BYTES = 64 * MIB  # what a writer keeps in memory at a time
_REFUSED_CONDITION = {"PreconditionFailed", "ConditionalRequestConflict"}


class ObjectTooLargeError(Exception):
    """An object is larger than what is read into memory, or than S3 stores."""


def part_size(total: int) -> int:
    """The part size for an upload of ``total`` bytes: ``PART_BYTES``, or larger to stay within 10,000 parts.

    Raises
    ------
    ObjectTooLargeError
        ``total`` needs parts larger than one request may carry (over 48.8 TiB; S3 stores at most 5 TiB).
    """
    size = max(PART_BYTES, MIN_PART_BYTES, math.ceil(total / MAX_PARTS / MIB) * MIB)
    if size > MAX_SINGLE_REQUEST_BYTES:
        raise ObjectTooLargeError(f"{total:,} bytes do not fit in {MAX_PARTS:,} parts of at most 5 GB")
    return size


def _length(body: bytes | BinaryIO) -> int:
    if isinstance(body, bytes):
        return len(body)
    start = body.tell()
    end = body.seek(0, io.SEEK_END)
    body.seek(start)
    return end - start


def put_if_absent(
    bucket: str,
    key: str,
    body: bytes | BinaryIO,
    content_type: str,
    *,
    metadata: Mapping[str, str] | None = None,
) -> bool:
    """Write ``key`` unless it exists (a conditional write); True if this call wrote it.

    ``metadata``: the object's S3 user metadata (``x-amz-meta-*``), if any.

    ``body`` (bytes, or a seekable file read from where it stands) goes in one ``PutObject`` up to the
    single-request limit, else in a multipart upload completed with ``If-None-Match: *``: if another
    writer got there first, the parts are discarded and nothing is replaced.

    Raises
    ------
    botocore.exceptions.ClientError
        S3 refused a request for another reason (an unfinished multipart upload is aborted first).
    """
    s3 = client("s3")
    total = _length(body)
    described: dict[str, Any] = {
        "ContentType": content_type,
        **({"Metadata": dict(metadata)} if metadata else {}),
    }
    try:
        if total <= MAX_SINGLE_REQUEST_BYTES:
            s3.put_object(Bucket=bucket, Key=key, Body=body, IfNoneMatch="*", **described)
            return True
        stream = io.BytesIO(body) if isinstance(body, bytes) else body
        return _multipart_put_if_absent(s3, bucket, key, stream, total, described)
    except ClientError as error:
        if error_code(error) in _REFUSED_CONDITION:
            return False
        raise


def _multipart_put_if_absent(
    s3: Any, bucket: str, key: str, body: BinaryIO, total: int, described: Mapping[str, Any]
) -> bool:
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key, **described)["UploadId"]
    try:
        size, parts = part_size(total), []
        for number in range(1, math.ceil(total / size) + 1):
            chunk = body.read(size)
            response = s3.upload_part(
                Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=chunk
            )
            parts.append({"PartNumber": number, "ETag": response["ETag"]})
        s3.complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}, IfNoneMatch="*"
        )
    except BaseException:
        # Parts of an upload that is neither completed nor aborted are stored (and billed) for good.
        s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
        raise
    return True


def copy_object(source_bucket: str, source_key: str, bucket: str, key: str) -> None:
    """Copy an object server-side: one ``CopyObject`` up to the single-request limit, else ``UploadPartCopy``.

    The managed copy (s3transfer) reads the source's size first and switches at the threshold given here.
    """
    config = TransferConfig(
        multipart_threshold=MAX_SINGLE_REQUEST_BYTES + 1, multipart_chunksize=PART_BYTES, max_concurrency=4
    )
    client("s3").copy({"Bucket": source_bucket, "Key": source_key}, bucket, key, Config=config)


def json_document(response: Mapping[str, Any], where: str, limit: int) -> Any:
    """The JSON body of a ``GetObject`` response, refused unread past ``limit`` bytes.

    Raises
    ------
    ObjectTooLargeError
        The object is larger than ``limit`` (a document that big is not one the platform wrote).
    """
    size = int(response.get("ContentLength") or 0)
    if size > limit:
        response["Body"].close()
        raise ObjectTooLargeError(
            f"{where} is {size:,} bytes, more than the {limit:,} a function reads into memory"
        )
    return json.loads(response["Body"].read(limit + 1))
