"""A registered version's lineage of where its model came from: a family, a team's module, an import."""

from __future__ import annotations

import re
from typing import Any

import pytest

from domain.model_metadata import LATER_ENTRIES, MAX_ENTRIES
from domain.training.config import GateConfig, ThresholdConfig
from domain.training.gate import GateDecision, decide
from domain.training.model_card import model_card_content
from domain.training.model_origin import packages_value
from domain.training.registration import (
    ModelVersion,
    RegistrationError,
    RegistrationFacts,
    decision_metadata,
    model_package_request,
)
from domain.training.runs import Trigger

SHA = "cd" * 32
MODULE_SHA = "0f" * 32
FILE_SHA = "5a" * 32
CALLER = "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_DataScientist_0a1b/alice.smith+ml@example.com"
ARN = "arn:aws:states:eu-west-1:123456789012:execution:mlops-training:churn-cdcdcdcdcdcd-manual"
# What AWS accepts in CustomerMetadataProperties (botocore's service model, in Python's terms).
METADATA_TEXT = re.compile(r"[\w\s.:/=+\-@]{1,256}")
MODULE = {"path": "examples/team_models/churn_xgboost.py", "builder": "build", "sha256": MODULE_SHA}
IMPORTED = {"name": "churn model (v2), final.skops", "sha256": FILE_SHA, "by": CALLER}


def evaluation(model: dict[str, Any] | None, hyperparameters: dict[str, Any] | None = None) -> dict[str, Any]:
    family = "hist_gradient_boosting" if model is None or model["kind"] == "family" else model["kind"]
    document: dict[str, Any] = {
        "format": 1, "task": "classification", "target": "churned", "family": family,
        "hyperparameters": {"learning_rate": 0.05} if hyperparameters is None else hyperparameters,
        "confidence": 0.95, "metrics": {"roc_auc": {"value": 0.83, "ci_low": 0.8, "ci_high": 0.86}},
        "champion": None,
    }  # fmt: skip
    if model is not None:
        document["model"] = model
    return document


def record(kind: str, *, packages: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "kind": kind, "family": "hist_gradient_boosting" if kind == "family" else None,
        "module": MODULE if kind == "module" else None, "imported": IMPORTED if kind == "imported" else None,
        "packages": packages or {},
    }  # fmt: skip


def facts(kind: str = "manual") -> RegistrationFacts:
    trigger = Trigger("import", reference=FILE_SHA[:16]) if kind == "import" else Trigger("manual")
    return RegistrationFacts(
        group="churn", dataset="churn", dataset_version=SHA, code_version="3f2a9c1", execution_arn=ARN,
        trigger=trigger, image_uri="sklearn:1.4", model_data_url="s3://b/runs/x/model.tar.gz",
        evaluation_url="s3://b/runs/x/evaluation.json", inputs_profile_url="s3://b/i.json",
        predictions_profile_url="s3://b/p.json",
    )  # fmt: skip


def approved(document: dict[str, Any]) -> GateDecision:
    return decide(document, GateConfig(thresholds={"roc_auc": ThresholdConfig(min=0.7)}))


def metadata_of(document: dict[str, Any], kind: str = "manual") -> dict[str, str]:
    request = model_package_request(document, approved(document), facts(kind), auto_approve=False)
    return request["CustomerMetadataProperties"]  # type: ignore[no-any-return]


LINEAGE_KEYS = {"lineage.module", "lineage.module_sha256", "lineage.import_sha256", "lineage.imported_by",
                "lineage.import_name", "model.packages"}  # fmt: skip


def test_a_team_module_is_recorded_by_path_builder_hash_and_packages() -> None:
    # Given the evaluation of a team's module with an extra package
    document = evaluation(record("module", packages={"xgboost-cpu": "3.2.0", "narwhals": "2.1.0"}))

    # When it is registered
    metadata = metadata_of(document)

    # Then the lineage names the module, its builder, its hash and what it needs beyond the image
    assert metadata["lineage.module"] == "examples/team_models/churn_xgboost.py:build"
    assert metadata["lineage.module_sha256"] == MODULE_SHA
    assert metadata["model.packages"] == "narwhals==2.1.0 xgboost-cpu==3.2.0"
    assert metadata["model.family"] == "module"
    assert not {"lineage.import_sha256", "lineage.imported_by", "lineage.import_name"} & metadata.keys()


