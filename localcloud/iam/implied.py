"""What a request needs beyond its own action, and the context keys it carries, as AWS documents them.

The KMS permissions a service asks for *as the caller* when the data is encrypted with a KMS key (the
key named by the request, else the resource's own configuration, read from moto's backends):

- S3 (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html, "Permissions"):
  reading an SSE-KMS object needs ``kms:Decrypt`` on its key; writing one (``PutObject``, the target of
  ``CopyObject``) needs ``kms:GenerateDataKey``; each request of a multipart upload (``Create``,
  ``UploadPart``/``UploadPartCopy``, ``Complete``) needs ``kms:Decrypt`` as well, S3 decrypting the data
  key to add parts (https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html#mpuAndPermissions);
  ``CopyObject`` and ``UploadPartCopy`` read their source (``kms:Decrypt`` on the source's key).
  ``upload_file`` asks for ``kms:GenerateDataKey`` only: a file below the transfer threshold is one
  ``PutObject`` (a larger one is a multipart upload on the wire, decided request by request).
- SNS (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html): a publisher to a topic with
  ``KmsMasterKeyId`` needs ``kms:GenerateDataKey`` and ``kms:Decrypt`` on the key.
- SQS (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html):
  a producer to a queue with ``KmsMasterKeyId`` needs ``kms:GenerateDataKey`` and ``kms:Decrypt``; a
  consumer ``kms:Decrypt``. A queue encrypted with SQS-owned keys (``SqsManagedSseEnabled``) needs none.

The keys are found through a ``KeyLookup`` (``localcloud.iam.encryption_keys.MotoKeys`` reads moto's
backends). These KMS requests carry ``kms:ViaService`` ("<service>.<region>.amazonaws.com") and
``kms:CallerAccount`` (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from localcloud.iam.actions import Required

# S3 calls that write an object, and those that belong to a multipart upload (which also decrypt).
_S3_WRITES = frozenset(
    {
        "put_object",
        "upload_file",
        "copy_object",
        "copy",
        "create_multipart_upload",
        "upload_part",
        "upload_part_copy",
        "complete_multipart_upload",
    }
)
_S3_MULTIPART = frozenset(
    {"create_multipart_upload", "upload_part", "upload_part_copy", "complete_multipart_upload"}
)
_S3_READS = frozenset({"get_object", "download_file"})
_S3_COPIES = frozenset({"copy_object", "copy", "upload_part_copy"})
_SQS_SENDS = frozenset({"send_message", "send_message_batch"})
_SQS_RECEIVES = frozenset({"receive_message"})
_SNS_PUBLISHES = frozenset({"publish", "publish_batch"})
# What each use of a KMS-encrypted resource asks of its key (the docstring cites AWS for each).
ENCRYPTS = ("kms:GenerateDataKey",)
DECRYPTS = ("kms:Decrypt",)
ENCRYPTS_AND_DECRYPTS = (
    "kms:GenerateDataKey",
    "kms:Decrypt",
)  # a multipart upload, an SNS publish, an SQS send
# boto3 service names whose service principal is not "<name>.amazonaws.com".
_PRINCIPALS = {"stepfunctions": "states.amazonaws.com"}

Values = dict[str, str | Sequence[str]]


def service_principal(service: str) -> str:
    """The service principal of a boto3 service ("sagemaker" -> "sagemaker.amazonaws.com")."""
    return _PRINCIPALS.get(service, f"{service}.amazonaws.com")


def request_context(service: str, params: Mapping[str, Any]) -> Values:
    """The context keys a request's own parameters give (those the platform's policies test)."""
    keys: Values = {}
    if service == "s3":
        encryption = params.get("ServerSideEncryption")
        if isinstance(encryption, str):
            keys["s3:x-amz-server-side-encryption"] = encryption
        key_id = params.get("SSEKMSKeyId")
        if isinstance(key_id, str):
            keys["s3:x-amz-server-side-encryption-aws-kms-key-id"] = key_id
        # A listing's prefix (ListBucket and its kin): a role may be let list one key's "folder" only.
        prefix = params.get("Prefix")
        if isinstance(prefix, str):
            keys["s3:prefix"] = prefix
    if service == "cloudwatch" and isinstance(params.get("Namespace"), str):
        keys["cloudwatch:namespace"] = params["Namespace"]
    return keys


def action_context(action: str, service: str) -> Values:
    """Keys one action carries: ``iam:PassedToService`` for ``iam:PassRole`` (the service it passes to)."""
    if action == "iam:PassRole":
        return {"iam:PassedToService": service_principal(service)}
    return {}


def kms_context(service: str, region: str, caller_account: str) -> Values:
    """The keys of a KMS request a service makes for its caller."""
    return {"kms:ViaService": f"{service}.{region}.amazonaws.com", "kms:CallerAccount": caller_account}


class KeyLookup(Protocol):
    """Where the KMS keys of encrypted resources are found (by whatever name the resource holds)."""

    def object_key(self, bucket: str, key: str) -> str | None:
        """The KMS key of an SSE-KMS object, or None (absent, or not encrypted with KMS)."""

    def bucket_key(self, bucket: str) -> str | None:
        """The KMS key of a bucket's default encryption, or None (none, or not SSE-KMS)."""

    def topic_key(self, topic_arn: str) -> str | None:
        """A topic's ``KmsMasterKeyId``, or None."""

    def queue_key(self, queue_url: str) -> str | None:
        """A queue's ``KmsMasterKeyId``, or None (SQS-owned encryption needs no key)."""

    def key_arn(self, key_id: str) -> str:
        """The ARN of a key named by id, ARN, alias or alias ARN (the name as an ARN if unknown)."""


