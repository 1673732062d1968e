"""A role reading a key that does not exist is answered as S3 answers it: 404 only if it may list.

Built through the API (no app to synthesize); the clients sign with the sessions the local cloud
issues, so each answer is what AWS's SDK raises.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from localcloud import LocalCloud
from tests.iam_roles import create_role, session_client

pytestmark = pytest.mark.slow

LAMBDA = "lambda.amazonaws.com"
BUCKET = "records"
READ = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"}


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(enforce_iam=True) as running:
        s3 = running.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="labels/a.json", Body=b"{}")
        yield running


def _client(cloud: LocalCloud, name: str, *statements: dict[str, Any]) -> tuple[str, Any]:
    role = create_role(cloud.client("iam"), name, trusts=LAMBDA, statements=[READ, *statements])
    return role, session_client(cloud, role, LAMBDA, "s3")


def _answers(s3: Any, key: str) -> tuple[tuple[int, str], tuple[int, str]]:
    """(status, code) of GetObject and HeadObject of ``key``, or (200, "") when it is read."""
    found = []
    for read in (s3.get_object, s3.head_object):
        try:
            read(Bucket=BUCKET, Key=key)
            found.append((200, ""))
        except ClientError as error:
            found.append(
                (error.response["ResponseMetadata"]["HTTPStatusCode"], error.response["Error"]["Code"])
            )
    return found[0], found[1]


def test_a_reader_who_may_not_list_is_denied_a_missing_key(cloud: LocalCloud) -> None:
    # Given a role that may read every object and list nothing
    _, s3 = _client(cloud, "reader-only")

    # When it reads a key that exists and one that does not
    present, missing = _answers(s3, "labels/a.json"), _answers(s3, "labels/b.json")

    # Then the existing one is read, and the missing one is S3's 403 (HEAD has no body: its code is "403")
    assert present == ((200, ""), (200, ""))
    assert missing == ((403, "AccessDenied"), (403, "403"))
    denial = cloud.iam.enforcer.denials()[-1]
    assert (denial.action, denial.resource) == ("s3:ListBucket", f"arn:aws:s3:::{BUCKET}")


def test_a_reader_who_may_list_is_told_the_key_is_missing(cloud: LocalCloud) -> None:
    listing = {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{BUCKET}"}
    _, s3 = _client(cloud, "reader-lister", listing)

    assert _answers(s3, "labels/b.json") == ((404, "NoSuchKey"), (404, "404"))


def test_a_listing_granted_for_a_prefix_or_by_the_bucket_policy_tells_a_missing_key(
    cloud: LocalCloud,
) -> None:
    # Given a role that may list labels/ only, and one the bucket's policy lets list the bucket
    prefix = {
        "Effect": "Allow",
        "Action": "s3:ListBucket",
        "Resource": f"arn:aws:s3:::{BUCKET}",
        "Condition": {"StringLike": {"s3:prefix": ["labels/*"]}},
    }
    _, under_prefix = _client(cloud, "prefix-lister", prefix)
    role, by_bucket = _client(cloud, "bucket-lister")
    grant = {
        "Effect": "Allow",
        "Principal": {"AWS": role},
        "Action": "s3:ListBucket",
        "Resource": f"arn:aws:s3:::{BUCKET}",
    }
    cloud.client("s3").put_bucket_policy(
        Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [grant]})
    )

    # When each reads missing keys
    # Then the prefix's lister is told 404 under its prefix and 403 elsewhere; the bucket's, 404 anywhere
    assert _answers(under_prefix, "labels/b.json") == ((404, "NoSuchKey"), (404, "404"))
    assert _answers(under_prefix, "other/b.json") == ((403, "AccessDenied"), (403, "403"))
    assert _answers(by_bucket, "other/b.json") == ((404, "NoSuchKey"), (404, "404"))
