"""The AWS adapters against moto: conditional writes, missing objects, the catalog's ordering."""

from __future__ import annotations

import io
from collections.abc import Iterator

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from adapters.artifacts import S3ArtifactStore
from adapters.catalog import DynamoDatasetCatalog
from adapters.storage import S3DatasetStore
from domain.data.ingestion import DatasetVersion, Upload, UploadMissingError
from domain.training.artifacts import ArtifactMissingError
from tests.moto_support import create_data_plane, mocked_aws


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with mocked_aws(monkeypatch):
        create_data_plane("data", "catalog")
        yield


def _record(version: str, accepted_at: str) -> DatasetVersion:
    return DatasetVersion(
        dataset="churn", version=version, accepted_at=accepted_at, rows=10, size_bytes=100,
        format="csv", snapshot_prefix=f"datasets/churn/{version}/", contract_fingerprint="f",
        source={"key": "incoming/churn/a"},
    )  # fmt: skip


def test_put_if_absent_writes_once(aws: None) -> None:
    store = S3DatasetStore("data")

    first = store.put_if_absent("datasets/churn/v/report.json", b'{"a": 1}', "application/json")
    second = store.put_if_absent("datasets/churn/v/report.json", io.BytesIO(b'{"a": 2}'), "application/json")

    assert (first, second) == (True, False)
    assert store.read_json("datasets/churn/v/report.json") == {"a": 1}
    assert store.read_json("datasets/churn/v/missing.json") is None


def test_the_opener_reads_the_version_the_event_named_even_after_an_overwrite(aws: None) -> None:
    s3 = boto3.client("s3")
    original = s3.put_object(Bucket="data", Key="incoming/churn/a.csv", Body=b"first")
    s3.put_object(Bucket="data", Key="incoming/churn/a.csv", Body=b"second")
    upload = Upload(bucket="data", key="incoming/churn/a.csv", version_id=original["VersionId"])

    opener = S3DatasetStore("data").opener(upload)

    assert opener().read() == b"first"
    assert opener().read() == b"first"  # the validator may reopen for a diagnostic pass


def test_the_opener_says_when_the_object_is_gone(aws: None) -> None:
    opener = S3DatasetStore("data").opener(Upload(bucket="data", key="incoming/churn/gone.csv"))

    with pytest.raises(UploadMissingError, match=r"gone\.csv does not exist"):
        opener()


def test_the_catalog_records_a_version_once_and_lists_newest_first(aws: None) -> None:
    catalog = DynamoDatasetCatalog("catalog")

    added = [
        catalog.add(_record("a" * 64, "2026-01-01T00:00:00")),
        catalog.add(_record("a" * 64, "2026-01-03")),
    ]
    catalog.add(_record("b" * 64, "2026-01-02T00:00:00"))
    catalog.mark_announced("churn", "b" * 64)

    assert added == [True, False]
    assert [record.version[0] for record in catalog.versions("churn")] == ["b", "a"]
    latest = catalog.latest("churn")
    assert latest is not None and latest.announced and latest.rows == 10
    assert catalog.get("churn", "c" * 64) is None
    assert catalog.latest("other") is None


def test_a_parquet_snapshot_is_read_by_ranges_without_a_local_copy(aws: None) -> None:
    # Given a snapshot of several row groups in the bucket
    table = pa.table({"id": list(range(50_000)), "region": ["north", "south"] * 25_000})
    buffer = io.BytesIO()
    pq.write_table(table, buffer, row_group_size=10_000)
    boto3.client("s3").put_object(Bucket="data", Key="datasets/churn/v1/data.parquet", Body=buffer.getvalue())
    store = S3ArtifactStore("data")

    # When it is read as the split reads it
    with (
        store.open_ranged("s3://data/datasets/churn/v1/data.parquet") as stream,
        pq.ParquetFile(stream) as source,
    ):
        read = pa.Table.from_batches(list(source.iter_batches(batch_size=7_000)))

    # Then every row arrives, in order, and a missing snapshot is said to be missing
    assert read.equals(table)
    with pytest.raises(ArtifactMissingError):
        store.open_ranged("s3://data/datasets/churn/v2/data.parquet")