def kms_permissions(
    service: str, operation: str, params: Mapping[str, Any], keys: KeyLookup
) -> list[Required]:
    """The KMS (action, key ARN) pairs a boto3 call implies, each once, in the order AWS asks for them."""
    found: list[tuple[str | None, tuple[str, ...]]] = []
    if service == "s3":
        found = _s3(operation, params, keys)
    elif service == "sns" and operation in _SNS_PUBLISHES:
        topic = str(params.get("TopicArn") or params.get("TargetArn") or "")
        found = [(keys.topic_key(topic), ENCRYPTS_AND_DECRYPTS)]
    elif service == "sqs" and operation in _SQS_SENDS | _SQS_RECEIVES:
        wanted = ENCRYPTS_AND_DECRYPTS if operation in _SQS_SENDS else DECRYPTS
        found = [(keys.queue_key(str(params.get("QueueUrl", ""))), wanted)]
    needed = [Required(action, keys.key_arn(key)) for key, actions in found if key for action in actions]
    return list(dict.fromkeys(needed))


def _s3(
    operation: str, params: Mapping[str, Any], keys: KeyLookup
) -> list[tuple[str | None, tuple[str, ...]]]:
    found: list[tuple[str | None, tuple[str, ...]]] = []
    if operation in _S3_COPIES:
        source = params.get("CopySource")
        if isinstance(source, Mapping):
            found.append(
                (keys.object_key(str(source.get("Bucket", "")), str(source.get("Key", ""))), DECRYPTS)
            )
    if operation in _S3_READS:
        found.append((keys.object_key(str(params.get("Bucket", "")), str(params.get("Key", ""))), DECRYPTS))
    if operation in _S3_WRITES:
        wanted = ENCRYPTS_AND_DECRYPTS if operation in _S3_MULTIPART else ENCRYPTS
        found.append((_write_key(params, keys), wanted))
    return found


def _write_key(params: Mapping[str, Any], keys: KeyLookup) -> str | None:
    """The key a write encrypts with: the request's own, else the bucket's default (when SSE-KMS)."""
    encryption = params.get("ServerSideEncryption")
    if encryption == "aws:kms" and isinstance(params.get("SSEKMSKeyId"), str):
        return str(params["SSEKMSKeyId"])
    if encryption not in (None, "aws:kms"):
        return None  # the request asks for another encryption than the bucket's default
    return keys.bucket_key(str(params.get("Bucket", "")))