def test_an_imported_model_is_recorded_by_its_file_hash_its_importer_and_its_name() -> None:
    # Given the evaluation of an imported skops file named with characters AWS refuses, by an SSO user
    document = evaluation(record("imported", packages={"skops": "0.16.0"}), hyperparameters={})

    # When it is registered
    metadata = metadata_of(document, "import")

    # Then the lineage has the file's SHA-256, the caller's ARN whole, and the name in AWS's characters
    assert metadata["lineage.import_sha256"] == FILE_SHA
    assert metadata["lineage.imported_by"] == CALLER  # ARN characters are all allowed
    assert metadata["lineage.import_name"] == "churn model v2 final.skops"
    assert metadata["lineage.trigger"] == "import" and metadata["lineage.trigger_reference"] == FILE_SHA[:16]
    assert metadata["model.packages"] == "skops==0.16.0" and metadata["model.family"] == "imported"
    assert "lineage.module" not in metadata
    assert all(METADATA_TEXT.fullmatch(value) for value in metadata.values())


def test_a_built_in_family_and_an_evaluation_from_an_earlier_release_get_no_origin_entries() -> None:
    with_record = metadata_of(evaluation(record("family")))
    earlier = metadata_of(evaluation(None))

    assert not LINEAGE_KEYS & with_record.keys()
    assert with_record == earlier


@pytest.mark.parametrize(
    ("model", "named"),
    [
        ({"kind": "trained"}, "model.kind must be family, module or imported"),
        ("module", "model.kind must be family, module or imported"),
        (
            {"kind": "module", "module": {"path": "m.py"}},
            "model.module needs the strings path, builder, sha256",
        ),
        (
            {"kind": "imported", "imported": {"name": "m.skops", "sha256": FILE_SHA, "by": 3}},
            "model.imported",
        ),
        ({"kind": "module", "module": MODULE, "packages": ["lightgbm"]}, "model.packages must map"),
    ],
)
def test_a_malformed_model_record_is_refused_naming_its_key(model: Any, named: str) -> None:
    document = evaluation(None) | {"model": model}

    with pytest.raises(RegistrationError, match=re.escape(f"evaluation.json: {named}")):
        metadata_of(document)


def test_a_team_s_free_json_hyperparameters_are_their_json_text_cut_to_what_aws_allows() -> None:
    # Given a team's hyperparameters: nested JSON, a long list, a name with characters AWS refuses
    hyperparameters = {
        "lgbm": {"num_leaves": 31, "objective": "binary"},
        "bins": list(range(200)),
        "feature step (log)": True,
        "boosting": "gbdt",
    }
    metadata = metadata_of(evaluation(record("module"), hyperparameters))

    # Then each value is its JSON text in AWS's characters, at most 256 of them
    assert metadata["hp.lgbm"] == "num_leaves : 31 objective : binary"
    assert metadata["hp.boosting"] == "gbdt"
    assert metadata["hp.feature step log"] == "true"
    assert len(metadata["hp.bins"]) <= 256 and metadata["hp.bins"].startswith("0 1 2 3")
    assert all(METADATA_TEXT.fullmatch(k) and len(k) <= 128 for k in metadata)
    assert all(METADATA_TEXT.fullmatch(value) for value in metadata.values())


def test_many_hyperparameters_leave_room_for_the_decision_and_the_deployment() -> None:
    # Given a team model with 60 hyperparameters (AWS allows 50 entries per package in all)
    hyperparameters = {f"p{index:02d}": index for index in range(60)}
    document = evaluation(record("module", packages={"xgboost-cpu": "3.2.0"}), hyperparameters)

    # When it is registered
    metadata = metadata_of(document)

    # Then the first by name are kept, the count of the others is said, and the later entries still fit
    kept = sorted(k for k in metadata if k.startswith("hp."))
    assert kept == [f"hp.p{index:02d}" for index in range(len(kept))]
    assert metadata["model.hyperparameters_omitted"] == f"{60 - len(kept)} more in evaluation.json"
    assert len(metadata) + len(LATER_ENTRIES) == MAX_ENTRIES
    assert len(decision_metadata(metadata, approver="alice", at="2026-12-07T00:00:00Z")) <= MAX_ENTRIES
    assert metadata["lineage.module"] and metadata["model.packages"] == "xgboost-cpu==3.2.0"


