"""A team's own model in the training job: the contract its builder gets, the builder imported, called
and checked, and the choice of estimator from training.json (the example team model has
test_example_team_model.py).

Team code folders are written under tmp_path with names of their own (a module imported once stays in
``sys.modules``); what a test puts on ``sys.path`` or imports is removed after it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.import_isolation import isolated_imports
from training.mlops_training.contract_io import (
    Feature,
    Signature,
    TrainingInputError,
)
from training.mlops_training.environment import JobEnvironment
from training.mlops_training.model_choice import choose_model, fit
from training.mlops_training.team import (
    ModelContract,
    TeamModule,
    build,
    check_fitted_classes,
    decode_overrides,
    import_builder,
    module_sha256,
    team_module,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = TeamModule("examples/team_models/churn_xgboost.py", "build")
FEATURES = (
    Feature("age", "integer"),
    Feature("plan", "category", ("basic", "premium")),
    Feature("charges", "float", nullable=True),
)
CONTRACT = ModelContract("classification", Feature("churned", "integer"), FEATURES, None, 7)


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with isolated_imports(monkeypatch):
        yield


def team_folder(root: Path, name: str, source: str) -> TeamModule:
    """A source directory's team code folder ``name`` with ``model.py``; the module as configured."""
    (root / name).mkdir(parents=True)
    (root / name / "model.py").write_text(source, encoding="utf-8")
    return TeamModule(f"models/{name}/model.py", "build")


def environment(tmp_path: Path, overrides: dict[str, Any] | None = None) -> JobEnvironment:
    return JobEnvironment(tmp_path / "model", tmp_path / "output", {}, {"dataset": "churn"}, overrides or {})


def test_the_contract_gives_feature_matrix_positions_by_name_and_by_type() -> None:
    assert CONTRACT.column("plan") == 1
    assert CONTRACT.columns("integer", "float") == [0, 2]
    assert CONTRACT.columns("category") == [1]
    assert CONTRACT.columns("boolean") == []


def test_an_unknown_feature_name_is_a_clear_error_listing_the_features() -> None:
    with pytest.raises(TrainingInputError) as unknown:
        CONTRACT.column("tenure")

    assert str(unknown.value) == "the contract has no feature 'tenure'; its features are: age, plan, charges"


def test_a_module_is_imported_as_its_folder_and_stem() -> None:
    module = team_module({"family": "module", "module": "models/team/churn.py", "builder": "make"})

    assert module == TeamModule("models/team/churn.py", "make")
    assert (module.folder_name, module.import_name) == ("team", "team.churn")
    assert team_module({"family": "random_forest"}) is None
    with pytest.raises(TrainingInputError, match=r"model\.module and model\.builder must be strings"):
        team_module({"module": "m.py"})


def test_sagemaker_overrides_are_decoded_from_json_when_they_parse_else_kept_as_text() -> None:
    decoded = decode_overrides(
        {"n_estimators": "300", "rate": "0.1", "layers": "[8, 4]", "note": "wide", "n": 3}
    )

    assert decoded == {"n_estimators": 300, "rate": 0.1, "layers": [8, 4], "note": "wide", "n": 3}


def test_the_builder_is_imported_from_the_source_directory_and_called_with_the_contract(
    tmp_path: Path,
) -> None:
    module = team_folder(
        tmp_path,
        "team_called",
        "from sklearn.linear_model import LogisticRegression\n\n"
        "def build(contract, hyperparameters):\n"
        "    return LogisticRegression(C=hyperparameters['C'], random_state=contract.seed)\n",
    )

    estimator = build(import_builder(module, tmp_path), module, CONTRACT, {"C": 0.5})

    assert (estimator.C, estimator.random_state) == (0.5, 7)
    assert (
        module_sha256(module, tmp_path)
        == hashlib.sha256((tmp_path / "team_called" / "model.py").read_bytes()).hexdigest()
    )


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "def make(contract, hyperparameters):\n    return None\n",
            "models/team_nobuilder/model.py has no function 'build'",
        ),
        (
            "raise RuntimeError('needs a GPU')\n",
            "importing models/team_nobuilder/model.py raised RuntimeError: needs a GPU",
        ),
        ("build = 3\n", "models/team_nobuilder/model.py has no function 'build'"),
    ],
    ids=["no builder", "raises on import", "not callable"],
)
def test_a_module_without_a_usable_builder_fails_saying_which(
    tmp_path: Path, source: str, message: str
) -> None:
    module = team_folder(tmp_path, "team_nobuilder", source)

    with pytest.raises(TrainingInputError) as refused:
        import_builder(module, tmp_path)

    assert str(refused.value).startswith(message)


def test_a_module_the_source_directory_lacks_says_where_it_was_expected(tmp_path: Path) -> None:
    with pytest.raises(TrainingInputError, match=r"^models/absent/m\.py is not in the source directory"):
        import_builder(TeamModule("models/absent/m.py", "build"), tmp_path)


def test_a_builder_that_raises_fails_with_its_own_text_prefixed_by_where() -> None:
    def builder(contract: ModelContract, hyperparameters: dict[str, Any]) -> Any:
        raise ValueError(f"no column {hyperparameters['column']}\n in the contract")

    with pytest.raises(TrainingInputError) as raised:
        build(builder, EXAMPLE, CONTRACT, {"column": "tenure"})

    assert str(raised.value) == (
        "the builder build in examples/team_models/churn_xgboost.py raised ValueError: no column tenure in "
        "the contract"
    )


