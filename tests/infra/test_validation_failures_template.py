"""An upload's validation that fails for good (no code of ours left to say so) still gets its record."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import CloudAssembly
from tests.infra.template_support import VALIDATION, actions, asset_dir

pytestmark = pytest.mark.slow


def _functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n: r for n, r in template["Resources"].items() if r["Type"] == "AWS::Lambda::Function"}


def _by_variable(template: dict[str, Any], variable: str) -> str:
    """The logical id of the one function whose environment has ``variable``."""
    (name,) = [
        n
        for n, f in _functions(template).items()
        if variable in f["Properties"].get("Environment", {}).get("Variables", {})
    ]
    return name


def _recorder(template: dict[str, Any]) -> str:
    """The failure recorder (its service name is its folder's, ``lambdas/validation_failure``)."""
    (name,) = [
        n
        for n, f in _functions(template).items()
        if f["Properties"]["Environment"]["Variables"].get("POWERTOOLS_SERVICE_NAME") == "validation-failure"
    ]
    return name


def _statements(template: dict[str, Any], function: str) -> list[dict[str, Any]]:
    role = _functions(template)[function]["Properties"]["Role"]["Fn::GetAtt"][0]
    return [
        statement
        for policy in template["Resources"].values()
        if policy["Type"] == "AWS::IAM::Policy" and {"Ref": role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_a_failed_validation_invocation_goes_to_the_failure_recorder_after_two_retries(
    cloud_assembly: CloudAssembly,
) -> None:
    template = cloud_assembly.template(VALIDATION)
    validation, recorder = _by_variable(template, "CATALOG_TABLE"), _recorder(template)
    (config,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::EventInvokeConfig"]
    properties = config["Properties"]
    assert properties["FunctionName"] == {"Ref": validation}
    assert properties["Qualifier"] == "$LATEST"
    assert (properties["MaximumRetryAttempts"], properties["MaximumEventAgeInSeconds"]) == (2, 21600)
    assert properties["DestinationConfig"] == {
        "OnFailure": {"Destination": {"Fn::GetAtt": [recorder, "Arn"]}}
    }
    # the validation function may invoke the recorder (Lambda sends the record with its role), no other
    invokes = [s for s in _statements(template, validation) if "lambda:InvokeFunction" in actions(s)]
    assert {json.dumps(r) for s in invokes for r in s["Resource"]} == {
        json.dumps({"Fn::GetAtt": [recorder, "Arn"]}),
        json.dumps({"Fn::Join": ["", [{"Fn::GetAtt": [recorder, "Arn"]}, ":*"]]}),
    }
    # and what the recorder fails on itself is kept in the platform's dead-letter queue
    assert "TargetArn" in _functions(template)[recorder]["Properties"]["DeadLetterConfig"]


def test_the_failure_recorder_writes_failure_records_and_alerts_and_nothing_else(
    cloud_assembly: CloudAssembly,
) -> None:
    template = cloud_assembly.template(VALIDATION)
    statements = _statements(template, _recorder(template))
    granted = {action for statement in statements for action in actions(statement)}
    assert not any(a.startswith(("s3:Delete", "dynamodb:", "events:")) for a in granted)
    assert "sns:Publish" in granted and "s3:PutObject" in granted
    for statement in statements:
        if any(a.startswith("s3:") for a in actions(statement)):
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [
                statement["Resource"]]  # fmt: skip
            objects = [json.dumps(r) for r in resources if "/" in json.dumps(r)]
            # failure records, and the markers that say their alert was sent (read: a retry alerts
            # when the marker is missing); the bucket itself only for List (a missing marker is a 404)
            assert all(o.endswith(('/failure.json"]]}', '/failure.alerted.json"]]}')) for o in objects), (
                objects
            )
            if any(a.startswith("s3:Get") for a in actions(statement)):
                assert objects and all(o.endswith('/failure.alerted.json"]]}') for o in objects), objects
        if any(a.startswith("kms:") for a in actions(statement)):
            assert not any(a.startswith("kms:Create") or a == "kms:*" for a in actions(statement))
            assert statement["Resource"] != "*"


def test_the_failure_recorder_runs_its_own_handler_with_the_domain_package(
    cloud_assembly: CloudAssembly,
) -> None:
    template = cloud_assembly.template(VALIDATION)
    function = _functions(template)[_recorder(template)]
    asset = asset_dir(cloud_assembly.directory, function["Properties"]["Code"]["S3Key"])
    assert "record_stopped" in (asset / "handler.py").read_text()
    assert (asset / "domain" / "data" / "quarantine.py").is_file() and (
        asset / "adapters" / "upload_events.py"
    ).is_file()
    assert function["Properties"]["MemorySize"] == 256
