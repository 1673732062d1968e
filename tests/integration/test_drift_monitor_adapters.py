"""The drift monitor's AWS adapters on moto: S3 listings past one page, folders, and AWS's refusals in our
words (a capture that cannot be read, a baseline that is not there or not readable)."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest

from adapters.monitoring import RegistryBaselineSource, S3CaptureSource, S3ReportStore
from domain.monitoring.captures import CaptureSourceError
from domain.monitoring.check import BaselineMissingError
from tests.monitor_support import register_version
from tests.moto_support import mocked_aws

BUCKET = "mlops-data"
GROUP = "mlops-shop"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with mocked_aws(monkeypatch):
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        boto3.client("sagemaker").create_model_package_group(ModelPackageGroupName=GROUP)
        yield


def test_keys_and_folders_are_listed_past_one_page(aws: None) -> None:
    # Given 1,050 capture files in one hour folder (ListObjectsV2 answers at most 1,000 keys a page)
    s3 = boto3.client("s3")
    hour = "capture/shop/v1/mlops-shop/AllTraffic/2026/12/01/10/"
    for index in range(1_050):
        s3.put_object(Bucket=BUCKET, Key=f"{hour}00-00-{index:03d}-{index}.jsonl", Body=b"{}")
    s3.put_object(
        Bucket=BUCKET, Key="capture/shop/v2/mlops-shop/AllTraffic/2026/12/01/10/x.jsonl", Body=b"{}"
    )
    source = S3CaptureSource(BUCKET)

    # When listed / Then every key, and the folders one level down
    assert len(source.keys(hour)) == 1_050
    assert source.folders("capture/shop/") == ["capture/shop/v1/", "capture/shop/v2/"]
    assert source.read(f"{hour}00-00-000-0.jsonl") == b"{}"


def test_a_capture_that_cannot_be_read_is_our_error(aws: None) -> None:
    with pytest.raises(
        CaptureSourceError, match=r"cannot read the capture s3://mlops-data/capture/gone \(NoSuchKey\)"
    ):
        S3CaptureSource(BUCKET).read("capture/gone")
    with pytest.raises(CaptureSourceError, match=r"cannot list s3://nope/capture/ \(NoSuchBucket\)"):
        S3CaptureSource("nope").keys("capture/")


def test_baselines_that_are_missing_or_broken_name_the_model_package(aws: None) -> None:
    # Given version 1 naming a baseline that is not JSON, version 2 naming one that is not there, version 3
    # with profiles that are not there
    boto3.client("s3").put_object(Bucket=BUCKET, Key="broken.json", Body=b"not json")
    profiles = (f"s3://{BUCKET}/gone.json", f"s3://{BUCKET}/p.json")
    register_version(GROUP, statistics=profiles, constraints=f"s3://{BUCKET}/broken.json")
    register_version(GROUP, statistics=profiles, constraints=f"s3://{BUCKET}/missing.json")
    register_version(GROUP, statistics=profiles, constraints=None)
    source = RegistryBaselineSource("mlops", "us-east-1", "123456789012")

    # When each is asked for / Then each refusal names the package and what is wrong
    with pytest.raises(
        BaselineMissingError, match=r"mlops-shop/1's drift baseline s3://mlops-data/broken.json"
    ):
        source.baseline("shop", 1)
    with pytest.raises(BaselineMissingError, match=r"cannot read s3://mlops-data/missing.json.*mlops-shop/2"):
        source.baseline("shop", 2)
    with pytest.raises(BaselineMissingError, match=r"cannot read s3://mlops-data/gone.json.*mlops-shop/3"):
        source.baseline("shop", 3)
    with pytest.raises(BaselineMissingError, match=r"model package mlops-shop/9 is not in the registry"):
        source.baseline("shop", 9)


def test_a_report_is_written_with_the_platform_s_key_and_its_type(aws: None) -> None:
    key_arn = boto3.client("kms").create_key()["KeyMetadata"]["Arn"]
    uri = S3ReportStore(BUCKET, key_arn).put("monitoring/shop/reports/x/report.html", b"<p>", "text/html")
    stored = boto3.client("s3").get_object(Bucket=BUCKET, Key="monitoring/shop/reports/x/report.html")
    assert uri == f"s3://{BUCKET}/monitoring/shop/reports/x/report.html"
    assert (stored["ContentType"], stored["SSEKMSKeyId"]) == ("text/html", key_arn)
