"""Training data from labels, pure: which labels count, the combined rows in the contract's columns, and why
a combination is refused."""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import pyarrow as pa

from domain.data.contract import load_contract
from domain.data.ingestion_model import DatasetVersion
from domain.data.validation import validate_dataset
from domain.data.validation.convert import snapshot_schema
from domain.retraining.training_data import (
    CannotCombine,
    CombinedRows,
    LabelSummary,
    LeftOut,
    build_retraining_rows,
    newest_labels,
    summarize_labels,
)
from domain.retraining.upload_metadata import LABELS_THROUGH_METADATA, labels_through, upload_metadata
from examples import churn
from tests.labelled_rows import labelled, parquet
from tests.moto_support import PROJECT_ROOT
from tests.unit.conftest import make_contract

T0 = datetime(2026, 12, 1, 9, tzinfo=UTC)
CONTRACT = make_contract()
SNAPSHOT = pa.Table.from_pydict(
    {"id": [1, 2], "amount": [10.0, None], "plan": ["basic", "pro"], "active": [True, False],
     "signed_up": [T0, None], "note": ["a", None]},
    schema=snapshot_schema(CONTRACT),
)  # fmt: skip


def requests(**columns: list[object]) -> pa.Table:
    """Requests of the test contract: three rows unless ``columns`` say otherwise."""
    base: dict[str, list[object]] = {
        "id": [11, 12, 13], "amount": [1.5, 2.5, None], "plan": ["pro", "basic", "pro"],
        "active": [True, False, True], "signed_up": [T0, T0, None], "note": ["x", None, "z"],
    }  # fmt: skip
    base.update(columns)
    return pa.table(base)


def combine(table: pa.Table, *, after: datetime | None = None) -> CombinedRows:
    result = build_retraining_rows(SNAPSHOT, table, CONTRACT, after=after)
    assert isinstance(result, CombinedRows), result
    return result


def test_the_accepted_rows_come_first_then_the_labelled_rows_in_the_contract_s_columns_and_types() -> None:
    # Given labelled rows with the platform's own columns around the contract's
    rows = labelled(CONTRACT, requests(), ["r1", "r2", "r3"], T0 + timedelta(hours=1))

    # When combined with the accepted version's rows
    combined = combine(rows)

    # Then the schema is the snapshot's (order, types, nullability), the platform's columns are gone, the
    # features are the requests' and the target the label
    assert combined.table.schema == snapshot_schema(CONTRACT)
    assert (combined.base_rows, combined.labelled_rows, combined.left_out) == (2, 3, ())
    assert combined.table["id"].to_pylist() == [1, 2, 11, 12, 13]
    assert combined.table["plan"].cast(pa.string()).to_pylist() == ["basic", "pro", "pro", "basic", "pro"]
    assert combined.table["active"].to_pylist() == [True, False, True, False, True]
    assert combined.table["amount"].to_pylist()[2:] == [1.5, 2.5, None]
    assert combined.labels_through == T0 + timedelta(hours=1)
    assert combined.describe() == "2 accepted rows plus 3 labelled rows"


def test_the_newest_label_of_an_inference_id_wins_and_counts_once() -> None:
    # Given r1 labelled True, then corrected to False by a later file
    first = labelled(CONTRACT, requests(active=[True, False, True]), ["r1", "r2", "r3"], T0)
    later = labelled(CONTRACT, requests(id=[11], amount=[1.5], plan=["pro"], active=[False], signed_up=[T0],
                                        note=["x"]), ["r1"], T0 + timedelta(hours=2))  # fmt: skip

    # When combined (the later file read first: the order of the files does not matter)
    combined = combine(pa.concat_tables([later, first]))

    # Then r1 appears once, with its newest label
    assert combined.labelled_rows == 3
    assert combined.table["id"].to_pylist()[2:] == [11, 12, 13]
    assert combined.table["active"].to_pylist()[2:] == [False, False, True]
    assert combined.labels_through == T0 + timedelta(hours=2)


