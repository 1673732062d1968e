"""The training configuration of a team's own model and of imported models' trusted types."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from domain.data.contract import DatasetContract, load_contract, parse_contract
from domain.training.config import TrainingConfig, TrainingConfigError, parse_training_config
from domain.training.model_config import ImportsConfig, TeamModule

ROOT = Path(__file__).resolve().parents[2]
SOURCE = "cdk.json: mlops.datasets.churn.training"
TEAM = {"module": "models/churn.py", "builder": "build"}


@pytest.fixture(scope="module")
def churn() -> DatasetContract:
    return load_contract(ROOT / "contracts" / "churn.yaml")


def error_of(data: Any, contract: DatasetContract) -> str:
    with pytest.raises(TrainingConfigError) as caught:
        parse_training_config(data, contract=contract, source=SOURCE)
    return str(caught.value)


def test_a_team_module_keeps_its_hyperparameters_as_given_and_round_trips(churn: DatasetContract) -> None:
    # Given a team's module with hyperparameters of every JSON kind, and trusted types for imports
    hyperparameters = {
        "n_estimators": 300,
        "rate": 0.05,
        "objective": "binary",
        "layers": [64, {"drop": None}],
    }
    data = {
        "model": TEAM | {"hyperparameters": hyperparameters, "seed": 7},
        "imports": {"trusted_types": ["lightgbm.sklearn.LGBMClassifier", "lightgbm.basic.Booster"]},
    }

    # When it is resolved, dumped as training.json and read back as the Lambdas read it
    config = parse_training_config(data, contract=churn)
    dumped = config.model_dump(mode="json")

    # Then the module, the builder and the hyperparameters are as given, under family "module"
    assert config.model == TeamModule(
        module="models/churn.py", builder="build", hyperparameters=hyperparameters, seed=7
    )
    assert dumped["model"]["family"] == "module"
    assert dumped["imports"] == data["imports"]
    assert TrainingConfig.model_validate(dumped) == config
    assert parse_training_config(dumped, contract=churn) == config


def test_no_trusted_types_are_configured_by_default(churn: DatasetContract) -> None:
    config = parse_training_config({}, contract=churn)

    assert config.imports == ImportsConfig(trusted_types=[])
    assert config.model_dump(mode="json")["imports"] == {"trusted_types": []}


def test_a_team_model_may_do_regression_with_any_hyperparameter_name() -> None:
    # Given a float target (regression), which logistic regression cannot do, and a key a family would refuse
    contract = parse_contract(
        {
            "name": "small",
            "target": "y",
            "columns": [{"name": "x", "type": "float"}, {"name": "y", "type": "float"}],
        }
    )
    data = {"model": TEAM | {"hyperparameters": {"class_weight": "balanced", "anything": 1}}}

    # When it is resolved
    config = parse_training_config(data, contract=contract)

    # Then the builder is trusted with the task: no family's check applies
    assert config.task == "regression"
    assert config.model.hyperparameters == {"class_weight": "balanced", "anything": 1}


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (
            {"family": "xgboost"},
            "model.family: unknown model family 'xgboost'; use one of hist_gradient_boosting, random_forest, "
            "logistic_regression, linear_regression, or name your own with module and builder",
        ),
        (
            {},
            "model.family: missing; use one of hist_gradient_boosting, random_forest, logistic_regression, ",
        ),
        ("random_forest", 'model: must be a mapping: {"family": ...} or {"module": ..., "builder": ...}'),
        (
            TEAM | {"family": "random_forest"},
            "model.family: family 'random_forest' and module are both given: choose one, family for a "
            "built-in model or module and builder for your own",
        ),
        (
            {"family": "module", "builder": "build"},
            "model.module: missing: the path of your module, relative to",
        ),
        (
            {"module": "models/churn.py"},
            "model.builder: missing: the name of the function in your module that",
        ),
        (
            TEAM | {"module": "/srv/models/churn.py"},
            "model.module: '/srv/models/churn.py' must be a path relative",
        ),
        (
            TEAM | {"module": "models\\churn.py"},
            "model.module: 'models\\\\churn.py' must be a path relative to the",
        ),
        (
            TEAM | {"module": "C:/models/churn.py"},
            "model.module: 'C:/models/churn.py' must be a path relative to",
        ),
        (
            TEAM | {"module": "../models/churn.py"},
            "model.module: '../models/churn.py' leaves the project ('..')",
        ),
        (TEAM | {"module": "models/churn.ipynb"}, "model.module: 'models/churn.ipynb' must be a Python file"),
        (
            TEAM | {"module": "models/churn-v2.py"},
            "model.module: 'models/churn-v2.py': 'churn-v2' cannot be imported",
        ),
        (
            TEAM | {"module": "models/class.py"},
            "model.module: 'models/class.py': 'class' cannot be imported as a",
        ),
        (
            TEAM | {"module": "churn.py"},
            "model.module: 'churn.py' must be in a folder of its own (e.g. models/churn",
        ),
        (
            TEAM | {"module": "models/__init__.py"},
            "model.module: 'models/__init__.py' is the folder's package file, not a module of its own: put "
            "the builder in a module beside it (e.g. models/model.py)",
        ),
        (
            TEAM | {"module": "./models/./__init__.py"},
            "model.module: './models/./__init__.py' is the folder's package file",
        ),
        (TEAM | {"builder": "build model"}, "model.builder: 'build model' is not a Python function name"),
        (TEAM | {"builder": "lambda"}, "model.builder: 'lambda' is not a Python function name"),
        (TEAM | {"seed": "one"}, "model.seed: Input should be a valid integer"),
        # random_state is numpy's seed, 0 to 2**32 - 1: out of it the job would fail, not the synth
        (TEAM | {"seed": -1}, "model.seed: Input should be greater than or equal to 0"),
        (
            {"family": "random_forest", "seed": 2**32},
            "model.seed: Input should be less than or equal to 4294967295",
        ),
        (TEAM | {"hyperparameter": {}}, "model.hyperparameter: unknown key"),
        (TEAM | {"hyperparameters": [1]}, "model.hyperparameters: Input should be a valid dictionary"),
    ],
)
def test_a_mistake_in_a_team_model_is_reported_at_its_key(
    churn: DatasetContract, model: Any, expected: str
) -> None:
    message = error_of({"model": model}, churn)

    assert message.startswith(f"{SOURCE}.{expected}"), message


@pytest.mark.parametrize(
    "spelling",
    ["models/churn.py", "./models/churn.py", "models//churn.py", "models/./churn.py", ".//models/churn.py"],
)
def test_every_spelling_of_a_module_path_is_kept_as_one(churn: DatasetContract, spelling: str) -> None:
    # Given the same module named with a leading ./, a doubled / or a /./ inside
    model = {"module": spelling, "builder": "build"}

    # When the configuration is parsed
    config = parse_training_config({"model": model}, contract=churn, source=SOURCE)

    # Then the module is recorded as one path (the lineage's and the job's), without ./ or doubled /
    assert isinstance(config.model, TeamModule)
    assert config.model.module == "models/churn.py"
    assert config.model_dump(mode="json")["model"]["module"] == "models/churn.py"


def test_a_wrong_module_and_builder_are_two_lines(churn: DatasetContract) -> None:
    lines = error_of({"model": {"module": "../x.py", "builder": "class"}}, churn).splitlines()

    assert [line.removeprefix(f"{SOURCE}.").split(":")[0] for line in lines] == [
        "model.module",
        "model.builder",
    ]


@pytest.mark.parametrize(
    ("trusted_types", "expected"),
    [
        (
            ["LGBMClassifier"],
            "imports.trusted_types.0: 'LGBMClassifier' is not a type's dotted name: write "
            "package.module.Name",
        ),
        (
            ["lightgbm.sklearn.LGBMClassifier", "lightgbm..Booster"],
            "imports.trusted_types.1: 'lightgbm..Booster'",
        ),
        (
            ["lightgbm.sklearn.LGBMClassifier()"],
            "imports.trusted_types.0: 'lightgbm.sklearn.LGBMClassifier()'",
        ),
        ([3], "imports.trusted_types.0: Input should be a valid string"),
        ("lightgbm.sklearn.LGBMClassifier", "imports.trusted_types: Input should be a valid list"),
        (
            ["a.B", "c.D", "a.B", "c.D", "e.F"],
            "imports.trusted_types: listed more than once: a.B, c.D",
        ),
    ],
)
def test_a_trusted_type_that_is_not_a_dotted_name_is_refused_at_its_index(
    churn: DatasetContract, trusted_types: Any, expected: str
) -> None:
    message = error_of({"imports": {"trusted_types": trusted_types}}, churn)

    assert message.startswith(f"{SOURCE}.{expected}"), message


def test_an_unknown_imports_key_is_refused(churn: DatasetContract) -> None:
    assert error_of({"imports": {"trusted": []}}, churn) == f"{SOURCE}.imports.trusted: unknown key"
