"""Every name the platform builds is one AWS accepts, or synth refuses the configuration that makes it."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest

from domain.names import model_card_name
from domain.platform_names import dataset_names, model_package_group, name_problems
from stacks.app import PROJECT_ROOT, cdk_json_context
from stacks.config import ConfigError, load_platform

LONGEST_PROJECT = "p" * 21  # mlops.project allows 21 characters


@pytest.mark.parametrize(
    ("project", "dataset"),
    [
        ("mlops", "churn"),
        (LONGEST_PROJECT, "d" * 41),  # the longest pair whose group fits
        ("ab", "d" * 60),
        (LONGEST_PROJECT, "d" * 20 + "-" * 20 + "d"),  # hyphens where the builders cut
        (LONGEST_PROJECT, "c" * 63),  # the longest of both
    ],
    ids=["default", "longest project", "longest dataset that fits", "hyphens at the cuts", "longest dataset"],
)
def test_runtime_builders_give_valid_names_at_their_worst_case(project: str, dataset: str) -> None:
    built = dataset_names(project, dataset)
    group = model_package_group(project, dataset)

    refused = {b.rule.resource: b.problem() for b in built if b.problem() is not None}

    # Only the group is not shortened (people type it, grants and the deployment read it): the rest is
    # valid for every input, and keeps the project's prefix that the IAM policies grant.
    too_long = {"SageMaker model package group": f"is {len(group)} characters, more than 63"}
    assert refused == ({} if len(group) <= 63 else too_long)
    assert {b.rule.operation for b in built} >= {"CreateModelPackageGroup", "CreateModelCard",
        "CreateTrainingJob", "CreateModel", "CreateEndpointConfig", "CreateEndpoint", "StartExecution",
        "PutMetricAlarm", "PutDashboard", "PutObject"}  # fmt: skip


def test_a_dataset_name_ending_in_a_hyphen_makes_a_group_sagemaker_refuses() -> None:
    (problem,) = name_problems("mlops", ["churn-"])

    assert problem.dataset == "churn-"
    assert problem.built.name == "mlops-churn-"
    assert "ends in a hyphen" in problem.describe()


def test_the_monitoring_names_are_checked_at_their_longest() -> None:
    built = {b.built_as: b.name for b in dataset_names(LONGEST_PROJECT, "c" * 63)}

    # the drift alarms and dashboard of the dataset, a capture of its largest version, a report
    assert built["<endpoint>-drift"].endswith("-drift")
    assert built["<endpoint>-no-traffic"].endswith("-no-traffic")
    assert built["<project>-<dataset>-no-new-data"] == f"{LONGEST_PROJECT}-{'c' * 63}-no-new-data"
    assert built["<project>-<dataset>"] == f"{LONGEST_PROJECT}-{'c' * 63}"
    assert built["capture/<dataset>/v<version>/<endpoint>/..."].startswith(f"capture/{'c' * 63}/v999999999/")
    assert built["monitoring/<dataset>/reports/..."].startswith(f"monitoring/{'c' * 63}/reports/")


def test_a_project_name_aws_refuses_is_blamed_on_the_project() -> None:
    problems = name_problems("p" * 130, [])

    # each stack (foundation, validation, training, serving, monitoring), none of the datasets
    assert [(p.dataset, p.built.rule.resource) for p in problems] == [(None, "CloudFormation stack")] * 5
    assert [p.built.built_as for p in problems][:2] == ["<project>-foundation", "<project>-validation"]


def test_model_cards_of_two_long_groups_that_start_alike_are_distinct() -> None:
    first, second = "g" * 57 + "-one1", "g" * 57 + "-two2"  # alike up to where the version goes

    cards = {model_card_name(first, 123), model_card_name(second, 123)}

    assert len(cards) == 2
    assert all(len(card) <= 63 and card.endswith("-v123") for card in cards)


@pytest.fixture
def context() -> dict[str, Any]:
    return copy.deepcopy(cdk_json_context()["mlops"])


def _with_dataset(context: dict[str, Any], root: Path, name: str) -> None:
    source = (PROJECT_ROOT / "contracts" / "churn.yaml").read_text()
    (root / "contracts").mkdir(exist_ok=True)
    (root / "contracts" / f"{name}.yaml").write_text(re.sub(r"(?m)^name: churn$", f"name: {name}", source))
    context["datasets"] = {name: {"contract": f"contracts/{name}.yaml"}}


def test_synth_refuses_a_project_and_dataset_whose_model_package_group_is_too_long(
    context: dict[str, Any], tmp_path: Path
) -> None:
    # Given the longest project and a dataset name a contract accepts, 75 characters together
    context["project"] = LONGEST_PROJECT
    _with_dataset(context, tmp_path, "customer-churn-prediction-for-retail-stores-in-europe")

    # When the configuration is loaded, then synth fails naming the key, the resource and the rule
    with pytest.raises(ConfigError) as caught:
        load_platform(context, tmp_path)

    message = str(caught.value)
    assert message.startswith(
        "cdk.json: mlops.datasets.customer-churn-prediction-for-retail-stores-in-europe: the SageMaker "
        f"model package group name '{LONGEST_PROJECT}-customer-churn-prediction-for-retail-stores-in-europe'"
    )
    assert "is 75 characters, more than 63; CreateModelPackageGroup allows 1 to 63 letters" in message
    # and the name it proposes works
    proposed = re.search(r"e\.g\. '([a-z0-9-]+)'", message)
    assert proposed is not None and proposed[1] == "customer-churn-prediction-for-retail-stor"
    _with_dataset(context, tmp_path, proposed[1])
    assert set(load_platform(context, tmp_path).contracts) == {proposed[1]}


def test_synth_refuses_a_dataset_name_ending_in_a_hyphen(context: dict[str, Any], tmp_path: Path) -> None:
    _with_dataset(context, tmp_path, "churn-")

    with pytest.raises(
        ConfigError, match=r"mlops\.datasets\.churn-\.contract: .*ending with a letter or digit"
    ):
        load_platform(context, tmp_path)


@pytest.mark.parametrize("project", ["ml-x", "My Project", "m" * 22])
def test_a_project_name_must_not_own_another_projects_names(context: dict[str, Any], project: str) -> None:
    # "ml-x-churn" starts with "ml-", which project "ml" names and grants ("ml-*"): no hyphen in a project
    context["project"] = project

    with pytest.raises(
        ConfigError, match=r"mlops\.project: .*lowercase letters and digits, starting with a letter"
    ):
        load_platform(context, PROJECT_ROOT)
