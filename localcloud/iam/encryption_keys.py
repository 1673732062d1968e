"""The KMS keys of the local cloud's encrypted resources, read from moto's backends (never changed)."""

from __future__ import annotations

from typing import Any

from moto.kms.models import kms_backends
from moto.s3.models import s3_backends
from moto.sns.models import sns_backends
from moto.sqs.models import sqs_backends
from moto.utilities.utils import get_partition


class MotoKeys:
    """``localcloud.iam.implied.KeyLookup`` on moto's backends of one account and region."""

    def __init__(self, account_id: str, region: str) -> None:
        self._account_id = account_id
        self._region = region

    def object_key(self, bucket: str, key: str) -> str | None:
        """The KMS key of an SSE-KMS object (its latest version), or None."""
        found = self._bucket(bucket)
        item = None if found is None else found.keys.get(key)
        if item is None or item.encryption != "aws:kms":
            return None
        return item.kms_key_id  # type: ignore[no-any-return]

    def bucket_key(self, bucket: str) -> str | None:
        """The KMS key of a bucket's default encryption, as moto stores PutBucketEncryption's rule."""
        found = self._bucket(bucket)
        rule = ((found.encryption or {}).get("Rule") or {}) if found is not None else {}
        default = rule.get("ApplyServerSideEncryptionByDefault") or {}
        if default.get("SSEAlgorithm") != "aws:kms":
            return None
        return default.get("KMSMasterKeyID")

    def topic_key(self, topic_arn: str) -> str | None:
        """A topic's ``KmsMasterKeyId``, or None."""
        topic = sns_backends[self._account_id][self._region].topics.get(topic_arn)
        return (topic.kms_master_key_id or None) if topic is not None else None

    def queue_key(self, queue_url: str) -> str | None:
        """A queue's ``KmsMasterKeyId``, or None."""
        name = queue_url.rstrip("/").rsplit("/", 1)[-1]
        queue = sqs_backends[self._account_id][self._region].queues.get(name)
        return (getattr(queue, "kms_master_key_id", None) or None) if queue is not None else None

    def key_arn(self, key_id: str) -> str:
        """The ARN of a key by id, ARN, alias name or alias ARN; the name made an ARN if moto lacks it."""
        account, region = self._account_id, self._region
        parts = key_id.split(":")
        if len(parts) > 4 and parts[2] == "kms":
            account, region = parts[4] or account, parts[3] or region
        backend = kms_backends[account][region]
        try:
            return str(backend.keys[backend.any_id_to_key_id(key_id)].arn)
        except (KeyError, TypeError, AttributeError):
            # A key KMS does not have: the call fails on AWS anyway; the denial names what was asked for.
            if key_id.startswith("arn:"):
                return key_id
            name = key_id if key_id.startswith("alias/") else f"key/{key_id}"
            return f"arn:aws:kms:{region}:{account}:{name}"

    def _bucket(self, name: str) -> Any:
        return s3_backends[self._account_id][get_partition(self._region)].buckets.get(name)
