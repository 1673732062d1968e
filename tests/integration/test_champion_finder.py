"""Which version a new run is compared with: the approved version in service, read from moto's registry."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from adapters.aws import client, resource
from adapters.registry import SageMakerModelRegistry
from domain.model_metadata import DEPLOYMENT_STATUS
from domain.training.champion import champion

GROUP = "mlops-churn"


@pytest.fixture
def sagemaker(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        client.cache_clear()
        resource.cache_clear()
        sagemaker = boto3.client("sagemaker")
        sagemaker.create_model_package_group(ModelPackageGroupName=GROUP)
        yield sagemaker
        client.cache_clear()
        resource.cache_clear()


def _register(sagemaker: object, number: int, status: str, deployment: str | None = None) -> None:
    metadata = {DEPLOYMENT_STATUS: deployment} if deployment else {}
    sagemaker.create_model_package(  # type: ignore[attr-defined]
        ModelPackageGroupName=GROUP,
        ModelApprovalStatus=status,
        InferenceSpecification={
            "Containers": [{"Image": "sklearn", "ModelDataUrl": f"s3://data/v{number}/model.tar.gz"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["application/json"],
        },
        **({"CustomerMetadataProperties": metadata} if metadata else {}),
    )


def champion_model_data(group: str) -> str | None:
    found = champion(SageMakerModelRegistry().approved_newest_first(group))
    return None if found is None else found.model_data_url


def test_without_any_deployment_the_newest_approved_version_is_the_champion(sagemaker: object) -> None:
    _register(sagemaker, 1, "Approved")
    _register(sagemaker, 2, "Approved")
    _register(sagemaker, 3, "PendingManualApproval")

    assert champion_model_data(GROUP) == "s3://data/v2/model.tar.gz"


def test_the_version_in_service_wins_over_newer_approvals_that_did_not_go_live(sagemaker: object) -> None:
    _register(sagemaker, 1, "Approved", "replaced")
    _register(sagemaker, 2, "Approved", "deployed")
    _register(sagemaker, 3, "Approved", "rolled_back")
    _register(sagemaker, 4, "Approved")  # its deployment is still going

    assert champion_model_data(GROUP) == "s3://data/v2/model.tar.gz"


def test_a_dataset_without_a_group_has_no_champion(sagemaker: object) -> None:
    assert champion_model_data("mlops-nothing") is None


def test_the_candidates_are_the_approved_versions_newest_first(sagemaker: object) -> None:
    _register(sagemaker, 1, "Approved", "deployed")
    _register(sagemaker, 2, "Rejected")
    _register(sagemaker, 3, "Approved")

    listed = [v.model_data_url for v in SageMakerModelRegistry().approved_newest_first(GROUP)]

    assert listed == ["s3://data/v3/model.tar.gz", "s3://data/v1/model.tar.gz"]
