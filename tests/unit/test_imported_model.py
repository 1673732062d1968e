"""A model trained elsewhere, in the training job: the skops file loaded with trusted types only, and the
estimator checked against the dataset's contract before anything is scored (``mlops_training.imported``).
"""

from __future__ import annotations

import hashlib
import pickle
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import skops.io
from sklearn.compose import make_column_transformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from training.mlops_training.contract_io import Feature, Signature, TrainingInputError
from training.mlops_training.imported import ImportedModel, check_imported, imported_model, load_imported
from training.mlops_training.model_choice import ChosenModel, predict_with

FEATURES = (Feature("age", "float"), Feature("tenure", "float"), Feature("charges", "float"))
SIGNATURE = Signature("classification", Feature("churned", "integer"), FEATURES)
X = np.random.default_rng(0).normal(size=(60, 3))
Y = (X[:, 0] + X[:, 1] > 0).astype(int)


def saved(tmp_path: Path, estimator: Any, name: str = "model.skops") -> tuple[Path, ImportedModel]:
    """The estimator dumped with skops, as the prepare step puts it in the config channel."""
    path = tmp_path / "imported.skops"
    skops.io.dump(estimator, path)
    return path, ImportedModel(
        "imported.skops", hashlib.sha256(path.read_bytes()).hexdigest(), "arn:me", name
    )


def refusal(call: Any) -> str:
    with pytest.raises(TrainingInputError) as refused:
        call()
    return str(refused.value)


def test_training_json_names_the_imported_file_or_nothing() -> None:
    described = {"file": "imported.skops", "sha256": "ab", "by": "arn:aws:iam::1:user/ana", "name": "m.skops"}

    imported = imported_model({"imported": described})

    assert imported == ImportedModel("imported.skops", "ab", "arn:aws:iam::1:user/ana", "m.skops")
    assert imported.record() == {"name": "m.skops", "sha256": "ab", "by": "arn:aws:iam::1:user/ana"}
    assert imported_model({"model": {"family": "random_forest"}}) is None
    assert "imported needs the strings file, sha256, by and name" in refusal(
        lambda: imported_model({"imported": {"file": "x"}})
    )


