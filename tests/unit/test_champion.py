"""The champion policy over plain model versions: which one a new run's challenger is compared with."""

from __future__ import annotations

from collections.abc import Iterator

from domain.training.champion import champion
from domain.training.registration import ModelVersion

ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package/mlops-sales/{}"


def model_version(
    number: int,
    deployment: str | None = None,
    *,
    approval: str = "Approved",
    model_data_url: str | None = None,
) -> ModelVersion:
    """Version ``number`` of the group, approved unless told, with its last deployment's status."""
    fields: dict[str, object] = {name: None for name in ModelVersion.__dataclass_fields__}
    fields |= {
        "arn": ARN.format(number),
        "group": "mlops-sales",
        "version": number,
        "approval_status": approval,
        "description": "",
        "hyperparameters": {},
        "metrics": {},
        "model_data_url": model_data_url or f"s3://data/v{number}/model.tar.gz",
        "deployment_status": deployment,
    }
    return ModelVersion(**fields)  # type: ignore[arg-type]


def numbers(found: ModelVersion | None) -> int | None:
    return None if found is None else found.version


def test_the_newest_approved_version_whose_last_deployment_succeeded_is_the_champion() -> None:
    versions = [model_version(3, "deployed"), model_version(2, "replaced"), model_version(1, "replaced")]

    assert numbers(champion(versions)) == 3


def test_without_any_deployment_the_newest_approved_version_is_the_champion() -> None:
    assert numbers(champion([model_version(2), model_version(1)])) == 2


def test_the_version_in_service_wins_over_newer_approvals_that_did_not_go_live() -> None:
    versions = [
        model_version(5, "failed"),
        model_version(4),  # its deployment is still going
        model_version(3, "rolled_back"),
        model_version(2, "deployed"),
        model_version(1, "replaced"),
    ]

    assert numbers(champion(versions)) == 2


def test_versions_that_are_not_approved_are_passed_over() -> None:
    versions = [
        model_version(4, approval="PendingManualApproval"),
        model_version(3, "deployed", approval="Rejected"),  # withdrawn after it went live
        model_version(2),
        model_version(1),
    ]

    assert numbers(champion(versions)) == 2


def test_when_no_deployment_succeeded_the_newest_approved_version_is_the_champion() -> None:
    versions = [model_version(3, "rolled_back"), model_version(2, "failed"), model_version(1, "superseded")]

    assert numbers(champion(versions)) == 3


def test_a_dataset_without_an_approved_version_has_no_champion() -> None:
    assert champion([]) is None
    assert champion([model_version(1, approval="PendingManualApproval")]) is None


def test_versions_older_than_the_one_in_service_are_not_read() -> None:
    read: list[int] = []

    def described() -> Iterator[ModelVersion]:
        for version in (model_version(3), model_version(2, "deployed"), model_version(1, "replaced")):
            read.append(version.version)
            yield version

    assert numbers(champion(described())) == 2
    assert read == [3, 2]
