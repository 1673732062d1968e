"""AWS's name rules (domain/name_rules.py): as AWS's API model states them, and what they refuse."""

from __future__ import annotations

import re

import botocore.session
import pytest

from domain import name_rules as rules
from domain import names
from domain.name_rules import NameRule
from domain.names import fit

# The rules whose limits botocore's copy of AWS's API model carries (S3 keys, stack and dashboard names it
# does not: the dashboard's are in its member's documentation, checked below).
MODELLED = [rule for rule in rules.RULES if rule not in (rules.S3_KEY, rules.STACK, rules.DASHBOARD)]


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
        (rules.DASHBOARD, "mlops-churn_1", True),
        (rules.DASHBOARD, "d" * 255, True),
        (rules.DASHBOARD, "d" * 256, False),
        (rules.DASHBOARD, "mlops.churn", False),
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


def test_the_dashboard_rule_is_the_one_putdashboard_documents() -> None:
    shape = botocore.session.get_session().get_service_model("cloudwatch")
    member = shape.operation_model("PutDashboard").input_shape.members["DashboardName"]

    assert "The maximum length is 255" in member.documentation
    assert '"-", and "_"' in member.documentation


@pytest.mark.parametrize("version", [1, 7, 999_999_999])
def test_a_versions_capture_prefix_reads_back_as_its_version(version: int) -> None:
    # Given the prefix version v of churn captures to, and a key SageMaker writes under it
    prefix = names.capture_uri_prefix("churn", version)
    key = f"{prefix}mlops-churn/AllTraffic/2026/12/06/17/59-59-999-{'f' * 36}.jsonl"

    # Then the prefix is capture/<dataset>/v<version>/ and both read back as the version
    assert prefix == f"capture/churn/v{version}/"
    assert names.capture_version(key, "churn") == version
    assert names.capture_version(prefix, "churn") == version


@pytest.mark.parametrize(
    "key",
    [
        "capture/churn/mlops-churn/AllTraffic/2026/12/06/17/59-59-999-x.jsonl",  # before versions
        "capture/churn/v3-churn/AllTraffic/2026/12/06/17/x.jsonl",  # an endpoint of project "v3"
        "capture/churn/v03/mlops-churn/x.jsonl",  # never written: versions have no leading zero
        "capture/churn/v0/mlops-churn/x.jsonl",  # model package versions start at 1
        "capture/churn/v/x.jsonl",
        "capture/churn/v3",  # the version's folder, unfinished
        "capture/churnx/v3/mlops-churnx/x.jsonl",  # another dataset that starts alike
        "capture/other/v3/mlops-other/x.jsonl",
        "monitoring/churn/v3/x.jsonl",
    ],
)
def test_a_key_outside_a_versions_captures_has_no_version(key: str) -> None:
    assert names.capture_version(key, "churn") is None


def test_monitoring_names() -> None:
    assert names.monitoring_prefix("churn") == "monitoring/churn/"
    assert names.drift_alarm_name("mlops-churn") == "mlops-churn-drift"
    assert names.no_traffic_alarm_name("mlops-churn") == "mlops-churn-no-traffic"
    assert names.no_new_data_alarm_name("mlops", "churn") == "mlops-churn-no-new-data"
    assert names.dashboard_name("mlops", "churn") == "mlops-churn"