def test_labels_at_or_before_after_are_in_the_data_already_unless_corrected_since() -> None:
    # Given r1 and r2 labelled at T0, r3 at T0+1h, and r1 corrected at T0+2h
    rows = pa.concat_tables([
        labelled(CONTRACT, requests(), ["r1", "r2", "r3"], [T0, T0, T0 + timedelta(hours=1)]),
        labelled(CONTRACT, requests(id=[11], amount=[1.5], plan=["pro"], active=[False], signed_up=[T0],
                                    note=["x"]), ["r1"], T0 + timedelta(hours=2)),
    ])  # fmt: skip

    # When the data holds the labels through T0
    combined = combine(rows, after=T0)

    # Then r2 (in the data) is not added again; r3 is new, and r1's correction is added once
    assert combined.labelled_rows == 2
    assert sorted(combined.table["id"].to_pylist()[2:]) == [11, 13]
    assert summarize_labels(rows, after=T0) == LabelSummary(2, T0 + timedelta(hours=2))
    assert summarize_labels(rows, after=None) == LabelSummary(3, T0 + timedelta(hours=2))
    assert summarize_labels(rows, after=T0 + timedelta(hours=2)) == LabelSummary(0, None)
    assert newest_labels(rows).num_rows == 3


def test_no_label_after_the_data_s_means_nothing_to_add() -> None:
    rows = labelled(CONTRACT, requests(), ["r1", "r2", "r3"], T0)
    assert build_retraining_rows(SNAPSHOT, rows, CONTRACT, after=T0) == CannotCombine(
        f"no labelled rows after {T0.isoformat()}: there is nothing to add to the accepted data"
    )
    empty = rows.slice(0, 0)
    assert isinstance(build_retraining_rows(SNAPSHOT, empty, CONTRACT, after=None), CannotCombine)


def test_labelled_rows_with_a_value_the_contract_refuses_are_left_out_and_counted_by_column() -> None:
    # Given an unlisted category (an endpoint that serves it as missing), an amount over the maximum, a
    # missing id (not nullable) and a NaN amount, one per row, and one good row
    rows = labelled(CONTRACT, requests(
        id=[11, 12, None, 14, 15], amount=[1.0, 5000.0, 3.0, float("nan"), 4.0],
        plan=["gold", "pro", "basic", "pro", "basic"], active=[True, False, True, False, True],
        signed_up=[None] * 5, note=[None] * 5,
    ), ["a", "b", "c", "d", "e"], T0)  # fmt: skip

    # When combined
    combined = combine(rows)

    # Then only the good row is added, and each refusal is counted under its column, in words
    assert combined.table["id"].to_pylist()[2:] == [15]
    assert combined.left_out == (
        LeftOut("id", 1, "is empty where the contract requires a value"),
        LeftOut("amount", 1, "is outside the contract's bounds [0, 1000]"),
        LeftOut("amount", 1, "is NaN or infinite"),
        LeftOut("plan", 1, "is not one of the contract's categories"),
    )
    assert "left out: 1 row: id is empty where the contract requires a value" in combined.describe()


def test_when_no_labelled_row_fits_the_contract_the_reasons_say_why() -> None:
    rows = labelled(CONTRACT, requests(plan=["gold", "gold", "silver"]), ["a", "b", "c"], T0)
    result = build_retraining_rows(SNAPSHOT, rows, CONTRACT, after=None)
    assert result == CannotCombine(
        "none of the 3 labelled rows fits the contract: 3 rows: plan is not one of the contract's categories"
    )


def test_a_required_column_the_requests_never_carry_cannot_be_combined_and_a_nullable_one_is_null() -> None:
    # Given requests without "id" (a column the model does not take is never captured) and without "note"
    rows = labelled(CONTRACT, requests().drop_columns(["id", "note"]), ["r1", "r2", "r3"], T0)

    # When combined under a contract requiring "id" / one where "id" is nullable
    refused = build_retraining_rows(SNAPSHOT, rows, CONTRACT, after=None)
    optional = make_contract(columns=[
        {"name": "id", "type": "integer", "min": 1, "nullable": True},
        {"name": "amount", "type": "float", "min": 0, "max": 1000, "nullable": True},
        {"name": "plan", "type": "category", "categories": ["basic", "pro"]},
        {"name": "active", "type": "boolean"},
        {"name": "signed_up", "type": "timestamp", "nullable": True},
        {"name": "note", "type": "string", "nullable": True},
    ])  # fmt: skip
    combined = build_retraining_rows(SNAPSHOT, rows, optional, after=None)

    # Then the first names the column and what to do; the second leaves it null in the labelled rows
    assert isinstance(refused, CannotCombine)
    assert "no value of column 'id'" in refused.reason and "declare it nullable" in refused.reason
    assert isinstance(combined, CombinedRows)
    assert combined.table["id"].to_pylist() == [1, 2, None, None, None]
    assert combined.table["note"].to_pylist()[2:] == [None, None, None]


