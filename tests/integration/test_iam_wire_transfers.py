"""The S3 transfer methods as a role, through the enforcing front: each request they send is a table entry.

``upload_file``, ``download_file`` and ``copy`` are keyed in the table as the methods the code calls, but
the front decides the requests they send (multipart uploads, ranged reads, part copies); a request
without an entry would be refused as a gap, not decided.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from localcloud import LocalCloud
from tests.iam_roles import create_role, session_client

pytestmark = pytest.mark.slow

LAMBDA = "lambda.amazonaws.com"
# S3's smallest part: a file of two and a bit parts goes multipart in every transfer.
PART = 5 * 1024 * 1024
MULTIPART = TransferConfig(multipart_threshold=PART, multipart_chunksize=PART)


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(enforce_iam=True) as running:
        for bucket in ("data", "models"):
            running.client("s3").create_bucket(Bucket=bucket)
        running.client("s3").put_bucket_versioning(
            Bucket="data", VersioningConfiguration={"Status": "Enabled"}
        )
        yield running


def _mover(cloud: LocalCloud, name: str, actions: list[str]) -> Any:
    arn = create_role(
        cloud.client("iam"),
        name,
        trusts=LAMBDA,
        statements=[
            {
                "Effect": "Allow",
                "Action": actions,
                "Resource": ["arn:aws:s3:::data/*", "arn:aws:s3:::models/*"],
            }
        ],
    )
    return session_client(cloud, arn, LAMBDA, "s3")


def test_multipart_uploads_ranged_downloads_and_part_copies_are_decided(
    cloud: LocalCloud, tmp_path: Path
) -> None:
    s3 = _mover(cloud, "mover", ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"])
    data = os.urandom(2 * PART + 1024)
    source, back = tmp_path / "big file.bin", tmp_path / "back.bin"
    source.write_bytes(data)
    key = "in/run é/big file.bin"

    s3.upload_file(str(source), "data", key, Config=MULTIPART)
    s3.download_file("data", key, str(back), Config=MULTIPART)
    s3.copy({"Bucket": "data", "Key": key}, "models", "churn/big.bin", Config=MULTIPART)
    version = s3.head_object(Bucket="data", Key=key)["VersionId"]
    s3.copy_object(
        Bucket="models",
        Key="churn/pinned.bin",
        CopySource={"Bucket": "data", "Key": key, "VersionId": version},
    )

    assert back.read_bytes() == data
    assert cloud.iam.enforcer.denials() == []
    used = {item for role in cloud.iam.enforcer.usage().roles for item in role.used}
    assert ("s3:GetObjectVersion", f"arn:aws:s3:::data/{key}") in used
    assert ("s3:PutObject", "arn:aws:s3:::models/churn/big.bin") in used


def test_a_part_copy_without_read_on_its_source_is_denied(cloud: LocalCloud, tmp_path: Path) -> None:
    cloud.client("s3").put_object(Bucket="data", Key="in/big.bin", Body=os.urandom(2 * PART + 1))
    s3 = _mover(cloud, "writer", ["s3:PutObject", "s3:AbortMultipartUpload"])

    with pytest.raises(ClientError) as raised:
        s3.copy({"Bucket": "data", "Key": "in/big.bin"}, "models", "stolen.bin", Config=MULTIPART)

    assert raised.value.response["Error"]["Code"] in ("AccessDenied", "403")
    assert cloud.iam.enforcer.denials()[-1].resource == "arn:aws:s3:::data/in/big.bin"
