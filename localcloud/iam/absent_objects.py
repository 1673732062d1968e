"""A read of an S3 object that does not exist: 404 only to a caller who may list it, as AWS answers.

AWS's GetObject and HeadObject references, "Permissions"
(https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html): "If the object you request
doesn't exist, the error that Amazon S3 returns depends on whether you also have the s3:ListBucket
permission": 404 ``NoSuchKey`` with it, 403 ``AccessDenied`` without. moto answers 404 to everyone, so
code that tells "missing" by a 404 would pass locally and fail once deployed; the enforcer therefore
decides ``s3:ListBucket`` on the bucket for such a read (``listing_needed``), after the read's own
permission, from the caller's identity policies and the bucket's policy.

The check carries ``s3:prefix`` = the key: the listing that would reveal the key's absence is that of
the key itself, so a grant written for a prefix (``StringLike s3:prefix "labels/churn/*"``) answers 404
under that prefix only. A read of a given version (``VersionId``) is not checked: the platform reads
none, and AWS documents the rule for the current object.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from moto.s3.models import FakeKey, s3_backends
from moto.utilities.utils import get_partition

from localcloud.iam.actions import Required

_READS = frozenset({"get_object", "head_object"})


class ObjectLookup(Protocol):
    """Whether an object exists (its current version; a delete marker is no object)."""

    def exists(self, bucket: str, key: str) -> bool | None:
        """True if ``key`` is in ``bucket``, False if not, None if there is no such bucket."""


class MotoObjects:
    """``ObjectLookup`` on moto's S3 backend of one account and region (read, never changed)."""

    def __init__(self, account_id: str, region: str) -> None:
        self._account_id = account_id
        self._region = region

    def exists(self, bucket: str, key: str) -> bool | None:
        """True if ``key`` is in ``bucket``, False if not, None if there is no such bucket."""
        found = s3_backends[self._account_id][get_partition(self._region)].buckets.get(bucket)
        if found is None:
            return None
        return isinstance(found.keys.get(key), FakeKey)


def listing_needed(
    service: str, operation: str, params: Mapping[str, Any], objects: ObjectLookup
) -> tuple[Required, str] | None:
    """The ``s3:ListBucket`` a read of a missing object needs to be told 404, and its ``s3:prefix``.

    Parameters
    ----------
    service, operation : str
        The boto3 call ("s3", "get_object").
    params : Mapping[str, Any]
        The call's parameters (``Bucket``, ``Key``, ``VersionId``).
    objects : ObjectLookup
        Where the object is looked for.

    Returns
    -------
    tuple[Required, str] | None
        (``s3:ListBucket`` on the bucket's ARN, the key as the listing's prefix) for a GetObject or
        HeadObject of a key its bucket does not hold; None otherwise (another call, an object that
        exists, a missing bucket, which AWS answers ``NoSuchBucket``, or a read of a version).
    """
    if service != "s3" or operation not in _READS or params.get("VersionId") is not None:
        return None
    bucket, key = params.get("Bucket"), params.get("Key")
    if not isinstance(bucket, str) or not isinstance(key, str):
        return None
    if objects.exists(bucket, key) is not False:
        return None
    return Required("s3:ListBucket", f"arn:aws:s3:::{bucket}"), key
