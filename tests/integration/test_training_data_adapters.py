"""The retraining upload on moto: prepared from an accepted churn version and labels, accepted by the data
plane as a new version, written once, its labels read back; label summaries and S3's refusals in our words."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from botocore.exceptions import ClientError

from adapters import training_data
from adapters.catalog import DynamoDatasetCatalog
from adapters.storage import S3DatasetStore
from adapters.training_data import LabelStore, RetrainingUploads, TrainingDataError
from domain.data.contract import DatasetContract, load_contract
from domain.data.ingestion import DatasetVersion, IngestionOutcome, Upload, ingest_upload
from domain.feedback.labelled import INFERENCE_ID, MODEL_VERSION, labelled_rows_key, report_key
from domain.retraining.preparation import CannotPrepareError, RetrainingPreparer
from domain.retraining.training_data import LabelSummary
from domain.retraining.upload_metadata import (
    BASE_VERSION_METADATA,
    DECISION_METADATA,
    LABELS_THROUGH_METADATA,
)
from examples import churn
from tests.labelled_rows import Plan, PreparingDecision, labelled, parquet
from tests.moto_support import PROJECT_ROOT, create_data_plane, mocked_aws

BUCKET, CATALOG = "data", "catalog"
T0 = datetime(2026, 12, 1, 9, tzinfo=UTC)
CONTRACT = load_contract(PROJECT_ROOT / "contracts" / "churn.yaml")


@dataclass
class Notifier:
    accepted: list[DatasetVersion] = field(default_factory=list)
    alerts: list[tuple[str, str]] = field(default_factory=list)

    def dataset_accepted(self, version: DatasetVersion) -> None:
        self.accepted.append(version)

    def alert(self, subject: str, message: str) -> None:
        self.alerts.append((subject, message))


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with mocked_aws(monkeypatch):
        create_data_plane(BUCKET, CATALOG)
        yield


def _ingest(key: str, body: bytes | None = None) -> IngestionOutcome:
    """Upload (unless written already) and validate as the data plane does, the exact version named."""
    s3 = boto3.client("s3")
    if body is not None:
        s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    head = s3.head_object(Bucket=BUCKET, Key=key)
    upload = Upload(bucket=BUCKET, key=key, version_id=head["VersionId"], size=head["ContentLength"])
    return ingest_upload(
        upload,
        contracts={"churn": CONTRACT},
        store=S3DatasetStore(BUCKET),
        catalog=DynamoDatasetCatalog(CATALOG),
        notifier=Notifier(),
    )


def _put_labels(name: str, table: pa.Table, *, committed: bool = True) -> None:
    """A label file's rows, and (committed) its report, written last as the feedback ingestion does."""
    s3 = boto3.client("s3")
    s3.put_object(Bucket=BUCKET, Key=labelled_rows_key("churn", name), Body=parquet(table))
    if committed:
        s3.put_object(Bucket=BUCKET, Key=report_key("churn", name), Body=b"{}")


def _traffic(
    rows: int, seed: int, prefix: str, at: datetime, contract: DatasetContract = CONTRACT
) -> pa.Table:
    served = churn.drifted(next(churn.chunks(rows, seed=seed)), seed=seed)
    return labelled(contract, served, [f"{prefix}-{i}" for i in range(rows)], at)


def test_a_prepared_upload_becomes_a_dataset_version_holding_its_labels_once(aws: None) -> None:
    # Given an accepted churn version of 300 rows and two label files (120 requests, then 30 corrected)
    base = _ingest("incoming/churn/base.parquet", parquet(next(churn.chunks(300, seed=3))))
    assert base.status == "accepted" and base.version is not None
    _put_labels("a" * 64, _traffic(120, 4, "req", T0))
    corrected = _traffic(120, 4, "req", T0 + timedelta(hours=1)).slice(0, 30)
    _put_labels("b" * 64, corrected)
    catalog = DynamoDatasetCatalog(CATALOG)
    preparer = RetrainingPreparer({"churn": CONTRACT}, catalog, RetrainingUploads(BUCKET))

    # and a third being joined (its rows written, not its report yet)
    _put_labels("c" * 64, _traffic(50, 5, "new", T0 + timedelta(hours=2)), committed=False)

    # When the policy prepares the upload of a decision, and the data plane validates it
    key = preparer.write(PreparingDecision("perf-20261201T100000Z-1a2b3c", "churn", Plan(base.version, None)))
    outcome = _ingest(key)

    # Then it is a new version: the accepted rows plus each labelled request of the committed files once
    assert key == "incoming/churn/retraining/perf-20261201T100000Z-1a2b3c.parquet"
    assert outcome.status == "accepted", outcome.findings
    assert outcome.version is not None
    record = catalog.get("churn", outcome.version)
    assert record is not None
    assert (record.rows, record.previous_version) == (420, base.version)
    metadata = boto3.client("s3").head_object(Bucket=BUCKET, Key=key)["Metadata"]
    assert metadata == {
        DECISION_METADATA: "perf-20261201T100000Z-1a2b3c",
        BASE_VERSION_METADATA: base.version,
        LABELS_THROUGH_METADATA: (T0 + timedelta(hours=1)).isoformat(),
    }
    # And the version says which labels it holds, so that preparing on it again adds none twice
    labels = LabelStore(BUCKET)
    assert labels.labels_through(record) == T0 + timedelta(hours=1)
    assert labels.summary("churn", None) == LabelSummary(120, T0 + timedelta(hours=1))
    assert labels.summary("churn", T0) == LabelSummary(30, T0 + timedelta(hours=1))
    # And the file being joined is read only by the feedback ingestion, which reads its own rows
    assert labels.labelled_rows("churn", after=None, columns=(INFERENCE_ID,)).num_rows == 200
    with pytest.raises(CannotPrepareError, match="no labelled rows after 2026-12-01T10:00:00"):
        preparer.write(PreparingDecision("drift-2", "churn", Plan(outcome.version, None)))
    # And the base, a plain upload, holds none
    base_record = catalog.get("churn", base.version)
    assert base_record is not None and labels.labels_through(base_record) is None


