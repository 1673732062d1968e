"""spec.features and spec.hyperparameters: the rules that the configuration's check (at synth) and the
training job (at run time) both apply, written once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from domain.data.contract import load_contract
from domain.training.config import TrainingConfig, TrainingConfigError, feature_columns, parse_training_config
from spec.features import is_feature
from spec.hyperparameters import FAMILIES, FAMILY_TASKS, Parameter, defaults
from training.mlops_training import families
from training.mlops_training.contract_io import TrainingInputError, signature_from

ROOT = Path(__file__).resolve().parents[2]


def test_a_feature_is_any_column_but_the_target_the_split_key_an_excluded_one_or_free_text() -> None:
    rule = {"target": "churned", "key_column": "customer_id", "exclude_columns": ["age"]}

    assert is_feature("tenure_months", "integer", **rule)
    assert is_feature("plan", "category", **rule) and is_feature("signed_up", "timestamp", **rule)
    assert not is_feature("churned", "boolean", **rule)
    assert not is_feature("customer_id", "integer", **rule)
    assert not is_feature("age", "float", **rule)
    assert not is_feature("notes", "string", **{**rule, "key_column": None})


def test_the_configuration_and_the_job_s_signature_take_the_spec_s_features_in_contract_order() -> None:
    churn = load_contract(ROOT / "contracts" / "churn.yaml")
    training = {"split": {"key_column": "region"}, "exclude_columns": ["age"]}
    config = parse_training_config(training, contract=churn)
    expected = [
        c.name
        for c in churn.columns
        if is_feature(c.name, c.type, target=churn.target, key_column="region", exclude_columns=["age"])
    ]

    signature = signature_from(churn.model_dump(mode="json"), config.model_dump(mode="json"))

    assert "region" not in expected and "age" not in expected and churn.target not in expected
    assert [c.name for c in feature_columns(churn, config)] == expected
    assert [f.name for f in signature.features] == expected


@pytest.mark.parametrize("family", list(FAMILIES))
def test_a_family_s_defaults_are_what_the_configuration_resolves_and_the_job_starts_from(family: str) -> None:
    task = sorted(FAMILY_TASKS[family])[0]
    model = TrainingConfig.model_validate({"task": task, "model": {"family": family}}).model

    assert model.hyperparameters.model_dump() == defaults(family)
    assert families.resolve_hyperparameters(family, {}, {}) == defaults(family)
    assert all(parameter.accepts(parameter.default) for parameter in FAMILIES[family].values())


def _outside(parameter: Parameter) -> list[Any]:
    """Numbers just past each of the parameter's bounds."""
    values = [parameter.ge - 1] if parameter.ge is not None else []
    values += [parameter.gt] if parameter.gt is not None else []
    return values + ([parameter.le + 1] if parameter.le is not None else [])


@pytest.mark.parametrize(
    ("family", "name"),
    [(f, n) for f, table in FAMILIES.items() for n, p in table.items() if _outside(p)],
)
def test_the_configuration_refuses_a_number_past_the_table_s_bounds(family: str, name: str) -> None:
    parameter = FAMILIES[family][name]
    task = sorted(FAMILY_TASKS[family])[0]
    churn = load_contract(ROOT / "contracts" / "churn.yaml")

    for value in _outside(parameter):
        assert not parameter.accepts(value)
        data = {"task": task, "model": {"family": family, "hyperparameters": {name: value}}}
        with pytest.raises(TrainingConfigError, match=f"model.hyperparameters.{name}:"):
            parse_training_config(data, contract=churn)


def test_a_parameter_says_what_it_accepts_and_the_job_decodes_text_to_its_kinds() -> None:
    max_features = FAMILIES["random_forest"]["max_features"]

    assert max_features.expected() == "a fraction in (0, 1], 'sqrt', 'log2' or null"
    assert [max_features.accepts(v) for v in (0.5, 1, "sqrt", None, 1.5, "all", True)] == [
        True, True, True, True, False, False, False,
    ]  # fmt: skip
    assert families.coerce("random_forest", "max_features", "sqrt") == "sqrt"
    assert families.coerce("random_forest", "max_depth", "None") is None
    assert families.coerce("hist_gradient_boosting", "max_iter", "3.0") == 3
    with pytest.raises(TrainingInputError, match="expected bool"):
        families.coerce("random_forest", "bootstrap", "7")