def test_an_accepted_version_from_before_a_contract_change_is_combined_only_if_the_change_allows() -> None:
    rows = labelled(CONTRACT, requests(), ["r1", "r2", "r3"], T0)
    older = SNAPSHOT.drop_columns(["note"])
    combined = build_retraining_rows(older, rows, CONTRACT, after=None)
    assert isinstance(combined, CombinedRows)
    assert combined.table["note"].to_pylist() == [None, None, "x", None, "z"]
    missing = build_retraining_rows(SNAPSHOT.drop_columns(["id"]), rows, CONTRACT, after=None)
    assert isinstance(missing, CannotCombine) and "the accepted version have no column 'id'" in missing.reason


class FakeMetadata:
    def __init__(self, objects: Mapping[tuple[str, str, str | None], Mapping[str, str]]) -> None:
        self.objects = objects
        self.asked: list[tuple[str, str, str | None]] = []

    def metadata(self, bucket: str, key: str, version_id: str | None) -> Mapping[str, str] | None:
        self.asked.append((bucket, key, version_id))
        return self.objects.get((bucket, key, version_id))


def _record(source: Mapping[str, object]) -> DatasetVersion:
    return DatasetVersion(
        dataset="accounts", version="a" * 64, accepted_at=T0.isoformat(), rows=3, size_bytes=10,
        format="parquet", snapshot_prefix="datasets/accounts/a/", contract_fingerprint="f",
        source=dict(source),
    )  # fmt: skip


def test_labels_through_is_read_from_the_exact_upload_version_a_dataset_version_came_from() -> None:
    # Given a prepared upload (version v2 of its key), a plain upload with the same metadata outside the
    # policy's prefix, and one under it whose time is not one
    through = T0 + timedelta(minutes=5, microseconds=7)
    prepared = ("data", "incoming/accounts/retraining/d.parquet", "v2")
    odd = ("data", "incoming/accounts/retraining/odd.parquet", None)
    reader = FakeMetadata({
        prepared: upload_metadata("d", "b" * 64, through),
        ("data", "incoming/accounts/plain.parquet", None): upload_metadata("d", "b" * 64, through),
        odd: {LABELS_THROUGH_METADATA: "yesterday"},
    })  # fmt: skip

    # When each version's labels are asked for / Then the prepared one holds them through its time
    source = {"bucket": "data", "key": prepared[1], "version_id": "v2"}
    assert labels_through(_record(source), reader) == through
    assert reader.asked == [prepared]
    # And the others hold none: a plain upload is not even asked about (the policy reads only its own)
    assert (
        labels_through(_record({"bucket": "data", "key": "incoming/accounts/plain.parquet"}), reader) is None
    )
    assert reader.asked == [prepared]
    assert labels_through(_record({**source, "version_id": "gone"}), reader) is None
    assert labels_through(_record({"key": prepared[1]}), reader) is None
    assert labels_through(_record({"bucket": "data", "key": odd[1]}), reader) is None


def test_a_combined_churn_version_passes_the_data_plane_s_validation_against_its_base() -> None:
    # Given the churn contract, an accepted version of 400 example rows (its profile) and 150 labelled
    # requests of other customers, drifted as served traffic is
    contract = load_contract(PROJECT_ROOT / "contracts" / "churn.yaml")
    base = next(churn.chunks(400, seed=3))
    profile = validate_dataset(lambda: io.BytesIO(parquet(base)), contract).profile
    traffic = churn.drifted(next(churn.chunks(150, seed=4)), seed=5)
    rows = labelled(contract, traffic, [f"req-{i}" for i in range(150)], T0)
    snapshot = pa.Table.from_arrays(base.columns, schema=snapshot_schema(contract))

    # When combined and written as the retraining upload is
    combined = build_retraining_rows(snapshot, rows, contract, after=None)
    assert isinstance(combined, CombinedRows)
    body = parquet(combined.table)
    result = validate_dataset(lambda: io.BytesIO(body), contract, previous_profile=profile)

    # Then the data plane accepts it, with every row, and no error
    assert result.accepted, result.report
    assert result.rows == 550 == combined.base_rows + combined.labelled_rows
    assert not [f for f in result.report["findings"] if f["severity"] == "error"]