def test_packages_that_do_not_fit_one_value_end_in_a_count_of_whole_pins() -> None:
    packages = {f"package-number-{index:03d}": "10.20.30" for index in range(30)}

    value = packages_value(packages)

    assert len(value) <= 256
    shown = value.split(" ")
    assert shown[-2:] == [f"+{30 - len(shown) + 2}", "more"]
    assert all(pin in {f"{n}==10.20.30" for n in packages} for pin in shown[:-2])


def test_the_version_reads_the_origin_back_and_its_card_says_it() -> None:
    # Given an imported model registered
    document = evaluation(record("imported", packages={"skops": "0.16.0"}), hyperparameters={})
    metadata = metadata_of(document, "import")

    # When the registry describes it
    version = ModelVersion.from_description(
        {
            "ModelPackageArn": "arn:aws:sagemaker:eu-west-1:123456789012:model-package/churn/3",
            "ModelPackageVersion": 3,
            "CustomerMetadataProperties": metadata,
        }
    )
    card = model_card_content(document, approved(document), facts("import"), version=3)

    # Then the reader has every fact, and the card says it was imported, by whom, not trained here
    assert (version.import_sha256, version.imported_by, version.import_name, version.packages) == (
        FILE_SHA, CALLER, "churn model v2 final.skops", "skops==0.16.0")  # fmt: skip
    assert version.module is None and version.trigger == "import"
    observations = card["training_details"]["training_observations"]
    assert f"Imported from churn model (v2), final.skops (sha256 {FILE_SHA}) by {CALLER}" in observations
    assert "Packages beyond the image: skops==0.16.0." in observations


def test_a_team_s_hyperparameters_fit_the_model_card_schema_however_long_or_many() -> None:
    # Given a team's module whose hyperparameters are free JSON: a long list, a long name, 120 in all
    columns = [f"feature_number_{index}" for index in range(40)]
    many: dict[str, Any] = {f"h{index:03d}": index for index in range(117)}
    hyperparameters = many | {"columns": columns, "a" * 300: 1, "depth": 6}
    document = evaluation(record("module"), hyperparameters=hyperparameters)

    # When its model card is written
    card = model_card_content(document, approved(document), facts(), version=1)

    # Then there are at most 100, by name, each name and value of 1-255 characters (CreateModelCard's
    # training_hyper_parameter), a value cut ending in "..."
    given = card["training_details"]["training_job_details"]["hyper_parameters"]
    assert len(given) == 100
    assert all(1 <= len(entry["name"]) <= 255 and 1 <= len(entry["value"]) <= 255 for entry in given)
    by_name = {entry["name"]: entry["value"] for entry in given}
    assert by_name["columns"].startswith('["feature_number_0", ') and by_name["columns"].endswith("...")
    assert by_name["depth"] == "6" and by_name["a" * 252 + "..."] == "1"
    assert [entry["name"] for entry in given] == sorted(by_name)


def test_hyperparameters_left_without_an_entry_are_counted_with_those_left_for_room() -> None:
    # Given a team's hyperparameters of which two cannot be entries: a value with no character AWS allows
    # ({} is only braces) and a name that AWS's characters make the same as another's
    hyperparameters = {"grid": {}, "depth,max": 6, "depth max": 7, "rounds": 300}
    document = evaluation(record("module"), hyperparameters)

    # When it is registered
    metadata = metadata_of(document)

    # Then the two with no entry are counted as being only in evaluation.json
    assert {k: v for k, v in metadata.items() if k.startswith("hp.")} == {
        "hp.depth max": "7",
        "hp.rounds": "300",
    }
    assert metadata["model.hyperparameters_omitted"] == "2 more in evaluation.json"
