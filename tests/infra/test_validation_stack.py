"""The validation stack's template: the wiring of uploads to the validation function, least privilege."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from tests.conftest import CloudAssembly
from tests.infra.template_support import asset_dir, function_named, function_statements, of_type

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def template(validation: dict[str, Any]) -> Template:
    return Template.from_json(validation)


def test_dead_letters_are_encrypted(template: Template) -> None:
    template.has_resource_properties("AWS::SQS::Queue", {"KmsMasterKeyId": Match.any_value()})


def test_uploads_under_incoming_reach_the_validation_function(template: Template) -> None:
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.s3"],
                "detail-type": ["Object Created"],
                "detail": {
                    "bucket": {"name": [Match.any_value()]},
                    "object": {"key": [{"prefix": "incoming/"}]},
                },
            },
            "Targets": [
                Match.object_like(
                    {
                        "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 21600},
                        "DeadLetterConfig": {"Arn": Match.any_value()},
                    }
                )
            ],
        },
    )


def test_the_validation_function_is_sized_for_one_vcpu_and_traced(template: Template) -> None:
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Runtime": "python3.14",
            "Architectures": ["arm64"],
            "MemorySize": 1769,
            "Timeout": 900,
            "EphemeralStorage": {"Size": 10240},
            "TracingConfig": {"Mode": "Active"},
            "Layers": [Match.any_value()],
            "Environment": {
                "Variables": Match.object_like(
                    {"DATA_BUCKET": Match.any_value(), "CATALOG_TABLE": Match.any_value(),
                     "EVENT_BUS_NAME": Match.any_value(), "ALERTS_TOPIC_ARN": Match.any_value()}
                )
            },
        },
    )  # fmt: skip


def _object_prefixes(statements: list[dict[str, Any]], action: str) -> set[str]:
    """The key prefixes (``<bucket arn>/<prefix>/*``) on which the statements allow ``action``."""
    prefixes = set()
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if any(a == action or (a.endswith("*") and action.startswith(a[:-1])) for a in actions):
            prefixes.update(re.findall(r'"/([^"/]+/)\*"', json.dumps(statement["Resource"])))
            assert '"/*"' not in json.dumps(statement["Resource"]), f"{action} on every object"
    return prefixes


def test_the_validation_function_reads_and_writes_only_its_prefixes(validation: dict[str, Any]) -> None:
    statements = function_statements(validation, "dataset_validation")
    assert statements, "the validation function's role has a policy"
    assert _object_prefixes(statements, "s3:GetObject") == {"incoming/", "datasets/"}
    assert _object_prefixes(statements, "s3:PutObject") == {"datasets/", "quarantine/"}
    # in quarantine/, it reads only the markers that say a report's alert was sent
    reads = [s for s in statements if any(a.startswith("s3:GetObject") for a in s["Action"])]
    quarantined = [r for s in reads for r in s["Resource"] if "quarantine/" in json.dumps(r)]
    assert [json.dumps(r).endswith('/quarantine/*.alerted.json"]]}') for r in quarantined] == [True]
    assert not any("s3:DeleteObject" in json.dumps(statement["Action"]) for statement in statements)


def test_the_function_asset_carries_the_contracts_synth_validated(
    cloud_assembly: CloudAssembly, validation: dict[str, Any]
) -> None:
    function = validation["Resources"][function_named(validation, "dataset_validation")]
    asset = asset_dir(cloud_assembly.directory, function["Properties"]["Code"]["S3Key"])
    assert (asset / "handler.py").is_file()
    assert (asset / "domain" / "data" / "contract.py").is_file()
    assert (asset / "adapters" / "storage.py").is_file()
    contracts = json.loads((asset / "contracts.json").read_text())
    assert set(contracts) == {"churn"}
    assert contracts["churn"]["target"]


def test_the_dependency_layer_is_built_for_the_functions_platform_and_fits_lambda(
    cloud_assembly: CloudAssembly, validation: dict[str, Any]
) -> None:
    layer = next(iter(of_type(validation, "AWS::Lambda::LayerVersion").values()))
    asset = asset_dir(cloud_assembly.directory, layer["Properties"]["Content"]["S3Key"])
    assert list((asset / "python" / "pyarrow").glob("lib.cpython-314-aarch64-linux-gnu.so"))
    size = sum(path.stat().st_size for path in asset.rglob("*") if path.is_file())
    assert size < 240 * 1024 * 1024, f"layer is {size / 2**20:.0f} MB unzipped; Lambda allows 250 MB in all"
