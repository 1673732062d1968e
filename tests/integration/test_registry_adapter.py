"""The registry adapter against moto: one version per run, lineage kept through decisions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import boto3
import numpy as np
import pytest
from moto import mock_aws

from adapters.aws import client, resource
from adapters.registry import ModelVersionNotFoundError, RegistryError, SageMakerModelRegistry
from domain.training.config import GateConfig, ThresholdConfig
from domain.training.gate import GateDecision, decide
from domain.training.registration import AUTO_APPROVER, RegistrationError, RegistrationFacts
from domain.training.runs import Trigger
from spec.drift.baseline import DriftBaseline, build_baseline

SHA = "cd" * 32


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing",
                        "AWS_SECRET_ACCESS_KEY": "testing"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    client.cache_clear()
    resource.cache_clear()
    with mock_aws():
        yield
    client.cache_clear()
    resource.cache_clear()


@pytest.fixture
def registry(aws: None) -> SageMakerModelRegistry:
    registry = SageMakerModelRegistry(now=lambda: datetime(2026, 11, 3, 12, 0, tzinfo=UTC))
    registry.ensure_group("churn", "Models of the churn dataset")
    return registry


EVALUATION: dict[str, Any] = {
    "task": "classification", "family": "random_forest", "target": "churned",
    "hyperparameters": {"n_estimators": 200, "max_depth": None},
    "metrics": {"roc_auc": {"value": 0.81, "ci_low": 0.78, "ci_high": 0.84}}, "champion": None,
}  # fmt: skip


def facts(run: str = "churn-cdcdcdcdcdcd-accepted", group: str = "churn") -> RegistrationFacts:
    base = f"s3://artifacts/runs/{run}"
    return RegistrationFacts(
        group=group, dataset="churn", dataset_version=SHA, code_version="v1.4.0",
        execution_arn=f"arn:aws:states:us-east-1:123456789012:execution:training:{run}",
        trigger=Trigger("accepted", reason="dataset version accepted"),
        image_uri="sklearn:1.2-1", model_data_url=f"{base}/model.tar.gz",
        evaluation_url=f"{base}/evaluation.json", inputs_profile_url=f"{base}/baseline/inputs_profile.json",
        predictions_profile_url=f"{base}/baseline/predictions_profile.json",
    )  # fmt: skip


def gate(minimum: float = 0.7) -> GateDecision:
    return decide(EVALUATION, GateConfig(thresholds={"roc_auc": ThresholdConfig(min=minimum)}))


def test_ensure_group_is_idempotent(registry: SageMakerModelRegistry) -> None:
    arn = registry.ensure_group("churn")

    assert arn == registry.ensure_group("churn")
    assert arn.endswith(":model-package-group/churn")


def test_a_registered_version_carries_its_lineage_and_a_model_card(registry: SageMakerModelRegistry) -> None:
    # When a model that passed the gate is registered, pending a person's approval
    version, created = registry.register(EVALUATION, gate(), facts(), auto_approve=False)

    # Then the registry alone traces it
    assert created and version.version == 1
    assert version.approval_status == "PendingManualApproval"
    assert (version.dataset, version.dataset_version, version.code_version) == ("churn", SHA, "v1.4.0")
    assert version.execution_arn == facts().execution_arn
    assert version.hyperparameters == {"max_depth": "null", "n_estimators": "200"}
    assert version.metrics == {"roc_auc": 0.81}
    assert version.gate_decision == "approved"
    assert version.decided_by is None
    described = boto3.client("sagemaker").describe_model_package(ModelPackageName=version.arn)
    assert described["DriftCheckBaselines"]["ModelDataQuality"]["Statistics"]["S3Uri"].endswith(
        "baseline/inputs_profile.json")  # fmt: skip
    assert described["InferenceSpecification"]["SupportedContentTypes"] == ["text/csv", "application/json"]
    card = boto3.client("sagemaker").describe_model_card(ModelCardName="churn-v1")
    assert json.loads(card["Content"])["model_overview"]["model_artifact"] == [facts().model_data_url]


def test_the_registered_package_names_the_drift_baseline_and_it_loads(
    registry: SageMakerModelRegistry,
) -> None:
    # Given a drift baseline the training job wrote, kept in S3 by the gate
    rng = np.random.default_rng(0)
    built = build_baseline(
        {
            "tenure": ("numeric", rng.exponential(30.0, 2_000)),
            "plan": ("categorical", ["basic", "pro"] * 1_000),
        },
        {"predicted_label": ("categorical", ["0", "1", "0", "0"] * 100)},
        sizes=(200, 1_000),
        samples=5,
    )
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="artifacts")
    key = "runs/churn-cdcdcdcdcdcd-accepted/evaluation/drift_baseline.json"
    s3.put_object(Bucket="artifacts", Key=key, Body=built.to_json().encode())
    # When the version is registered with it
    with_baseline = replace(facts(), drift_baseline_url=f"s3://artifacts/{key}")
    version, _ = registry.register(EVALUATION, gate(), with_baseline, auto_approve=True)
    # Then the package names it as its data-quality constraints, and what it names is that baseline
    described = boto3.client("sagemaker").describe_model_package(ModelPackageName=version.arn)
    constraints = described["DriftCheckBaselines"]["ModelDataQuality"]["Constraints"]
    assert constraints == {"ContentType": "application/json", "S3Uri": f"s3://artifacts/{key}"}
    bucket, named = constraints["S3Uri"].removeprefix("s3://").split("/", 1)
    loaded = DriftBaseline.from_json(s3.get_object(Bucket=bucket, Key=named)["Body"].read())
    assert loaded == built
    assert [f.name for f in loaded.features] == ["tenure", "plan"]


def test_a_retried_registration_returns_the_first_version(registry: SageMakerModelRegistry) -> None:
    first, _ = registry.register(EVALUATION, gate(), facts(), auto_approve=False)

    again, created = registry.register(EVALUATION, gate(), facts(), auto_approve=False)

    assert not created
    assert again.arn == first.arn
    assert [v.version for v in registry.versions("churn")] == [1]


def test_auto_approval_records_the_platform_as_approver(registry: SageMakerModelRegistry) -> None:
    version, _ = registry.register(EVALUATION, gate(), facts(), auto_approve=True)

    assert version.approval_status == "Approved"
    assert version.decided_by == AUTO_APPROVER


def test_a_rejected_model_writes_nothing(registry: SageMakerModelRegistry) -> None:
    with pytest.raises(RegistrationError):
        registry.register(EVALUATION, gate(minimum=0.9), facts(), auto_approve=True)

    assert registry.versions("churn") == []


def test_versions_are_listed_newest_first_across_pages_and_groups(aws: None) -> None:
    # Given more versions than one page of the listing holds, in two groups
    registry = SageMakerModelRegistry(page_size=5)
    registry.ensure_group("churn")
    registry.ensure_group("fraud")
    for number in range(12):
        registry.register(EVALUATION, gate(), facts(run=f"run-{number}"), auto_approve=False)
    registry.register(EVALUATION, gate(), facts(run="fraud-run", group="fraud"), auto_approve=False)

    # Then every version comes back, newest first
    assert [v.version for v in registry.versions("churn")] == list(range(12, 0, -1))
    assert len(registry.versions()) == 13
    assert len(registry.versions(dataset="churn")) == 13  # the lineage names the dataset trained on
    assert registry.versions(dataset="other") == []
    assert registry.version("churn", 5).execution_arn == facts(run="run-4").execution_arn


def test_versions_by_prefix_are_one_platforms_groups_only(aws: None) -> None:
    # Given the groups of two platforms, one's name containing the other's prefix
    registry = SageMakerModelRegistry()
    for group in ("mlops-churn", "mlops-fraud", "old-mlops-churn"):
        registry.ensure_group(group)
        registry.register(EVALUATION, gate(), facts(run=f"{group}-run", group=group), auto_approve=False)

    # Then a prefix lists the versions of the groups it starts, and only those
    assert sorted(v.group for v in registry.versions(prefix="mlops-")) == ["mlops-churn", "mlops-fraud"]
    assert len(registry.versions()) == 3


def test_approval_records_who_and_why_and_keeps_every_other_fact(registry: SageMakerModelRegistry) -> None:
    version, _ = registry.register(EVALUATION, gate(), facts(), auto_approve=False)

    # When a person approves it (the caller's identity is taken from STS)
    approved = registry.approve(version.arn, "Holdout report reviewed; fine for the canary.")

    # Then status, reason, who and when are recorded, and the lineage and artifacts are untouched
    assert approved.approval_status == "Approved"
    assert approved.approval_description == "Holdout report reviewed; fine for the canary."
    assert approved.decided_by is not None and approved.decided_by.startswith("arn:aws:")
    assert approved.decided_at == "2026-11-03T12:00:00+00:00"
    assert (approved.dataset_version, approved.execution_arn, approved.metrics) == (
        version.dataset_version, version.execution_arn, version.metrics)  # fmt: skip
    assert approved.model_data_url == version.model_data_url
    assert approved.evaluation_url == version.evaluation_url


def test_rejection_names_the_given_approver(registry: SageMakerModelRegistry) -> None:
    version, _ = registry.register(EVALUATION, gate(), facts(), auto_approve=True)

    rejected = registry.reject(version.arn, "Leaks the target.", approver="arn:aws:iam::1:user/ana")

    assert (rejected.approval_status, rejected.decided_by) == ("Rejected", "arn:aws:iam::1:user/ana")
    assert rejected.approval_description == "Leaks the target."
    assert rejected.hyperparameters == version.hyperparameters


def test_a_decision_needs_a_reason_and_an_existing_version(registry: SageMakerModelRegistry) -> None:
    version, _ = registry.register(EVALUATION, gate(), facts(), auto_approve=False)

    with pytest.raises(RegistryError, match="needs a reason"):
        registry.approve(version.arn, "  ")
    with pytest.raises(ModelVersionNotFoundError):
        registry.approve(version.arn.replace("/1", "/9"), "ok")
    with pytest.raises(ModelVersionNotFoundError):
        registry.version("churn", 9)


def test_registering_in_a_group_of_many_versions_describes_only_the_runs_own(
    registry: SageMakerModelRegistry,
) -> None:
    # Given a group of 120 versions of other runs (AWS would take a call per version to describe them)
    for n in range(120):
        registry.register(EVALUATION, gate(), facts(run=f"churn-other-{n:03d}"), auto_approve=False)
    described: list[str] = []
    registry._sagemaker.meta.events.register(
        "before-call.sagemaker.DescribeModelPackage", lambda **_: described.append("describe")
    )

    # When a new run registers, then retries
    version, created = registry.register(EVALUATION, gate(), facts(run="churn-new"), auto_approve=False)
    first = len(described)
    again, created_again = registry.register(EVALUATION, gate(), facts(run="churn-new"), auto_approve=False)

    # Then it describes its own version only (once created; once found by the retry)
    assert (created, created_again) == (True, False)
    assert again.arn == version.arn and version.version == 121
    assert first == 1
    assert len(described) - first == 1
