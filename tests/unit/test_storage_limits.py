"""What the platform can hold: a contract's max_file_bytes within the validation function's /tmp and S3's
limits, at synth; a large object written in parts, with the conditional write kept."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from adapters import s3_objects
from domain.data.contract import ContractError, max_file_bytes_for, parse_contract
from stacks.app import PROJECT_ROOT, cdk_json_context
from stacks.config import ConfigError, load_platform

GIB = 1024**3
CONTRACT = {"name": "sales", "target": "y", "columns": [{"name": "y", "type": "float"}]}


@pytest.fixture
def context() -> dict[str, Any]:
    return copy.deepcopy(cdk_json_context()["mlops"])


def contract_with(tmp_path: Path, context: dict[str, Any], max_file_bytes: int) -> None:
    contract = yaml.safe_load((PROJECT_ROOT / context["datasets"]["churn"]["contract"]).read_text())
    contract["limits"]["max_file_bytes"] = max_file_bytes
    (tmp_path / "churn.json").write_text(json.dumps(contract))
    context["datasets"]["churn"]["contract"] = "churn.json"


def test_a_contract_limit_past_what_any_validation_function_holds_is_refused_by_key() -> None:
    with pytest.raises(ContractError) as refused:
        parse_contract(CONTRACT | {"limits": {"max_file_bytes": 6 * GIB}}, source="contracts/sales.yaml")

    assert str(refused.value).startswith("contracts/sales.yaml: limits.max_file_bytes: 6,442,450,944 bytes")
    assert "at most 5,368,709,120" in str(refused.value)


def test_a_contract_limit_past_the_configured_ephemeral_storage_fails_the_synth_naming_both_keys(
    context: dict[str, Any], tmp_path: Path
) -> None:
    # Given a contract that takes 4 GiB files, and a validation function with 4 GB of /tmp
    context["validation"]["ephemeral_storage_gb"] = 4
    contract_with(tmp_path, context, 4 * GIB)
    # When the configuration is loaded, then it names the contract key, the setting, and the most
    with pytest.raises(ConfigError) as refused:
        load_platform(context, tmp_path)
    message = str(refused.value)
    assert message.startswith(
        "mlops.datasets.churn.contract: churn.json: limits.max_file_bytes is 4,294,967,296"
    )
    assert "mlops.validation.ephemeral_storage_gb = 4" in message
    assert f"at most {2 * GIB:,}" in message


def test_a_contract_limit_that_fits_is_accepted(context: dict[str, Any], tmp_path: Path) -> None:
    context["validation"]["ephemeral_storage_gb"] = 4
    contract_with(tmp_path, context, 2 * GIB)

    assert load_platform(context, tmp_path).contracts["churn"].limits.max_file_bytes == 2 * GIB


def test_the_default_limit_fits_the_default_function() -> None:
    assert parse_contract(CONTRACT).limits.max_file_bytes <= max_file_bytes_for(10 * GIB)


@pytest.mark.parametrize(
    ("total", "expected"),
    [
        (1, 64 * 1024**2),
        (5 * GIB + 1, 64 * 1024**2),
        (10_000 * 64 * 1024**2 + 1, 65 * 1024**2),  # past 10,000 parts of 64 MiB: larger parts
        (5 * 1024**4, 525 * 1024**2),  # S3's largest object
    ],
)
def test_parts_stay_within_ten_thousand_and_above_five_mib(total: int, expected: int) -> None:
    size = s3_objects.part_size(total)

    assert size == expected
    assert -(-total // size) <= s3_objects.MAX_PARTS
    assert s3_objects.MIN_PART_BYTES <= size <= s3_objects.MAX_SINGLE_REQUEST_BYTES


def test_an_object_no_part_size_can_carry_is_refused() -> None:
    with pytest.raises(s3_objects.ObjectTooLargeError, match="10,000 parts of at most 5 GB"):
        s3_objects.part_size(10_000 * 5 * GIB + 1)
