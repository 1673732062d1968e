"""The model package request, the model card and a version read back: every lineage fact kept."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from domain.model_metadata import metadata_value
from domain.names import model_card_name
from domain.training.config import GateConfig, ThresholdConfig
from domain.training.gate import GateDecision, decide
from domain.training.model_card import model_card_content
from domain.training.registration import (
    AUTO_APPROVER,
    ModelVersion,
    RegistrationError,
    RegistrationFacts,
    decision_metadata,
    model_package_request,
)
from domain.training.runs import Trigger

SHA = "ab" * 32
ARN = "arn:aws:states:eu-west-1:123456789012:execution:mlops-training:churn-abababababab-accepted"
# What AWS accepts in CustomerMetadataProperties (botocore's service model, in Python's terms).
METADATA_TEXT = re.compile(r"[\w\s.:/=+\-@]{1,256}")


def evaluation() -> dict[str, Any]:
    return {
        "format": 1, "task": "classification", "target": "churned", "family": "hist_gradient_boosting",
        "hyperparameters": {"learning_rate": 0.05, "max_iter": 300, "class_weight": None},
        "confidence": 0.95,
        "metrics": {"roc_auc": {"value": 0.83, "ci_low": 0.8, "ci_high": 0.86},
                    "log_loss": {"value": None, "ci_low": None, "ci_high": None}},
        "champion": None,
    }  # fmt: skip


def facts(**changes: Any) -> RegistrationFacts:
    values: dict[str, Any] = {
        "group": "churn", "dataset": "churn", "dataset_version": SHA, "code_version": "3f2a9c1",
        "execution_arn": ARN,
        "trigger": Trigger("accepted", reason="dataset version accepted (event 1f; 12,000 rows)"),
        "image_uri": "123.dkr.ecr.eu-west-1.amazonaws.com/sklearn:1.2-1",
        "model_data_url": "s3://artifacts/runs/x/model.tar.gz",
        "evaluation_url": "s3://artifacts/runs/x/evaluation.json",
        "inputs_profile_url": "s3://artifacts/runs/x/baseline/inputs_profile.json",
        "predictions_profile_url": "s3://artifacts/runs/x/baseline/predictions_profile.json",
        "gate_report_url": "s3://artifacts/runs/x/gate.json",
        "drift_baseline_url": "s3://artifacts/runs/x/baseline/drift_baseline.json",
    }  # fmt: skip
    return RegistrationFacts(**(values | changes))


def approved() -> GateDecision:
    return decide(evaluation(), GateConfig(thresholds={"roc_auc": ThresholdConfig(min=0.7)}))


def test_the_request_names_the_model_its_metrics_and_its_baselines() -> None:
    request = model_package_request(evaluation(), approved(), facts(), auto_approve=False)

    container = request["InferenceSpecification"]["Containers"][0]
    assert container == {"Image": facts().image_uri, "ModelDataUrl": facts().model_data_url}
    assert request["InferenceSpecification"]["SupportedContentTypes"] == ["text/csv", "application/json"]
    assert request["InferenceSpecification"]["SupportedResponseMIMETypes"] == ["text/csv", "application/json"]
    quality = request["ModelMetrics"]["ModelQuality"]
    assert quality["Statistics"] == {"ContentType": "application/json", "S3Uri": facts().evaluation_url}
    assert quality["Constraints"]["S3Uri"] == facts().gate_report_url
    baselines = request["DriftCheckBaselines"]
    assert baselines["ModelDataQuality"]["Statistics"]["S3Uri"] == facts().inputs_profile_url
    assert baselines["ModelQuality"]["Statistics"]["S3Uri"] == facts().predictions_profile_url
    assert baselines["ModelDataQuality"]["Constraints"] == {
        "ContentType": "application/json", "S3Uri": facts().drift_baseline_url}  # fmt: skip
    assert request["ModelPackageGroupName"] == "churn"
    assert "churn version abababababab" in request["ModelPackageDescription"]


def test_without_a_drift_baseline_the_data_quality_baseline_has_no_constraints() -> None:
    # Given the facts of a model whose job wrote no drift baseline
    request = model_package_request(
        evaluation(), approved(), facts(drift_baseline_url=None), auto_approve=False
    )
    # Then the package keeps its profile and names no constraints the monitor would fail to read
    assert request["DriftCheckBaselines"]["ModelDataQuality"] == {
        "Statistics": {"ContentType": "application/json", "S3Uri": facts().inputs_profile_url}}  # fmt: skip


@pytest.mark.parametrize(("auto", "status"), [(True, "Approved"), (False, "PendingManualApproval")])
def test_the_approval_status_follows_the_configuration(auto: bool, status: str) -> None:
    request = model_package_request(evaluation(), approved(), facts(), auto_approve=auto)

    assert request["ModelApprovalStatus"] == status
    assert (request["CustomerMetadataProperties"].get("approval.by") == AUTO_APPROVER) is auto


def test_the_metadata_carries_the_lineage_in_values_aws_accepts() -> None:
    metadata = model_package_request(evaluation(), approved(), facts(), auto_approve=False)[
        "CustomerMetadataProperties"]  # fmt: skip

    assert metadata["lineage.dataset"] == "churn"
    assert metadata["lineage.dataset_version"] == SHA
    assert metadata["lineage.code_version"] == "3f2a9c1"
    assert metadata["lineage.execution_arn"] == ARN
    assert metadata["lineage.trigger"] == "accepted"
    assert metadata["lineage.trigger_reason"] == "dataset version accepted event 1f 12 000 rows"
    assert metadata["hp.learning_rate"] == "0.05"
    assert metadata["hp.class_weight"] == "null"
    assert metadata["metric.roc_auc"] == "0.83"
    assert "metric.log_loss" not in metadata  # not computable: no value rather than a fake one
    assert metadata["gate.decision"] == "approved"
    assert len(metadata) <= 50
    for key, value in metadata.items():
        assert METADATA_TEXT.fullmatch(key) and len(key) <= 128
        assert METADATA_TEXT.fullmatch(value), (key, value)


def test_metadata_values_are_cut_to_what_aws_allows() -> None:
    assert (
        metadata_value("roc_auc is 0.83 (95% CI 0.8 to 0.86); ok.")
        == "roc_auc is 0.83 95 percent CI 0.8 to 0.86 ok."
    )
    assert len(metadata_value("x" * 1000)) == 256
    assert metadata_value("();") == ""


def test_the_client_token_is_the_same_for_a_retry_of_the_run() -> None:
    first = model_package_request(evaluation(), approved(), facts(), auto_approve=False)["ClientToken"]
    again = model_package_request(evaluation(), approved(), facts(), auto_approve=True)["ClientToken"]
    other = model_package_request(
        evaluation(), approved(), facts(execution_arn=ARN + "x"), auto_approve=False
    )

    assert first == again != other["ClientToken"]
    assert re.fullmatch(r"[a-zA-Z0-9-]{1,36}", first)


def test_a_model_the_gate_rejected_is_not_registered() -> None:
    rejected = decide(evaluation(), GateConfig(thresholds={"roc_auc": ThresholdConfig(min=0.9)}))

    with pytest.raises(RegistrationError, match=r"the gate rejected this model: roc_auc is 0\.83"):
        model_package_request(evaluation(), rejected, facts(), auto_approve=True)


def test_the_model_card_states_the_same_facts() -> None:
    card = model_card_content(evaluation(), approved(), facts(), version=3)

    json.dumps(card, allow_nan=False)  # valid JSON, no NaN
    assert set(card) == {"model_overview", "intended_uses", "training_details", "evaluation_details"}
    assert card["model_overview"]["model_version"] == 3
    assert card["model_overview"]["model_artifact"] == [facts().model_data_url]
    details = card["training_details"]["training_job_details"]
    assert details["training_datasets"] == [f"churn@{SHA}"]
    assert {"name": "learning_rate", "value": "0.05"} in details["hyper_parameters"]
    (metric,) = card["evaluation_details"][0]["metric_groups"][0]["metric_data"]
    assert metric == {"name": "roc_auc", "type": "number", "value": 0.83, "notes": "95% CI 0.8 to 0.86"}
    assert ARN in card["training_details"]["training_observations"]


def test_model_card_names_fit_aws_limits() -> None:
    assert model_card_name("churn", 12) == "churn-v12"
    long = model_card_name("g" * 60 + "-x", 123)
    assert len(long) <= 63 and re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", long)


def test_a_described_package_reads_back_as_a_model_version() -> None:
    # Given what DescribeModelPackage returns for a registered request, after a person's decision
    request = model_package_request(evaluation(), approved(), facts(), auto_approve=False)
    metadata = decision_metadata(request["CustomerMetadataProperties"], approver="arn:aws:iam::1:user/ana",
                                 at="2026-11-03T12:00:00+00:00")  # fmt: skip
    described = request | {
        "ModelPackageArn": "arn:aws:sagemaker:eu-west-1:1:model-package/churn/4",
        "ModelPackageVersion": 4, "ModelApprovalStatus": "Approved",
        "ApprovalDescription": "Reviewed the holdout report.", "CustomerMetadataProperties": metadata,
    }  # fmt: skip

    # When it is read back
    version = ModelVersion.from_description(described)

    # Then every traced fact is there
    assert (version.group, version.version, version.approval_status) == ("churn", 4, "Approved")
    assert (version.dataset, version.dataset_version, version.code_version) == ("churn", SHA, "3f2a9c1")
    assert version.execution_arn == ARN
    assert version.hyperparameters == {"class_weight": "null", "learning_rate": "0.05", "max_iter": "300"}
    assert version.metrics == {"roc_auc": 0.83}
    assert version.gate_decision == "approved"
    assert (version.decided_by, version.decided_at) == (
        "arn:aws:iam::1:user/ana",
        "2026-11-03T12:00:00+00:00",
    )
    assert version.approval_description == "Reviewed the holdout report."
    assert version.evaluation_url == facts().evaluation_url
    assert version.to_dict()["version"] == 4


def test_a_decision_keeps_every_other_entry() -> None:
    merged = decision_metadata({"lineage.dataset": "churn", "approval.by": AUTO_APPROVER}, approver="", at="")

    assert merged == {"lineage.dataset": "churn", "approval.by": "unknown"}
