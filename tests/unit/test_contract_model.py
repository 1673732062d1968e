"""The dataset contract: what a valid contract is, and how a broken one is explained."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from domain.data.contract import ContractError, DatasetContract, is_valid_name, load_contract, parse_contract

REPO = Path(__file__).resolve().parents[2]


def minimal(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "churn",
        "target": "y",
        "columns": [{"name": "x", "type": "float"}, {"name": "y", "type": "boolean"}],
    }
    data.update(overrides)
    return data


def error_of(data: Any) -> str:
    with pytest.raises(ContractError) as caught:
        parse_contract(data, source="contracts/test.yaml")
    return str(caught.value)


def test_the_churn_contract_in_the_repository_is_valid() -> None:
    # Given the demo contract
    # When it is loaded
    contract = load_contract(REPO / "contracts" / "churn.yaml")
    # Then it declares 20 columns, 15 numeric and 5 categorical, with the target among them
    assert len(contract.columns) == 20
    assert sum(c.type in ("integer", "float") for c in contract.columns) == 15
    assert sum(c.type == "category" for c in contract.columns) == 5
    assert contract.target == "churned"


def test_defaults_are_strict_and_documented() -> None:
    contract = parse_contract(minimal())
    assert contract.extra_columns == "reject"
    assert contract.limits.max_file_bytes == 5 * 1024**3
    assert contract.limits.min_rows == 1
    assert contract.limits.max_columns == 1000
    assert contract.csv.delimiter == ","
    assert contract.checks.null_rate_spike.max_increase == 0.05


def test_a_contract_round_trips_through_json() -> None:
    contract = load_contract(REPO / "contracts" / "churn.yaml")
    assert DatasetContract.model_validate(contract.model_dump(mode="json")) == contract
    assert DatasetContract.model_validate_json(contract.model_dump_json()) == contract


def test_the_fingerprint_is_stable_and_changes_with_the_contract() -> None:
    a, b = parse_contract(minimal()), parse_contract(minimal())
    changed = parse_contract(minimal(extra_columns="warn"))
    assert a.fingerprint == b.fingerprint
    assert len(a.fingerprint) == 64
    assert a.fingerprint != changed.fingerprint


def test_a_contract_is_frozen() -> None:
    contract = parse_contract(minimal())
    with pytest.raises(ValueError, match="frozen"):
        contract.name = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {
                "columns": [
                    {"name": "x", "type": "integer", "min": 10, "max": 5},
                    {"name": "y", "type": "boolean"},
                ]
            },
            "contracts/test.yaml: columns.0.min: min (10) is greater than max (5)",
        ),
        (
            {"columns": [{"name": "x", "type": "category"}, {"name": "y", "type": "boolean"}]},
            "contracts/test.yaml: columns.0.categories: a category column needs a non-empty categories list",
        ),
        (
            {
                "columns": [
                    {"name": "x", "type": "string", "categories": ["a"]},
                    {"name": "y", "type": "boolean"},
                ]
            },
            "columns.0.categories: categories are only allowed for category columns, not string",
        ),
        (
            {"columns": [{"name": "x", "type": "string", "min": 1}, {"name": "y", "type": "boolean"}]},
            "columns.0.min: min is only allowed for integer and float columns, not string",
        ),
        (
            {
                "columns": [
                    {"name": "x", "type": "integer", "allow_nan_inf": True},
                    {"name": "y", "type": "boolean"},
                ]
            },
            "columns.0.allow_nan_inf: allow_nan_inf is only meaningful for float columns",
        ),
        (
            {"columns": [{"name": "x", "type": "integer", "min": True}, {"name": "y", "type": "boolean"}]},
            "columns.0.min: must be a number, got True",
        ),
        (
            {"columns": [{"name": "x", "type": "decimal"}, {"name": "y", "type": "boolean"}]},
            "columns.0.type:",
        ),
        (
            {"columns": [{"name": "y", "type": "float"}, {"name": "y", "type": "boolean"}]},
            "columns.1.name: column 'y' is declared twice (also columns.0)",
        ),
        ({"columns": []}, "columns: List should have at least 1 item"),
        ({"target": "nope"}, "target: target 'nope' is not a declared column"),
        ({"name": "Churn_Data"}, "name: dataset name 'Churn_Data' must be 2 to 63 lowercase letters"),
        ({"name": "churn-"}, "name: dataset name 'churn-' must be 2 to 63 lowercase letters"),
        ({"extra_columns": "maybe"}, "extra_columns: Input should be 'reject', 'warn' or 'ignore'"),
        ({"owner": "me"}, "owner: Extra inputs are not permitted"),
        ({"limits": {"max_columns": 1}}, "limits.max_columns: the contract declares 2 columns"),
        ({"checks": {"null_rate_spike": {"max_increase": 2}}}, "checks.null_rate_spike.max_increase:"),
        ({"csv": {"delimiter": ";;"}}, "csv.delimiter:"),
        (
            {"csv": {"true_values": ["1"], "false_values": ["1"]}},
            "csv.false_values: values are both true and false",
        ),
    ],
)
def test_an_invalid_contract_is_explained_with_the_file_and_field_path(
    change: dict[str, Any], expected: str
) -> None:
    # Given a contract with one mistake, when it is parsed, then the message points at the field
    assert expected in error_of(minimal(**change))


def test_every_problem_is_listed_not_only_the_first() -> None:
    message = error_of(minimal(name="X", extra_columns="maybe"))
    assert "name:" in message
    assert "extra_columns:" in message


def test_load_contract_reads_yaml_and_json(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps(minimal()))
    (tmp_path / "b.yml").write_text("name: churn\ntarget: y\ncolumns:\n  - {name: y, type: boolean}\n")
    assert load_contract(tmp_path / "a.json").name == "churn"
    assert load_contract(tmp_path / "b.yml").columns[0].name == "y"


def test_load_contract_names_the_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "churn.yaml"
    path.write_text("name: churn\ntarget: y\ncolumns:\n  - {name: y, type: integer, min: 10, max: 5}\n")
    with pytest.raises(
        ContractError, match=r"churn\.yaml: columns\.0\.min: min \(10\) is greater than max \(5\)"
    ):
        load_contract(path)


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("bad.yaml", "name: [unclosed\n", "invalid YAML"),
        ("bad.json", "{not json", "invalid JSON"),
        ("list.yaml", "- a\n- b\n", "a contract must be a mapping"),
        ("contract.toml", "name = 'x'", "unsupported contract file type"),
    ],
)
def test_unreadable_contract_files_raise_contract_error(
    tmp_path: Path, name: str, text: str, expected: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ContractError, match=expected) as caught:
        load_contract(path)
    assert name in str(caught.value)


def test_a_missing_file_raises_contract_error(tmp_path: Path) -> None:
    with pytest.raises(ContractError, match="cannot read the contract"):
        load_contract(tmp_path / "absent.yaml")


def test_the_contract_module_imports_nothing_heavy() -> None:
    # The CDK app imports the contract at synth: it must not pull pyarrow, numpy or yaml with it.
    import subprocess
    import sys

    code = (
        "import sys, domain.data.contract; "
        "print(sorted(m for m in ('pyarrow', 'numpy', 'yaml', 'boto3') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("churn", True),
        ("churn-2024", True),
        ("c", False),
        ("Churn", False),
        ("churn_2024", False),
        ("2024-churn", False),
        ("a" * 63, True),
        ("a" * 64, False),
        ("churn-", False),  # SageMaker names cannot end in a hyphen: the group would be refused
        ("churn--2024", True),  # as SageMaker allows
    ],
)
def test_dataset_names_are_lowercase_identifiers(name: str, valid: bool) -> None:
    assert is_valid_name(name) is valid