@pytest.mark.parametrize(
    ("returned", "message"),
    [
        ([], "build returned a list (without fit, predict, predict_proba)"),
        (None, "build returned a NoneType (without fit, predict, predict_proba)"),
        ("regressor", "build returned a LinearRegression (without predict_proba)"),
    ],
)
def test_a_builder_that_returns_no_estimator_for_the_task_says_what_to_return(
    returned: Any, message: str
) -> None:
    from sklearn.linear_model import LinearRegression

    value = LinearRegression() if returned == "regressor" else returned

    with pytest.raises(TrainingInputError) as refused:
        build(lambda contract, hyperparameters: value, EXAMPLE, CONTRACT, {})

    assert str(refused.value) == (
        f"examples/team_models/churn_xgboost.py: {message}; return an unfitted estimator with fit and "
        "predict (and predict_proba for classification)"
    )


def test_a_fitted_classifier_without_classes_is_a_clear_error() -> None:
    class NoClasses:
        def predict(self, x: Any) -> Any:
            return x

    with pytest.raises(TrainingInputError, match=r"^the team model: the fitted classifier has no classes_"):
        check_fitted_classes(NoClasses(), "the team model", CONTRACT.target, [0, 1])


def test_a_team_classifier_whose_classes_are_not_the_targets_labels_is_refused_naming_both() -> None:
    # Given a classifier that learnt the labels encoded (0, 1) and answers with the codes, not the labels
    class Encoded:
        classes_ = np.array([0, 1])

    target = Feature("churned", "category", ("stayed", "left"))

    # When its classes are checked against the train rows' labels
    with pytest.raises(TrainingInputError) as refused:
        check_fitted_classes(Encoded(), "the model from build in models/churn.py", target, ["left", "stayed"])

    # Then the refusal names both, where the job would otherwise fail comparing codes with labels
    assert str(refused.value) == (
        "the model from build in models/churn.py predicts the classes [0, 1]; the target 'churned' has the "
        "labels ['left', 'stayed'] (fit it on the dataset's target, and answer with its labels)"
    )


def test_a_category_targets_declared_labels_may_be_classes_a_team_model_knows_beyond_the_train_rows() -> None:
    class Known:
        classes_ = np.array(["basic", "gold", "premium"])

    target = Feature("plan", "category", ("basic", "premium", "gold"))

    assert check_fitted_classes(Known(), "m", target, ["basic", "premium"]) == ["basic", "gold", "premium"]


def test_choosing_a_module_builds_with_configured_then_overriding_hyperparameters_and_records_it(
    tmp_path: Path,
) -> None:
    module = team_folder(
        tmp_path,
        "team_chosen",
        "from sklearn.ensemble import RandomForestClassifier\n\n"
        "def build(contract, hyperparameters):\n"
        "    return RandomForestClassifier(**hyperparameters, random_state=contract.seed)\n",
    )
    (tmp_path / "wheels").mkdir()
    (tmp_path / "wheels" / "manifest.json").write_text(
        json.dumps(
            {
                "format": 1,
                "wheels": [
                    {
                        "name": "xgboost-cpu",
                        "version": "3.2.0",
                        "file": "l.whl",
                        "sha256": "0",
                        "source": "team",
                    },
                    {
                        "name": "skops",
                        "version": "0.16.0",
                        "file": "s.whl",
                        "sha256": "0",
                        "source": "platform",
                    },
                ],
            }
        )
    )
    hyperparameters = {"n_estimators": 5, "max_depth": 3}
    training = {
        "model": {"module": module.path, "builder": "build", "hyperparameters": hyperparameters, "seed": 4}
    }
    signature = Signature("classification", CONTRACT.target, FEATURES)

    chosen = choose_model(training, signature, [0, 1], environment(tmp_path, {"max_depth": "2"}), tmp_path)

    assert (chosen.estimator.n_estimators, chosen.estimator.max_depth, chosen.estimator.random_state) == (
        5,
        2,
        4,
    )
    assert (chosen.family, chosen.needs_fit, chosen.hyperparameters) == (
        "module",
        True,
        {"n_estimators": 5, "max_depth": 2},
    )
    assert chosen.record == {
        "kind": "module",
        "family": None,
        "module": {"path": module.path, "builder": "build", "sha256": module_sha256(module, tmp_path)},
        "imported": None,
        "packages": {"xgboost-cpu": "3.2.0"},
    }
    assert chosen.team_folder == tmp_path / "team_chosen"


def test_choosing_a_family_records_it_and_needs_no_package(tmp_path: Path) -> None:
    signature = Signature("classification", CONTRACT.target, FEATURES)

    chosen = choose_model(
        {"model": {"family": "random_forest"}}, signature, [0, 1], environment(tmp_path), tmp_path
    )

    assert (chosen.family, chosen.team_folder) == ("random_forest", None)
    assert chosen.record == {
        "kind": "family",
        "family": "random_forest",
        "module": None,
        "imported": None,
        "packages": {},
    }


def test_a_team_model_that_fails_to_fit_shows_its_error_prefixed_by_where(tmp_path: Path) -> None:
    module = team_folder(
        tmp_path,
        "team_unfit",
        "class Broken:\n"
        "    def fit(self, x, y):\n        raise ValueError('cannot convert str to float')\n"
        "    def predict(self, x):\n        return x\n"
        "    def predict_proba(self, x):\n        return x\n\n"
        "def build(contract, hyperparameters):\n    return Broken()\n",
    )
    training = {"model": {"module": module.path, "builder": "build"}}
    chosen = choose_model(
        training,
        Signature("classification", CONTRACT.target, FEATURES),
        [0, 1],
        environment(tmp_path),
        tmp_path,
    )

    with pytest.raises(TrainingInputError) as failed:
        fit(chosen, np.zeros((2, 3)), np.array([0, 1]))

    assert str(failed.value) == (
        "fitting the model from build in models/team_unfit/model.py raised ValueError: cannot convert str to "
        "float"
    )