def test_a_skops_file_of_default_trusted_types_loads_as_the_estimator_it_was(tmp_path: Path) -> None:
    model = LogisticRegression().fit(X, Y)
    path, imported = saved(tmp_path, model)

    loaded = load_imported(path, imported, [], "churn")

    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_a_pickle_is_refused_without_being_loaded(tmp_path: Path) -> None:
    path = tmp_path / "imported.skops"
    path.write_bytes(pickle.dumps(LogisticRegression().fit(X, Y)))
    imported = ImportedModel(
        "imported.skops", hashlib.sha256(path.read_bytes()).hexdigest(), "arn:me", "model.pkl"
    )

    message = refusal(lambda: load_imported(path, imported, [], "churn"))

    assert message.startswith("model.pkl is a pickle")
    assert "the platform never loads a pickle from outside" in message
    assert message.endswith('skops.io.dump(estimator, "model.skops") and import that file')


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"name,age\nana,3\n", "m.bin is not a skops file (a zip archive holding schema.json)"),
        (b"zip", "m.bin is a zip archive without schema.json, so not a skops file"),
    ],
    ids=["text", "zip without schema"],
)
def test_a_file_that_is_not_a_skops_archive_is_refused(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "imported.skops"
    if content == b"zip":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("model.json", "{}")
    else:
        path.write_bytes(content)
    imported = ImportedModel(
        "imported.skops", hashlib.sha256(path.read_bytes()).hexdigest(), "arn:me", "m.bin"
    )

    assert refusal(lambda: load_imported(path, imported, [], "churn")).startswith(problem)


def test_a_file_other_than_the_one_imported_is_refused(tmp_path: Path) -> None:
    path, imported = saved(tmp_path, LogisticRegression().fit(X, Y))
    other = ImportedModel(imported.file, "0" * 64, imported.by, imported.name)

    assert "is not the file imported as model.skops (its SHA-256 differs)" in refusal(
        lambda: load_imported(path, other, [], "churn")
    )


def test_untrusted_types_are_listed_with_the_key_that_trusts_them_and_load_once_trusted(
    tmp_path: Path,
) -> None:
    model = HistGradientBoostingClassifier(max_iter=5).fit(X, Y)
    path, imported = saved(tmp_path, model)
    untrusted = skops.io.get_untrusted_types(file=path)
    assert untrusted  # the boosting's tree predictor is not among skops's defaults

    message = refusal(lambda: load_imported(path, imported, [], "churn"))

    assert message == (
        f"model.skops holds types that are not trusted: {', '.join(untrusted)}; trust them in cdk.json: "
        "mlops.datasets.churn.training.imports.trusted_types if you know where they come from"
    )
    np.testing.assert_array_equal(
        load_imported(path, imported, untrusted, "churn").predict(X), model.predict(X)
    )


def test_a_trusted_type_of_a_package_the_job_lacks_is_refused_naming_its_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a model of a class from a package of the team's machine, trusted in the configuration
    (tmp_path / "team_machine_pkg.py").write_text(
        "from sklearn.linear_model import LogisticRegression\n\nclass TeamLR(LogisticRegression):\n    pass\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    import team_machine_pkg

    path, imported = saved(tmp_path, team_machine_pkg.TeamLR().fit(X, Y))
    # When the job, which has not that package, loads it
    monkeypatch.delitem(sys.modules, "team_machine_pkg")
    (tmp_path / "team_machine_pkg.py").unlink()

    message = refusal(lambda: load_imported(path, imported, ["team_machine_pkg.TeamLR"], "churn"))

    # Then the refusal names the module and where its package is pinned
    assert message == (
        "model.skops holds a type of the module 'team_machine_pkg', which neither the training image nor "
        "the shipped wheels provide; pin the package that provides it in the team code folder's "
        "requirements.txt (beside the module a dataset's training.model names), deploy, and import the "
        "file again"
    )


def test_a_fitted_classifier_of_the_contracts_features_and_labels_passes_with_its_classes() -> None:
    assert check_imported(LogisticRegression().fit(X, Y), SIGNATURE, [0, 1], "m.skops") == [0, 1]
    regression = Signature("regression", Feature("charges_next", "float"), FEATURES)
    assert check_imported(LinearRegression().fit(X, X[:, 0]), regression, [], "m.skops") is None


@pytest.mark.parametrize(
    ("estimator", "message"),
    [
        (LogisticRegression(), "m.skops holds an estimator that is not fitted: fit it before saving"),
        (
            LinearRegression().fit(X, Y),
            "m.skops holds a LinearRegression without predict_proba: a classification model needs predict "
            "and predict_proba",
        ),
        (
            LogisticRegression().fit(X[:, :2], Y),
            "m.skops expects 2 feature columns; the contract gives 3, in this order: age, tenure, charges",
        ),
        (
            LogisticRegression().fit(pd.DataFrame(X, columns=["age", "tenure_months", "total"]), Y),
            "m.skops expects columns the contract does not have: tenure_months, total; the contract's "
            "features are: age, tenure, charges",
        ),
        (
            LogisticRegression().fit(pd.DataFrame(X, columns=["tenure", "age", "charges"]), Y),
            "m.skops expects the features in another order; fit it on them in the contract's order: age, "
            "tenure, charges",
        ),
        (
            LogisticRegression().fit(X, np.where(Y == 1, "yes", "no")),
            "m.skops predicts the classes ['no', 'yes']; the target 'churned' has the labels [0, 1] (fit it "
            "on the dataset's target, and answer with its labels)",
        ),
    ],
    ids=["not fitted", "no predict_proba", "column count", "unknown columns", "other order", "other classes"],
)
def test_an_estimator_that_cannot_serve_the_dataset_is_refused_saying_why(
    estimator: Any, message: str
) -> None:
    assert refusal(lambda: check_imported(estimator, SIGNATURE, [0, 1], "m.skops")) == message


def test_a_model_that_selects_columns_by_name_is_refused_when_it_predicts_saying_what_it_is_given() -> None:
    # Given a Pipeline fit on a DataFrame whose first step selects its columns by name, as imported
    frame = pd.DataFrame(X, columns=[f.name for f in FEATURES])
    by_name = make_pipeline(make_column_transformer((StandardScaler(), ["age", "tenure", "charges"])),
                            LogisticRegression()).fit(frame, Y)  # fmt: skip
    chosen = ChosenModel(by_name, False, "imported", {}, 0, {"kind": "imported"}, "churn-df.skops")

    # When the job predicts the test rows' feature matrix with it
    message = refusal(lambda: predict_with(chosen, X.astype(object), "classification"))

    # Then the library's words come prefixed by the file, with what the platform gives a model to read
    assert message == (
        "predicting with churn-df.skops raised ValueError: Specifying the columns using strings is only "
        "supported for dataframes.; the platform gives a model its feature matrix (a 2-D array, one column "
        "per contract feature in the contract's order; numbers as floats, categories as strings), which it "
        "must read by position (one that selects columns by name, fit on a DataFrame, cannot)"
    )


def test_a_category_targets_declared_labels_may_be_classes_the_train_rows_lack() -> None:
    target = Feature("plan", "category", ("basic", "premium", "gold"))
    labels = np.where(Y == 1, "premium", "basic")
    model = LogisticRegression().fit(X, np.concatenate([labels[:-1], ["gold"]]))

    classes = check_imported(model, Signature("classification", target, FEATURES), ["basic", "premium"], "m")

    assert classes == ["basic", "gold", "premium"]
