"""Alerts as SNS takes them (subject and message), and an alert that survives a failure after its report."""

from __future__ import annotations

import json

import pytest

from domain.alerts import MAX_MESSAGE_BYTES, MAX_SUBJECT, alert_message, alert_subject, subject_problem
from domain.data.ingestion import quarantine_key
from domain.data.ingestion_model import alerted_key
from tests.unit.test_ingestion import BAD, GOOD, CrashError, World

LONG_NAME = "incoming/sales/" + "quarterly-export-" * 12 + "final.csv"


@pytest.mark.parametrize(
    "lead, name",
    [
        ("Dataset upload rejected", "s" * 64),
        ("Dataset upload rejected", LONG_NAME),
        ("Dataset upload rejected", "incoming/ventes/été\n2026\t/rapport\x00.csv"),
        ("Dataset upload rejected", "数据/上传.csv"),
        ("Dataset upload could not be validated", "x" * 1024),
        ("A lead that is itself far too long to leave room for any name at all " * 2, "churn"),
        ("", "\n\t"),
    ],
)
def test_every_subject_is_one_line_of_printable_ascii_under_100_characters(lead: str, name: str) -> None:
    subject = alert_subject(lead, name)

    assert subject_problem(subject) is None, subject
    assert len(subject) <= MAX_SUBJECT < 100


def test_a_long_file_name_keeps_both_ends_and_the_lead() -> None:
    subject = alert_subject("Dataset upload rejected", LONG_NAME)

    assert subject.startswith("Dataset upload rejected: incoming/sales/quarterly-export-")
    assert subject.endswith("export-final.csv")
    assert "..." in subject and len(subject) == MAX_SUBJECT


def test_a_short_subject_is_kept_as_it_is_and_accents_become_letters() -> None:
    assert alert_subject("Dataset upload rejected", "churn") == "Dataset upload rejected: churn"
    assert alert_subject("Rejected", "données-été") == "Rejected: donnees-ete"


def test_the_rule_names_what_sns_refuses() -> None:
    assert subject_problem("x" * 100) == "it has 100 characters (SNS takes fewer than 100)"
    assert "printable ASCII" in str(subject_problem("two\nlines"))
    assert subject_problem("") == "it is empty"


def test_a_message_over_256_kib_is_cut_at_a_character_boundary_with_a_note() -> None:
    message = alert_message("é" * MAX_MESSAGE_BYTES)

    assert len(message.encode()) <= MAX_MESSAGE_BYTES
    assert message.endswith("[cut: the alert was longer than SNS takes]")
    assert alert_message("short") == "short"


def test_an_alert_that_fails_after_its_report_is_sent_by_the_retry() -> None:
    # Given a rejected upload whose alert cannot be published the first time
    world = World()
    upload = world.upload("incoming/sales/bad.csv", BAD)
    world.notifier.alert_failures_left = 1
    # When the function fails and Lambda retries the event
    with pytest.raises(CrashError):
        world.ingest(upload)
    report_keys = [key for key in world.store.objects if key.endswith("/report.json")]
    outcome = world.ingest(upload)
    # Then the report written the first time is kept whole, and the retry sends the alert, once
    assert report_keys == [outcome.report_key]
    assert json.loads(world.store.objects[outcome.report_key])["status"] == "rejected"
    [(subject, message)] = world.notifier.alerts
    assert subject == "Dataset upload rejected: sales"
    assert outcome.report_key in message
    assert alerted_key(outcome.report_key) in world.store.objects
    # and a later delivery of the same event alerts no more
    world.ingest(upload)
    assert len(world.notifier.alerts) == 1


def test_a_failed_report_write_sends_no_alert_and_the_retry_sends_both() -> None:
    world = World()
    upload = world.upload("incoming/sales/bad.csv", BAD)
    world.store.fail_on = "report.json"

    with pytest.raises(CrashError):
        world.ingest(upload)
    assert world.notifier.alerts == []
    world.store.fail_on = None
    outcome = world.ingest(upload)

    assert outcome.report_key == quarantine_key("sales", outcome.version)
    assert len(world.notifier.alerts) == 1


def test_an_undeclared_dataset_with_a_long_name_gets_a_valid_subject() -> None:
    world = World()
    outcome = world.ingest(world.upload("incoming/" + "d" * 300 + "/jan.csv", GOOD))

    [(subject, _)] = world.notifier.alerts
    assert outcome.status == "rejected"
    assert subject_problem(subject) is None
