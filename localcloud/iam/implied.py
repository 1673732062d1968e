"""What a request needs beyond its own action, and the context keys it carries, as AWS documents them.

The KMS permissions a service asks for *as the caller* when the data is encrypted with a KMS key (the
key named by the request, else the resource's own configuration, read from moto's backends):

- S3 (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html, "Permissions"):
  reading an SSE-KMS object needs ``kms:Decrypt`` on its key; writing one (``PutObject``, the target of
  ``CopyObject``, ``UploadPart``/``UploadPartCopy``) needs ``kms:GenerateDataKey``; a multipart upload
  needs ``kms:Decrypt`` as well ("to complete the multipart upload, S3 must decrypt the data key");
  ``CopyObject`` reads its source (``kms:Decrypt`` on the source's key).
- SNS (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html): a publisher to a topic with
  ``KmsMasterKeyId`` needs ``kms:GenerateDataKey`` and ``kms:Decrypt`` on the key.
- SQS (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html):
  a producer to a queue with ``KmsMasterKeyId`` needs ``kms:GenerateDataKey`` and ``kms:Decrypt``; a
  consumer ``kms:Decrypt``. A queue encrypted with SQS-owned keys (``SqsManagedSseEnabled``) needs none.

These KMS requests carry ``kms:ViaService`` ("<service>.<region>.amazonaws.com") and
``kms:CallerAccount`` (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from moto.kms.models import kms_backends
from moto.s3.models import s3_backends
from moto.sns.models import sns_backends
from moto.sqs.models import sqs_backends
from moto.utilities.utils import get_partition

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


def kms_permissions(
    service: str, operation: str, params: Mapping[str, Any], *, region: str, account: str
) -> list[Required]:
    """The KMS (action, key ARN) pairs a boto3 call implies, each once, in the order AWS asks for them."""
    found: list[Required] = []
    if service == "s3":
        found = _s3(operation, params, account, region)
    elif service == "sns" and operation in _SNS_PUBLISHES:
        key = _topic_key(account, region, str(params.get("TopicArn") or params.get("TargetArn") or ""))
        found = _on(key, account, region, ("kms:GenerateDataKey", "kms:Decrypt"))
    elif service == "sqs" and operation in _SQS_SENDS | _SQS_RECEIVES:
        key = _queue_key(account, region, str(params.get("QueueUrl", "")))
        wanted = ("kms:GenerateDataKey", "kms:Decrypt") if operation in _SQS_SENDS else ("kms:Decrypt",)
        found = _on(key, account, region, wanted)
    return list(dict.fromkeys(found))


def _s3(operation: str, params: Mapping[str, Any], account: str, region: str) -> list[Required]:
    found: list[Required] = []
    if operation in _S3_COPIES:
        source = params.get("CopySource")
        if isinstance(source, Mapping):
            key = _object_key(account, region, str(source.get("Bucket", "")), str(source.get("Key", "")))
            found += _on(key, account, region, ("kms:Decrypt",))
    if operation in _S3_READS:
        key = _object_key(account, region, str(params.get("Bucket", "")), str(params.get("Key", "")))
        found += _on(key, account, region, ("kms:Decrypt",))
    if operation in _S3_WRITES:
        key = _write_key(account, region, params)
        wanted = (
            ("kms:GenerateDataKey", "kms:Decrypt") if operation in _S3_MULTIPART else ("kms:GenerateDataKey",)
        )
        found += _on(key, account, region, wanted)
    return found


def _on(key_id: str | None, account: str, region: str, wanted: Sequence[str]) -> list[Required]:
    if not key_id:
        return []
    arn = _key_arn(key_id, account, region)
    return [Required(action, arn) for action in wanted]


def _key_arn(key_id: str, account: str, region: str) -> str:
    """The key's ARN from any of its names (id, ARN, alias, alias ARN); the name as given if unknown."""
    parts = key_id.split(":")
    if len(parts) > 4 and parts[2] == "kms":
        account, region = parts[4] or account, parts[3] or region
    backend = kms_backends[account][region]
    try:
        return str(backend.keys[backend.any_id_to_key_id(key_id)].arn)
    except (KeyError, TypeError, AttributeError):
        # A key the backend does not have: KMS would fail the call; name what was asked for.
        return (
            key_id
            if key_id.startswith("arn:")
            else f"arn:aws:kms:{region}:{account}:{key_id if '/' in key_id else 'key/' + key_id}"
        )


def _bucket(account: str, region: str, name: str) -> Any:
    return s3_backends[account][get_partition(region)].buckets.get(name)


def _object_key(account: str, region: str, bucket_name: str, key: str) -> str | None:
    bucket = _bucket(account, region, bucket_name)
    found = None if bucket is None else bucket.keys.get(key)
    if found is None or found.encryption != "aws:kms":
        return None
    return found.kms_key_id  # type: ignore[no-any-return]


def _write_key(account: str, region: str, params: Mapping[str, Any]) -> str | None:
    if params.get("ServerSideEncryption") == "aws:kms" and isinstance(params.get("SSEKMSKeyId"), str):
        return str(params["SSEKMSKeyId"])
    if params.get("ServerSideEncryption") not in (None, "aws:kms"):
        return None  # the request asks for another kind of encryption than the bucket's default
    bucket = _bucket(account, region, str(params.get("Bucket", "")))
    default = (
        ((bucket.encryption or {}).get("Rule") or {}).get("ApplyServerSideEncryptionByDefault")
        if bucket
        else None
    )
    if not default or default.get("SSEAlgorithm") != "aws:kms":
        return None
    return default.get("KMSMasterKeyID")  # type: ignore[no-any-return]


def _topic_key(account: str, region: str, topic_arn: str) -> str | None:
    topic = sns_backends[account][region].topics.get(topic_arn)
    return None if topic is None else (topic.kms_master_key_id or None)


def _queue_key(account: str, region: str, url: str) -> str | None:
    queue = sqs_backends[account][region].queues.get(url.rstrip("/").rsplit("/", 1)[-1])
    return None if queue is None else (getattr(queue, "kms_master_key_id", None) or None)
