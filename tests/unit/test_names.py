"""AWS's name rules (domain/name_rules.py): as AWS's API model states them, and what they refuse."""

from __future__ import annotations

import re

import botocore.session
import pytest

from domain import name_rules as rules
from domain import names
from domain.name_rules import NameRule
from domain.names import fit

# The rules whose limits botocore's copy of AWS's API model carries (S3 keys and stack names it does not).
MODELLED = [rule for rule in rules.RULES if rule not in (rules.S3_KEY, rules.STACK)]


@pytest.mark.parametrize("rule", MODELLED, ids=lambda rule: f"{rule.operation}.{rule.member}")
def test_each_rule_is_the_one_in_awss_api_model(rule: NameRule) -> None:
    model = botocore.session.get_session().get_service_model(rule.service)
    shape = model.operation_model(rule.operation).input_shape.members[rule.member]

    assert shape.metadata["max"] == rule.max_length
    if "pattern" in shape.metadata:
        assert rule.pattern == shape.metadata["pattern"]


SAGEMAKER_RULES = [rules.MODEL_PACKAGE_GROUP, rules.MODEL_CARD, rules.TRAINING_JOB, rules.MODEL,
                   rules.ENDPOINT_CONFIG, rules.ENDPOINT]  # fmt: skip


@pytest.mark.parametrize("rule", SAGEMAKER_RULES, ids=lambda rule: rule.operation)
@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("mlops-churn", None),
        ("a", None),
        ("a--b", None),
        ("a" * 63, None),
        ("mlops-churn-", "ends in a hyphen"),
        ("-churn", "shape that are not allowed"),
        ("a" * 64, "is 64 characters, more than 63"),
        ("mlops_churn", "shape that are not allowed"),
        ("", "is empty"),
    ],
)
def test_sagemaker_names_are_63_letters_digits_and_inner_hyphens(
    rule: NameRule, name: str, problem: str | None
) -> None:
    found = rule.problem(name)

    assert found == problem if problem is None else problem in (found or "")


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("churn-0123456789ab-retrain-drift_1", True),
        ("a" * 80, True),
        ("a" * 81, False),
        ("churn run", False),
        ("churn/run", False),
        ("churn[1]", False),
        ("churn*", False),
        ("churn\x7f", False),
        ("churn\u0085", False),  # a C1 control character
        ("churn\ufffe", False),
        ("churn\ud800", False),  # a lone surrogate
        ("", False),
    ],
)
def test_step_functions_execution_names(name: str, valid: bool) -> None:
    assert (rules.EXECUTION.problem(name) is None) is valid


@pytest.mark.parametrize(
    ("rule", "name", "valid"),
    [
        (rules.ALARM, "mlops-churn-model-latency", True),
        (rules.ALARM, "   ", False),  # refused as a rollback alarm of UpdateEndpoint
        (rules.ALARM, "mlops-churn\tlatency", False),
        (rules.ALARM, "a" * 256, False),
        (rules.S3_KEY, "k" * 1024, True),
        (rules.S3_KEY, "k" * 1025, False),
        (rules.S3_KEY, "é" * 512, True),  # 1,024 bytes of UTF-8
        (rules.S3_KEY, "é" * 513, False),
        (rules.STACK, "mlops-data", True),
        (rules.STACK, "1mlops-data", False),
        (rules.EVENT_BUS, "mlops-platform", True),
        (rules.EVENT_BUS, "mlops platform", False),
    ],
)
def test_other_rules(rule: NameRule, name: str, valid: bool) -> None:
    assert (rule.problem(name) is None) is valid


def test_fit_keeps_a_short_name_and_shortens_a_long_one_with_a_stable_hash() -> None:
    assert fit("mlops-churn", 63) == "mlops-churn"

    # A cut that falls on a hyphen must not leave one before the hash's separator.
    long = "a" * 53 + "-" + "b" * 20
    fitted = fit(long, 63)
    other = fit("a" * 53 + "-" + "c" * 20, 63)

    assert len(fitted) <= 63 and rules.MODEL.problem(fitted) is None
    assert re.fullmatch(r"a{53}-[0-9a-f]{8}", fitted)
    assert fitted == fit(long, 63) and fitted != other


def test_a_dataset_s_group_reads_back_as_the_dataset_and_no_other_project_s_group_does() -> None:
    # Given the prefix of project "mlops"
    prefix = names.group_prefix("mlops")

    # When a dataset's group is built and read back, and groups of other projects are read
    group = names.model_package_group(prefix, "churn")

    # Then the group is <project>-<dataset>, it gives the dataset back, and the others give nothing
    assert group == "mlops-churn"
    assert names.dataset_of_group(prefix, group) == "churn"
    assert names.dataset_of_group(prefix, "mlopsx-churn") is None
    assert names.dataset_of_group(prefix, "other-churn") is None
    assert names.dataset_of_group(prefix, prefix) is None
