"""Import runs: a model trained elsewhere, evaluated by the same pipeline under its own trigger kind."""

from __future__ import annotations

import json

import pytest

from domain.names import import_key
from domain.training.runs import (
    ImportedModel,
    PipelineRunError,
    RunRequest,
    Trigger,
    execution_input,
    parse_execution_name,
    parse_run,
)

VERSION = "0123456789abcdef" * 4
FILE_SHA = "fedcba9876543210" * 4
CALLER = "arn:aws:sts::123456789012:assumed-role/DataScientist/alice@example.com"
IMPORTED = ImportedModel(sha256=FILE_SHA, by=CALLER, name="churn model (v2).skops")


def _import_run(imported: ImportedModel = IMPORTED, reason: str = "trained on the lake") -> RunRequest:
    return RunRequest(
        "churn", VERSION, Trigger("import", reference=imported.sha256[:16], reason=reason), imported
    )


def test_an_import_run_is_named_by_the_version_the_kind_and_16_digits_of_the_file() -> None:
    # Given an import of one file onto one dataset version
    run = _import_run()

    # Then its name says the version, "import" and the file's SHA-256 prefix, and reads back as such
    assert run.name == "churn-0123456789ab-import-fedcba9876543210"
    parsed = parse_execution_name(run.name)
    assert parsed is not None
    assert (parsed.dataset, parsed.kind, parsed.reference) == ("churn", "import", FILE_SHA[:16])


def test_the_same_file_on_the_same_version_is_the_same_run_whoever_says_why() -> None:
    assert _import_run(reason="first try").name == _import_run(reason="typed twice").name


def test_an_import_trigger_needs_a_reference() -> None:
    with pytest.raises(PipelineRunError, match="import trigger needs a reference"):
        Trigger("import")


def test_an_import_run_needs_the_imported_model_and_its_reference_is_the_file_prefix() -> None:
    with pytest.raises(PipelineRunError, match="import run needs the imported model"):
        RunRequest("churn", VERSION, Trigger("import", reference=FILE_SHA[:16]))
    with pytest.raises(PipelineRunError, match=f"first 16 hex digits.*{FILE_SHA[:16]}"):
        RunRequest("churn", VERSION, Trigger("import", reference="something-else"), IMPORTED)


@pytest.mark.parametrize("kind", ["accepted", "manual"])
def test_no_other_kind_of_run_carries_an_imported_model(kind: str) -> None:
    with pytest.raises(PipelineRunError, match=f"a {kind} run trains a model"):
        RunRequest("churn", VERSION, Trigger(kind), IMPORTED)  # type: ignore[arg-type]


def test_the_input_carries_imported_only_for_an_import_run() -> None:
    # Given a manual run and an import run
    manual = execution_input(RunRequest("churn", VERSION, Trigger("manual")))
    imported = execution_input(_import_run())

    # Then only the import run's input has "imported", with the file's facts
    assert "imported" not in manual
    assert imported["imported"] == {"sha256": FILE_SHA, "by": CALLER, "name": "churn model (v2).skops"}
    assert imported["trigger"] == {
        "kind": "import",
        "reference": FILE_SHA[:16],
        "reason": "trained on the lake",
    }


def test_an_import_run_reads_back_from_its_input_as_the_same_request() -> None:
    run = _import_run()

    assert parse_run(json.dumps(execution_input(run))) == run
    assert parse_run(execution_input(run)) == run


def test_an_input_whose_imported_model_is_malformed_is_not_a_run() -> None:
    document = execution_input(_import_run())
    document["imported"] = {"sha256": FILE_SHA}

    with pytest.raises(PipelineRunError, match="not a pipeline run input"):
        parse_run(document)


@pytest.mark.parametrize(
    ("sha256", "by", "name", "message"),
    [
        ("FEDCBA" * 10 + "abcd", CALLER, "m.skops", "not a SHA-256"),
        (FILE_SHA[:63], CALLER, "m.skops", "not a SHA-256"),
        (FILE_SHA, "", "m.skops", "who imported it"),
        (FILE_SHA, "arn:" + "x" * 2_045, "m.skops", "2,049 characters; an ARN has at most 2,048"),
        (FILE_SHA, CALLER, "", "needs its file's name"),
        (FILE_SHA, CALLER, "..", "needs its file's name"),
        (FILE_SHA, CALLER, "models/m.skops", "has a folder in it"),
        (FILE_SHA, CALLER, "C:\\models\\m.skops", "has a folder in it"),
        (FILE_SHA, CALLER, "m" * 256 + ".skops", "at most 255 printable characters"),
        (FILE_SHA, CALLER, "m\n.skops", "at most 255 printable characters"),
    ],
)
def test_malformed_imported_models_are_refused_where_they_enter(
    sha256: str, by: str, name: str, message: str
) -> None:
    with pytest.raises(PipelineRunError, match=message):
        ImportedModel(sha256=sha256, by=by, name=name)


def test_the_longest_caller_arn_is_kept_whole() -> None:
    caller = "arn:" + "x" * 2_044

    assert ImportedModel(sha256=FILE_SHA, by=caller, name="m.skops").by == caller


def test_an_imported_file_waits_under_its_dataset_and_content() -> None:
    assert import_key("churn", FILE_SHA) == f"imports/churn/{FILE_SHA}.skops"
    with pytest.raises(PipelineRunError, match="not a SHA-256"):
        import_key("churn", "../../datasets/x")
    with pytest.raises(PipelineRunError, match="not a valid dataset name"):
        import_key("Churn/..", FILE_SHA)
