"""The local cloud's name checks (localcloud/resource_names.py) are AWS's: as its API model states them."""

from __future__ import annotations

from typing import Any

import botocore.session
import pytest

from localcloud.resource_names import CHECKS, NameCheck, problems

CASES = [
    (service, action, check)
    for service, actions in CHECKS.items()
    for action, checks in actions.items()
    for check in checks
]


# Where AWS documents a rule its API model does not carry: PutMetricAlarm's AlarmName "must contain
# only UTF-8 characters, and can't contain ASCII control characters" (API_PutMetricAlarm.html).
DOCUMENTED_ONLY = {("PutMetricAlarm", "AlarmName"): r"[^\x00-\x1f\x7f]+"}


def _member_shape(service: str, action: str, member: str) -> Any:
    shape = botocore.session.get_session().get_service_model(service).operation_model(action).input_shape
    for part in member.split("."):
        shape = shape.members[part.removesuffix("[]")]
        if shape.type_name == "list":
            shape = shape.member
    return shape


@pytest.mark.parametrize(
    ("service", "action", "check"), CASES, ids=[f"{action}.{check.member}" for _, action, check in CASES]
)
def test_each_check_is_the_constraint_in_awss_api_model(service: str, action: str, check: NameCheck) -> None:
    metadata = _member_shape(service, action, check.member).metadata

    pattern = metadata.get("pattern") or DOCUMENTED_ONLY[(action, check.member)]
    assert (check.max_length, check.pattern) == (metadata["max"], pattern)


def test_each_broken_member_is_reported_in_awss_words() -> None:
    request = {
        "EndpointConfigName": "c-",
        "ProductionVariants": [{"VariantName": "ok"}, {"VariantName": "v" * 64}],
    }

    found = problems("sagemaker", "CreateEndpointConfig", request.get)

    assert found == [
        "Value 'c-' at 'endpointConfigName' failed to satisfy constraint: Member must satisfy regular "
        "expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$",
        f"Value '{'v' * 64}' at 'productionVariants.2.member.variantName' failed to satisfy constraint: "
        "Member must have length less than or equal to 63",
    ]
    assert problems("sagemaker", "DescribeEndpoint", {"EndpointName": "e-"}.get) == []


def test_a_rollback_alarm_deep_in_the_request_is_found() -> None:
    alarms = {"AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "ok"}, {"AlarmName": "  "}]}}
    request = {"EndpointName": "e", "EndpointConfigName": "c", "DeploymentConfig": alarms}

    (found,) = problems("sagemaker", "UpdateEndpoint", request.get)

    assert found.startswith(
        "Value '  ' at 'deploymentConfig.autoRollbackConfiguration.alarms.2.member.alarmName'"
    )