def test_the_upload_is_written_once_and_never_over_another_decision_s(aws: None) -> None:
    # Given the rows of a decision's upload
    table = pa.table({"x": [1, 2]})
    rows = parquet(table)
    uploads = RetrainingUploads(BUCKET)

    # When it is written twice (the decision acted on again)
    first = uploads.write("churn", "drift-1", "b" * 64, T0, rows)
    second = uploads.write("churn", "drift-1", "b" * 64, T0, rows)

    # Then there is one object version at the key, and it reads back as written
    s3 = boto3.client("s3")
    assert first == second == "incoming/churn/retraining/drift-1.parquet"
    versions = s3.list_object_versions(Bucket=BUCKET, Prefix=first)["Versions"]
    assert len(versions) == 1
    body = s3.get_object(Bucket=BUCKET, Key=first)["Body"].read()
    assert pq.read_table(io.BytesIO(body)).equals(table)
    # And an object someone else put at a decision's key is left as is, said in our words
    s3.put_object(Bucket=BUCKET, Key="incoming/churn/retraining/drift-2.parquet", Body=b"mine")
    assert (uploads.written("churn", "drift-1"), uploads.written("churn", "drift-2")) == (first, None)
    with pytest.raises(TrainingDataError, match=r"was not written for decision drift-2 .*it is left as is"):
        uploads.write("churn", "drift-2", "b" * 64, T0, rows)
    assert (
        s3.get_object(Bucket=BUCKET, Key="incoming/churn/retraining/drift-2.parquet")["Body"].read()
        == b"mine"
    )


def test_label_files_modified_before_a_time_are_not_read_and_a_broken_one_is_named(aws: None) -> None:
    # Given a label file that is not Parquet
    boto3.client("s3").put_object(Bucket=BUCKET, Key=labelled_rows_key("churn", "c" * 64), Body=b"nope")

    boto3.client("s3").put_object(Bucket=BUCKET, Key=report_key("churn", "c" * 64), Body=b"{}")
    labels = LabelStore(BUCKET)

    # When labels after a time later than every file's are read / Then no file is read, and the empty
    # answer has the columns asked for
    assert labels.summary("churn", datetime.now(UTC) + timedelta(minutes=1)) == LabelSummary(0, None)
    later = labels.labelled_rows("churn", after=datetime.now(UTC) + timedelta(minutes=1))
    assert later.num_rows == 0 and MODEL_VERSION in later.column_names
    # And when it must be read, the refusal names it
    with pytest.raises(TrainingDataError, match=r"labels/churn/c{64}/rows.parquet is not a Parquet file"):
        labels.summary("churn", None)


def test_s3_s_refusals_are_said_in_our_words(aws: None) -> None:
    record = DatasetVersion(
        dataset="churn", version="d" * 64, accepted_at=T0.isoformat(), rows=1, size_bytes=1, format="csv",
        snapshot_prefix=f"datasets/churn/{'d' * 64}/", contract_fingerprint="f",
        source={"bucket": BUCKET, "key": "incoming/churn/retraining/gone.parquet"},
    )  # fmt: skip
    assert LabelStore(BUCKET).labels_through(record) is None  # an upload no longer there holds no labels
    assert RetrainingUploads(BUCKET).profile(record) is None  # then no statistical check compares with it
    with pytest.raises(TrainingDataError, match=r"cannot read the snapshot of churn version dddddddddddd"):
        RetrainingUploads(BUCKET).snapshot(record)
    with pytest.raises(
        TrainingDataError, match=r"cannot list the labels s3://nope/labels/churn/ \(NoSuchBucket\)"
    ):
        LabelStore("nope").summary("churn", None)


class ForbiddenHeads:
    """moto's S3 client, but HeadObject answers 403 as S3 does to a caller that may not list the key."""

    def __init__(self) -> None:
        self._s3 = boto3.client("s3")

    def head_object(self, **request: Any) -> dict[str, Any]:
        raise ClientError({"Error": {"Code": "403", "Message": "Forbidden"}}, "HeadObject")

    def list_objects_v2(self, **request: Any) -> dict[str, Any]:
        return cast(dict[str, Any], self._s3.list_objects_v2(**request))


def test_a_403_is_taken_for_a_missing_object_only_when_a_listing_finds_none(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given HeadObject refused with 403 (S3's answer for a missing key to a caller that may not list it)
    boto3.client("s3").put_object(Bucket=BUCKET, Key="incoming/churn/there.csv", Body=b"x")
    monkeypatch.setattr(training_data, "client", lambda service: ForbiddenHeads())
    labels = LabelStore(BUCKET)

    # When the metadata of a key that is not there / that is there is asked for
    # Then the first is "not there", the second a refusal said in our words
    assert labels.metadata(BUCKET, "incoming/churn/retraining/d.parquet", None) is None
    with pytest.raises(
        TrainingDataError, match=r"cannot read the metadata of s3://data/incoming/churn/there.csv \(403\)"
    ):
        labels.metadata(BUCKET, "incoming/churn/there.csv", None)
