"""What the local cloud's services do with S3 as a role: a denial keeps S3's message where AWS reports it.

The S3 clients here are hand-written fakes: a denial is a ``ClientError`` as botocore raises it.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from localcloud.awslambda.environment import TEST_CREDENTIALS
from localcloud.role_credentials import assume, environment
from localcloud.sagemaker.endpoints.capture import CapturedInvocation, CaptureSettings, CaptureWriter
from localcloud.sagemaker.transfer import JobSetupError, download_prefix

DENIED = "User: arn:aws:sts::123456789012:assumed-role/r/SageMaker is not authorized to perform: s3:GetObject"


def denial(operation: str) -> ClientError:
    return ClientError({"Error": {"Code": "AccessDenied", "Message": DENIED}}, operation)


class FakeS3:
    """A bucket's objects; keys in ``denied`` are refused, and listing too when ``list_denied``."""

    def __init__(self, objects: dict[str, bytes], *, denied: tuple[str, ...] = (), list_denied: bool = False):
        self.objects = objects
        self.denied = denied
        self.list_denied = list_denied
        self.read: list[str] = []
        self.written: list[dict[str, Any]] = []

    def get_paginator(self, name: str) -> FakeS3:
        assert name == "list_objects_v2"
        return self

    def paginate(self, *, Bucket: str, Prefix: str) -> list[dict[str, Any]]:  # noqa: N803 (boto3's names)
        if self.list_denied:
            raise denial("ListObjectsV2")
        return [{"Contents": [{"Key": key} for key in sorted(self.objects) if key.startswith(Prefix)]}]

    def get_object(self, *, Bucket: str, Key: str) -> dict[str, Any]:  # noqa: N803
        if Key in self.denied:
            raise denial("GetObject")
        self.read.append(Key)
        return {"Body": io.BytesIO(self.objects[Key])}

    def put_object(self, **request: Any) -> None:
        if request["Key"].startswith(self.denied):
            raise denial("PutObject")
        self.written.append(request)


def test_a_prefix_is_listed_and_each_object_under_it_downloaded(tmp_path: Path) -> None:
    s3 = FakeS3({"data/train/a.csv": b"a", "data/train/2026/b.csv": b"b", "data/other.csv": b"x"})

    count = download_prefix(s3, "s3://bucket/data/train", tmp_path)

    assert count == 2
    assert (tmp_path / "a.csv").read_bytes() == b"a"
    assert (tmp_path / "2026" / "b.csv").read_bytes() == b"b"


def test_a_uri_naming_one_object_downloads_it_alone_under_its_base_name(tmp_path: Path) -> None:
    s3 = FakeS3({"data/train.csv": b"t", "data/train.csv.bak": b"old"})

    count = download_prefix(s3, "s3://bucket/data/train.csv", tmp_path)

    assert (count, s3.read) == (1, ["data/train.csv"])
    assert (tmp_path / "train.csv").read_bytes() == b"t"


def test_a_denied_object_fails_the_download_with_sagemakers_reason_and_s3s_message(tmp_path: Path) -> None:
    s3 = FakeS3({"data/train/a.csv": b"a"}, denied=("data/train/a.csv",))

    with pytest.raises(JobSetupError) as failed:
        download_prefix(s3, "s3://bucket/data/train/", tmp_path)

    assert str(failed.value) == (
        "Data download failed:Unable to download object s3://bucket/data/train/a.csv "
        f"(AccessDenied: {DENIED})"
    )


def test_a_denied_listing_fails_the_download_naming_the_prefix(tmp_path: Path) -> None:
    s3 = FakeS3({"data/train/a.csv": b"a"}, list_denied=True)

    with pytest.raises(JobSetupError) as failed:
        download_prefix(s3, "s3://bucket/data/train", tmp_path)

    assert str(failed.value).startswith(
        "Data download failed:Unable to list objects under s3://bucket/data/train (AccessDenied: "
    )


def captured(s3: FakeS3 | None, variant: str) -> CapturedInvocation:
    config = {"EnableCapture": True, "DestinationS3Uri": "s3://bucket/capture", "CaptureOptions": []}
    settings = CaptureSettings.from_config(config)
    assert settings is not None
    at = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
    return CapturedInvocation(settings, "churn", variant, "us-east-1", at, "{}", s3=s3)


def test_a_refused_capture_write_is_counted_and_the_other_variants_are_still_written() -> None:
    # Given one variant whose role may not write the capture prefix, and one written by the writer's client
    denied_role = FakeS3({}, denied=("capture/churn/denied/",))
    administrator = FakeS3({})
    writer = CaptureWriter(lambda service, region: administrator)

    # When a batch of both is written
    writer.write([captured(denied_role, "denied"), captured(None, "allowed")])

    # Then the refusal is counted, never raised, and the other object is written
    assert writer.failures == 1
    assert [request["Key"].split("/")[2] for request in administrator.written] == ["allowed"]


def test_without_iam_enforcement_a_service_acts_as_the_administrator() -> None:
    session = assume(
        None, "arn:aws:iam::123456789012:role/missing", service="lambda.amazonaws.com", session_name="f"
    )

    assert session is None
    assert environment(session) == TEST_CREDENTIALS
