"""Models imported from elsewhere: the skops file in the data bucket, and who is importing it.

The file goes to ``imports/<dataset>/<sha256>.skops`` (:func:`domain.names.import_key`) as ``mlops data
push`` sends an upload: a plain upload, encrypted by the bucket's default (the platform's KMS key). The key
is the file's content: a file already there is not sent again (the bucket is versioned; an upload of the
same bytes would only add a version), and what is there is never changed.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from boto3.exceptions import S3UploadFailedError
from botocore.exceptions import BotoCoreError, ClientError

from adapters.aws import client, error_cause, error_code

__all__ = ["ImportUploadError", "S3ModelImports", "caller_arn", "upload_metadata"]

# S3 keeps at most 2 KB of user-defined metadata per object, keys and values together, in US-ASCII.
MAX_METADATA_BYTES = 2_048
_MISSING = {"404", "NoSuchKey", "NotFound"}
_DENIED = {"403", "AccessDenied", "Forbidden"}


class ImportUploadError(Exception):
    """The imported file cannot be uploaded, or the caller cannot be named: the message says what to do."""


def caller_arn() -> str:
    """The ARN of whoever the SDK's credentials are, as STS names them (the importer, kept in the lineage).

    Raises
    ------
    ImportUploadError
        When STS does not answer: an import must say who made it.
    """
    try:
        return str(client("sts").get_caller_identity()["Arn"])
    except (ClientError, BotoCoreError) as error:
        raise ImportUploadError(
            f"cannot tell who is importing ({error_cause(error)} from sts:GetCallerIdentity): an import "
            "records its importer; check your AWS credentials"
        ) from error


def upload_metadata(by: str, name: str, reason: str) -> dict[str, str]:
    """The object's metadata: the importer, the file's original name and the reason, within S3's limits.

    Values are percent-encoded (S3 sends metadata as HTTP headers, US-ASCII only); the reason is cut
    first, then the name, so that the whole stays within 2 KB. The run's input has them whole.
    """
    values = {"imported-by": by, "original-name": quote(name, safe=""), "reason": quote(reason, safe="")}
    room = MAX_METADATA_BYTES - sum(len(key) for key in values)
    for key in ("reason", "original-name", "imported-by"):
        others = sum(len(value) for other, value in values.items() if other != key)
        values[key] = _cut_encoded(values[key], max(room - others, 0))
    return {key: value for key, value in values.items() if value}


def _cut_encoded(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters, never splitting a ``%XX`` escape."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    escape = cut.rfind("%", max(len(cut) - 2, 0))
    return cut[:escape] if escape != -1 else cut


class S3ModelImports:
    """The data bucket's ``imports/`` folder."""

    def __init__(self, bucket: str) -> None:
        self.bucket = bucket

    def exists(self, key: str) -> bool:
        """Whether ``key`` is in the bucket."""
        try:
            client("s3").head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if error_code(error) in _MISSING:
                return False
            if error_code(error) in _DENIED:
                raise ImportUploadError(
                    f"you may not read s3://{self.bucket}/{key} ({error_cause(error)}): an import needs "
                    "s3:GetObject on imports/* of the data bucket (and s3:ListBucket on the bucket, without "
                    "which S3 answers 403 for a file that is not there); ask the platform's owner for them"
                ) from error
            raise ImportUploadError(
                f"cannot look for s3://{self.bucket}/{key} ({error_cause(error)}); check your access to the "
                "data bucket"
            ) from error
        return True

    def upload(self, path: Path, key: str, metadata: dict[str, str]) -> None:
        """Upload the file at ``path`` to ``key`` with ``metadata`` (:func:`upload_metadata`)."""
        try:
            client("s3").upload_file(str(path), self.bucket, key, ExtraArgs={"Metadata": metadata})
        except (ClientError, BotoCoreError, S3UploadFailedError) as error:
            cause = error_cause(error)  # S3's refusal, also when boto3's transfer wraps it
            if cause in _DENIED:
                # upload_file sends a file over boto3's multipart threshold (8 MB) in parts, for which S3
                # asks the caller's kms:Decrypt on the bucket's key as well.
                raise ImportUploadError(
                    f"you may not upload {path.name} to s3://{self.bucket}/{key} ({cause}): an import needs "
                    "s3:PutObject on imports/* of the data bucket and kms:GenerateDataKey on the platform's "
                    "key (and kms:Decrypt, for a file over 8 MB, which is sent in parts); ask the platform's "
                    "owner for them"
                ) from error
            raise ImportUploadError(
                f"cannot upload {path.name} to s3://{self.bucket}/{key} ({cause}); check your access to the "
                "data bucket and try again"
            ) from error
