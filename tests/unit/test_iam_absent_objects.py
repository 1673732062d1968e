"""A read of a missing S3 object: the enforcer asks for s3:ListBucket (AWS's 404 needs it, else 403).

Pure: the objects come from a hand-written lookup, as ``MotoObjects`` reads moto's S3 backend; the
policies from the enforcer tests' store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from localcloud.iam import ResourcePolicy, parse_policy
from localcloud.iam.absent_objects import listing_needed
from localcloud.iam.actions import Required
from localcloud.iam.enforcer import AccessDeniedError, Enforcer
from tests.unit.test_iam_enforcer import ACCOUNT, REGION, ROLE, SESSION, FakeKeys, FakeStore, allow

READ = allow("s3:GetObject", "arn:aws:s3:::data/*")
LIST = allow("s3:ListBucket", "arn:aws:s3:::data")


@dataclass
class FakeObjects:
    """Buckets and the keys each holds."""

    buckets: dict[str, set[str]] = field(default_factory=lambda: {"data": {"in/a.csv"}})

    def exists(self, bucket: str, key: str) -> bool | None:
        found = self.buckets.get(bucket)
        return None if found is None else key in found


def _enforcer(*statements: dict[str, Any], **more: Any) -> Enforcer:
    store = FakeStore(list(statements), **more)
    return Enforcer(
        store, account_id=ACCOUNT, region=REGION, enabled=True, keys=FakeKeys(), objects=FakeObjects()
    )


def _read(run: Enforcer, key: str, operation: str = "get_object") -> None:
    run.authorize(SESSION, "s3", operation, {"Bucket": "data", "Key": key})


@pytest.mark.parametrize("operation", ["get_object", "head_object"])
def test_a_missing_key_is_denied_to_a_reader_who_may_not_list(operation: str) -> None:
    # Given a role that may read every object of the bucket and list none
    run = _enforcer(READ)

    # When it reads an object that exists, then one that does not
    _read(run, "in/a.csv", operation)
    with pytest.raises(AccessDeniedError) as raised:
        _read(run, "in/missing.csv", operation)

    # Then the missing one is AWS's denial of the listing that would have told it so
    assert raised.value.message == (
        f"User: {SESSION} is not authorized to perform: s3:ListBucket on resource: arn:aws:s3:::data"
        " because no identity-based policy allows the s3:ListBucket action"
    )


def test_a_missing_key_passes_to_a_reader_who_may_list_and_the_listing_counts_as_used() -> None:
    run = _enforcer(READ, LIST)

    _read(run, "in/missing.csv")

    usage = run.usage().role(ROLE)
    assert usage is not None
    assert ("s3:ListBucket", "arn:aws:s3:::data") in usage.used
    assert usage.unused == ()


def test_a_listing_granted_for_a_prefix_answers_missing_keys_under_it_only() -> None:
    # Given a role that may list the bucket's labels/ only (s3:prefix as the grant is written)
    under = allow("s3:ListBucket", "arn:aws:s3:::data", Condition={"StringLike": {"s3:prefix": ["labels/*"]}})
    run = _enforcer(READ, under)

    # When it reads a missing key under labels/, then one elsewhere
    _read(run, "labels/x/rows.parquet")
    with pytest.raises(AccessDeniedError) as raised:
        _read(run, "in/missing.csv")

    # Then only the one outside the granted prefix is denied
    assert "s3:ListBucket on resource: arn:aws:s3:::data" in raised.value.message


def test_the_buckets_policy_decides_the_listing_too() -> None:
    # Given a reader without a listing grant, and a bucket policy that lets that role list
    granting = {"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "s3:ListBucket", "Resource": "*"}
    policy = parse_policy({"Version": "2012-10-17", "Statement": [granting]}, name="bucket policy")
    run = _enforcer(READ, resources={"arn:aws:s3:::data": ResourcePolicy(policy)})

    # When it reads a missing key, Then it passes (S3 answers 404)
    _read(run, "in/missing.csv")


def test_a_denied_read_is_denied_for_the_read_whatever_the_listing() -> None:
    run = _enforcer(LIST)

    with pytest.raises(AccessDeniedError) as raised:
        _read(run, "in/missing.csv")

    assert "s3:GetObject on resource: arn:aws:s3:::data/in/missing.csv" in raised.value.message


def test_only_a_current_read_of_a_missing_key_in_an_existing_bucket_needs_the_listing() -> None:
    objects = FakeObjects()

    assert listing_needed("s3", "head_object", {"Bucket": "data", "Key": "gone"}, objects) == (
        Required("s3:ListBucket", "arn:aws:s3:::data"),
        "gone",
    )
    assert listing_needed("s3", "get_object", {"Bucket": "data", "Key": "in/a.csv"}, objects) is None
    assert listing_needed("s3", "get_object", {"Bucket": "nobucket", "Key": "gone"}, objects) is None
    assert (
        listing_needed("s3", "get_object", {"Bucket": "data", "Key": "gone", "VersionId": "1"}, objects)
        is None
    )
    assert listing_needed("s3", "put_object", {"Bucket": "data", "Key": "gone"}, objects) is None
