"""A feedback file, end to end on fakes: joined, refused, counted, recorded once, performance published."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest

from domain.data.ingestion_model import Upload
from domain.feedback.ingest import FeedbackOutcome, feedback_dataset, ingest_feedback
from domain.feedback.labelled import labelled_schema
from domain.monitoring.metrics import MetricPoint
from tests.feedback_support import (
    DATASET,
    HEADER,
    NOW,
    FakeAlerts,
    FakeBucket,
    FakeMetrics,
    capture,
    declared,
)
from tests.monitor_support import FakeCaptureSource


class World:
    """The bucket, its captures, the alerts and the metrics; one dataset declared."""

    def __init__(self, **settings: int | float) -> None:
        self.bucket, self.captures = FakeBucket(), FakeCaptureSource("mlops-shop")
        self.alerts, self.metrics = FakeAlerts(), FakeMetrics()
        self.datasets = {DATASET: declared(**settings)}  # type: ignore[arg-type]

    def push(self, text: str, name: str = "labels.csv", *, at_offset: float = 0) -> FeedbackOutcome:
        key = f"feedback/{DATASET}/{name}"
        self.bucket.uploads[key] = text.encode()
        upload = Upload(bucket="data", key=key, version_id="v1", size=len(text.encode()))
        return ingest_feedback(
            upload, datasets=self.datasets, store=self.bucket, captures=self.captures, labels=self.bucket,
            alerter=self.alerts, metrics=self.metrics, now=lambda: NOW + timedelta(seconds=at_offset),
        )  # fmt: skip


def test_labels_are_joined_with_their_requests_in_the_labelled_schema() -> None:
    # Given three one-row requests with IDs, one without, and a two-row request with an ID, all captured
    world = World()
    capture(
        world.captures,
        [("a", [0], [True]), (None, [1], [True]), ("b", [2], [False]), ("c", [3, 4], [True, False])],
    )

    # When labels for a, b, the second row of c and an unknown ID are pushed
    outcome = world.push(HEADER + "a,true\nb,true\nc:1,false\nzz,true\n")

    # Then three rows are labelled, in the file's order, each with its request's features and prediction
    assert outcome.status == "labelled"
    assert outcome.counts == {
        "rows": 4, "matched": 3, "unknown_ids": 1, "duplicate_ids": 0, "relabelled_ids": 0,
        "captured_twice": 0,
    }  # fmt: skip
    rows = world.bucket.rows(f"labels/{DATASET}/{outcome.sha256}/rows.parquet")
    assert rows.schema == labelled_schema(declared().contract, "classification")
    assert rows.column("inference_id").to_pylist() == ["a", "b", "c:1"]
    assert rows.column("age").to_pylist() == [20, 22, 24]
    assert rows.column("plan").to_pylist() == ["basic", "basic", "basic"]
    assert rows.column("active").to_pylist() == [True, True, True]
    assert rows.column("note").null_count == 3
    assert rows.column("prediction").to_pylist() == ["true", "false", "false"]
    assert rows.column("churned").to_pylist() == [True, True, False]
    assert rows.column("model_version").to_pylist() == [1, 1, 1]
    assert set(rows.column("labelled_at").to_pylist()) == {NOW}
    report = world.bucket.json(f"labels/{DATASET}/{outcome.sha256}/report.json")
    assert report["examples"]["unknown_ids"] == ["zz"]
    assert report["versions"] == {"1": 3}
    assert report["source"]["key"] == f"feedback/{DATASET}/labels.csv"
    assert world.alerts.sent == []


def test_duplicate_ids_in_a_file_keep_the_last_label_and_are_counted() -> None:
    # Given one captured request
    world = World()
    capture(world.captures, [("a", [0], [True])])

    # When a file labels it three times
    outcome = world.push(HEADER + "a,true\na,false\na,false\n")

    # Then one row carries the last label, and the ID is counted as labelled more than once
    report = world.bucket.json(outcome.report_key)
    assert (report["counts"]["rows"], report["counts"]["matched"], report["counts"]["duplicate_ids"]) == (
        3,
        1,
        1,
    )
    assert report["examples"]["duplicate_ids"] == ["a"]
    assert world.bucket.rows(report["rows_key"]).column("churned").to_pylist() == [False]


def test_the_same_file_twice_is_recorded_once_and_a_later_file_relabels() -> None:
    # Given a file whose labels were joined
    world = World()
    capture(world.captures, [("a", [0], [True]), ("b", [1], [True])])
    first = world.push(HEADER + "a,true\nb,true\n")
    written = dict(world.bucket.objects)

    # When the same content arrives again under another name, then a new file labels b again
    again = world.push(HEADER + "a,true\nb,true\n", "copy.csv", at_offset=60)
    later = world.push(HEADER + "b,false\n", "fix.csv", at_offset=120)

    # Then the copy is a duplicate that writes nothing, and the new file counts b as relabelled
    assert (again.status, again.sha256) == ("duplicate", first.sha256)
    assert "labels.csv" in again.summary
    assert {k: v for k, v in world.bucket.objects.items() if k in written} == written
    assert later.counts["relabelled_ids"] == 1
    assert world.bucket.json(later.report_key)["examples"]["relabelled_ids"] == ["b"]


@pytest.mark.parametrize(
    ("text", "check"),
    [
        (HEADER + "a,maybe\n", "value.type"),
        (HEADER + ",true\n", "value.null"),
        ("inference_id,churned,extra\na,true,1\n", "header.extra_column"),
        ("inference_id\na\n", "header.missing_column"),
        (HEADER, "rows.too_few"),
    ],
)
def test_a_bad_file_gets_a_quarantine_report_and_one_alert_and_nothing_under_labels(
    text: str, check: str
) -> None:
    # Given a captured request
    world = World()
    capture(world.captures, [("a", [0], [True])])

    # When a bad file is pushed, twice
    outcome = world.push(text)
    world.push(text)

    # Then its report says what is wrong and what a feedback file holds; one alert; no labels written
    assert outcome.status == "rejected"
    assert outcome.report_key.startswith(f"quarantine/feedback/{DATASET}/")
    report = world.bucket.json(outcome.report_key)
    assert check in {finding["check"] for finding in report["findings"]}
    assert "inference_id" in report["expected"] and "churned (boolean" in report["expected"]
    assert len(world.alerts.sent) == 1 and "Feedback file refused" in world.alerts.sent[0][0]
    assert not [key for key in world.bucket.objects if key.startswith("labels/")]
    assert world.bucket.uploads[f"feedback/{DATASET}/labels.csv"] == text.encode()


def test_a_file_of_an_undeclared_dataset_is_refused_naming_the_declared_ones() -> None:
    world = World()
    world.bucket.uploads["feedback/other/x.csv"] = b"inference_id,churned\na,true\n"
    upload = Upload(bucket="data", key="feedback/other/x.csv")
    outcome = ingest_feedback(
        upload, datasets=world.datasets, store=world.bucket, captures=world.captures, labels=world.bucket,
        alerter=world.alerts, metrics=world.metrics, now=lambda: NOW,
    )  # fmt: skip
    assert outcome.status == "rejected" and "'other' is not declared" in outcome.summary
    assert "shop" in outcome.summary and len(world.alerts.sent) == 1


def test_requests_older_than_the_lookback_are_not_joined() -> None:
    # Given a request captured 3 days ago, and a lookback of 2 days
    world = World(lookback_days=2)
    capture(world.captures, [("old", [0], [True])], at=NOW - timedelta(days=3))

    # When it is labelled
    outcome = world.push(HEADER + "old,true\n")

    # Then its ID is unknown
    assert (outcome.counts["matched"], outcome.counts["unknown_ids"]) == (0, 1)


def test_realized_performance_of_the_versions_touched_is_published_and_reported() -> None:
    # Given four requests answered by version 2: three predictions right, one wrong, as labels will say
    world = World(min_labels=4, floor=0.8)
    capture(world.captures, [(f"r{i}", [i], [True]) for i in range(4)], version=2)

    # When three labels arrive, then the fourth in another file
    first = world.push(HEADER + "r0,true\nr1,true\nr2,true\n")
    second = world.push(HEADER + "r3,false\n", "more.csv", at_offset=60)

    # Then the first publishes only the labelled rows (too few), the second accuracy 0.75 on all four rows
    assert world.bucket.json(first.report_key)["performance"][0]["status"] == "too_few_labels"
    version_2 = (("EndpointName", "mlops-shop"), ("ModelVersion", "2"))
    assert world.metrics.named("LabelledRows")[version_2] == 4
    assert world.metrics.named("Realized_accuracy")[version_2] == pytest.approx(0.75)
    accuracy = world.bucket.json(second.report_key)["performance"][0]["metrics"]
    assert {m["name"]: m["below_floor"] for m in accuracy}["accuracy"] is True


class FailingOnce(FakeMetrics):
    """Metrics that fail the first publish: a failure after the rows are written, before the report."""

    failed: bool = False

    def publish(self, points: Sequence[MetricPoint], at: datetime) -> None:
        if not self.failed:
            self.failed = True
            raise ConnectionError("metrics unreachable")
        super().publish(points, at)


def test_a_retried_file_does_not_count_its_own_earlier_rows_as_relabelled() -> None:
    # Given a file whose first attempt wrote its rows, then failed before its report (no commit)
    world = World(min_labels=1)
    world.metrics = FailingOnce()
    capture(world.captures, [("a", [0], [True]), ("b", [1], [True])])
    with pytest.raises(ConnectionError):
        world.push(HEADER + "a,true\nb,false\n")
    assert any(key.endswith("/rows.parquet") for key in world.bucket.objects)
    assert not any(key.endswith("/report.json") for key in world.bucket.objects)

    # When the event is delivered again
    retried = world.push(HEADER + "a,true\nb,false\n", at_offset=30)

    # Then its labels are new ones (nothing labelled them before), and its rows are written once
    assert retried.status == "labelled"
    assert (retried.counts["matched"], retried.counts["relabelled_ids"]) == (2, 0)
    rows = world.bucket.rows(world.bucket.json(retried.report_key)["rows_key"])
    assert rows.column("inference_id").to_pylist() == ["a", "b"]


def test_realized_roc_auc_comes_from_the_probabilities_the_answers_carried() -> None:
    # Given six one-row requests answered with P(true) 0.9 ... 0.2, and a gate on roc_auc
    world = World(min_labels=6, floor=0.65, metric="roc_auc")
    chances = {"r0": [0.9], "r1": [0.8], "r2": [0.7], "r3": [0.4], "r4": [0.3], "r5": [0.2]}
    capture(world.captures, [(f"r{i}", [i], [i < 3]) for i in range(6)], chances=chances)

    # When labels arrive: r0, r1, r3 churned; r2, r4, r5 did not
    outcome = world.push(HEADER + "r0,true\nr1,true\nr2,false\nr3,true\nr4,false\nr5,false\n")

    # Then each labelled row keeps its answer's probabilities, and roc_auc is 8 of 9 pairs ranked right
    rows = world.bucket.rows(f"labels/{DATASET}/{outcome.sha256}/rows.parquet")
    assert dict(rows.column("probabilities")[3].as_py()) == pytest.approx({"false": 0.6, "true": 0.4})
    (version,) = world.bucket.json(outcome.report_key)["performance"]
    auc = {m["name"]: m for m in version["metrics"]}["roc_auc"]
    assert auc["value"] == pytest.approx(8 / 9)
    assert auc["ci_low"] <= auc["value"] <= auc["ci_high"]
    assert auc["below_floor"] is False
    assert world.metrics.named("Realized_roc_auc")[(("EndpointName", "mlops-shop"),)] == pytest.approx(8 / 9)


def test_feedback_dataset_reads_the_key() -> None:
    assert feedback_dataset("feedback/shop/a/b.csv") == "shop"
    assert feedback_dataset("feedback/shop/") is None
    assert feedback_dataset("incoming/shop/x.csv") is None
