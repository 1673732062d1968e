"""One training job: fit the configured Pipeline, evaluate it and the champion, write the artifacts.

Outputs
-------
In ``SM_MODEL_DIR`` (becomes ``model.tar.gz``, what the registry and the endpoint use):
``model.joblib`` (the whole Pipeline), ``model_signature.json`` (its input and classes, see
:mod:`mlops_training.contract_io`), ``contract.json`` (what requests are checked against), ``code/``
(``inference.py``, this package and ``spec``, and the team code folder and ``wheels/`` when the source
directory has them and the model is not a built-in family's: what the endpoint runs),
``evaluation.json`` (see :mod:`mlops_training.evaluate`; its ``model`` is
:mod:`mlops_training.model_choice`'s),
``baseline/inputs_profile.json`` (the features of the training rows),
``baseline/predictions_profile.json`` (the model's predictions on the test rows: what live
predictions should look like) and ``baseline/drift_baseline.json`` (the same columns' drift profiles
and calibrated null bands, :mod:`mlops_training.drift`: what the drift monitor scores live
traffic against). ``SM_OUTPUT_DATA_DIR`` gets the same JSON files, small enough for a Lambda to read
without downloading the model.

On any error the reason goes, as one paragraph, to the failure file and the process exits with 1.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import sys
import time
import traceback
from dataclasses import replace
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pyarrow as pa
import sklearn

import spec
from spec.metrics import bootstrap, positive_label
from spec.profile import profile_document

from .champion import score_champion
from .contract_io import (
    Signature,
    TrainingInputError,
    feature_matrix,
    read_channel,
    require_columns,
    signature_from,
    target_vector,
)
from .drift import drift_baseline
from .environment import JobEnvironment, failure_file
from .evaluate import (
    EVALUATION_FORMAT,
    ModelOutput,
    point_metrics,
    scorers,
)
from .model_choice import WHEELS, choose_model, fit, predict_with
from .packages import activate
from .profile import frequency_profile, numeric_profile, table_profile
from .team import check_fitted_classes

MAX_REASON = 1024  # SageMaker keeps this many characters of FailureReason
# train.py's folder: on SageMaker the unpacked source directory, with the team code folder and wheels/.
SOURCE_ROOT = Path(__file__).resolve().parent.parent


def _load(env: JobEnvironment, channel: str, signature: Signature) -> tuple[pa.Table, Any, Any]:
    table = read_channel(env.channels[channel], channel)
    where = f"the {channel} channel"
    require_columns(table, [f.name for f in signature.features] + [signature.target.name], where)
    return (
        table,
        feature_matrix(table, signature.features),
        target_vector(table, signature.target, signature.task, where),
    )


def _predictions_profile(output: ModelOutput, signature: Signature) -> dict[str, Any]:
    columns: dict[str, Any] = {}
    if signature.task == "regression":
        columns["prediction"] = numeric_profile(output.predicted, 0, "float")
    else:
        assert output.probabilities is not None and signature.classes is not None
        labels = tuple(str(c).lower() if isinstance(c, bool) else str(c) for c in signature.classes)
        columns["predicted_label"] = frequency_profile(output.predicted.tolist(), 0, "category", labels)
        if signature.positive_class is not None:
            column = signature.classes.index(signature.positive_class)
            columns["probability"] = numeric_profile(output.probabilities[:, column], 0, "float")
        else:
            for column, label in enumerate(labels):
                columns[f"probability:{label}"] = numeric_profile(output.probabilities[:, column], 0, "float")
    return profile_document(len(output.predicted), columns)


def _write_json(data: dict[str, Any] | str, *paths: Path) -> None:
    # A document already serialised (the drift baseline) is written as it is.
    text = data if isinstance(data, str) else json.dumps(data, indent=2, default=str)
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n", encoding="utf-8")


def run(env: JobEnvironment) -> dict[str, Any]:
    """Train (or load an imported model), evaluate and write every output; return the evaluation document.

    The team code folder and ``wheels/`` are found in the source directory, ``SOURCE_ROOT``.
    """
    contract, training = env.config_file("contract.json"), env.config_file("training.json")
    signature = signature_from(contract, training)
    settings = training.get("evaluation") or {}
    train, features, y = _load(env, "train", signature)
    if signature.task == "classification" and len(np.unique(y)) < 2:
        raise TrainingInputError(
            f"the train channel has a single class of {signature.target.name!r}: {y[0]!r}"
        )
    activate(SOURCE_ROOT / WHEELS)
    labels = np.unique(y).tolist() if signature.task == "classification" else []
    chosen = choose_model(training, signature, labels, env, SOURCE_ROOT)
    pipeline = chosen.estimator
    started = time.perf_counter()
    fit(chosen, features, y)
    fitted = time.perf_counter()
    if signature.task == "classification":
        classes = check_fitted_classes(pipeline, chosen.where, signature.target, labels)
        target = signature.target
        positive = positive_label(classes, target.type, target.categories, signature.positive_class)
        signature = replace(signature, classes=classes, positive_class=positive)
    test, test_features, test_y = _load(env, "test", signature)
    output = predict_with(chosen, test_features, signature.task)
    champion_output, champion = None, None
    if "champion" in env.channels:
        champion_output, champion = score_champion(env.channels["champion"], test, signature)
    outputs = [output] + ([champion_output] if champion_output is not None else [])
    per_model, comparison = bootstrap(
        scorers(signature.task, test_y, outputs, signature.positive_class),
        rows=test.num_rows,
        samples=int(settings.get("bootstrap_samples", 200)),
        confidence=float(settings.get("confidence", 0.95)),
        seed=int(settings.get("seed", 0)),
    )
    if champion is not None and champion_output is not None:
        champion |= {"metrics": per_model[1], "comparison": comparison}
    rows = {"train": train.num_rows, "validation": 0, "test": test.num_rows}
    validation_metrics = None
    if "validation" in env.channels:
        validation, validation_features, validation_y = _load(env, "validation", signature)
        rows["validation"] = validation.num_rows
        validation_output = predict_with(chosen, validation_features, signature.task)
        validation_metrics = point_metrics(
            signature.task, validation_y, validation_output, signature.positive_class
        )
    evaluation = {
        "format": EVALUATION_FORMAT,
        "task": signature.task,
        "target": signature.target.name,
        "family": chosen.family,
        "model": chosen.record,
        "hyperparameters": chosen.hyperparameters,
        "seed": chosen.seed,
        "features": [f.name for f in signature.features],
        "classes": signature.classes,
        "positive_class": signature.positive_class,
        "rows": rows,
        "bootstrap_samples": int(settings.get("bootstrap_samples", 200)),
        "confidence": float(settings.get("confidence", 0.95)),
        "bootstrap_seed": int(settings.get("seed", 0)),
        "metrics": per_model[0],
        "validation_metrics": validation_metrics,
        "champion": champion,
        "run": env.run,
        "seconds": {"fit": round(fitted - started, 3), "evaluate": round(time.perf_counter() - fitted, 3)},
        "versions": {
            "python": platform.python_version(),
            "scikit-learn": sklearn.__version__,
            "numpy": np.__version__,
            "pyarrow": pa.__version__,
        },
    }
    inputs = [(f.name, f.type, f.categories) for f in signature.features]
    env.model_dir.mkdir(parents=True, exist_ok=True)
    joblib.dump(pipeline, env.model_dir / "model.joblib")
    _write_json(signature.to_dict(), env.model_dir / "model_signature.json")
    _write_json(contract, env.model_dir / "contract.json")  # what requests are checked against
    # A family's model needs nothing beyond the image: its endpoint has no wheels to unpack.
    wheels = SOURCE_ROOT / WHEELS if chosen.record["kind"] != "family" else None
    ship_inference_code(env.model_dir / "code", chosen.team_folder, wheels)
    drift = drift_baseline(train, signature, output, chosen.seed).to_json()
    for name, document in (
        ("baseline/inputs_profile.json", table_profile(train, inputs)),
        ("baseline/predictions_profile.json", _predictions_profile(output, signature)),
        ("baseline/drift_baseline.json", drift),
        ("evaluation.json", evaluation),  # last: its presence says the job finished
    ):
        _write_json(document, env.model_dir / name, env.output_dir / name)
    return evaluation


def ship_inference_code(target: Path, team_folder: Path | None = None, wheels: Path | None = None) -> None:
    """Copy ``inference.py``, this package and ``spec`` into the model: the endpoint runs the same code.

    ``spec`` is found where this job imported it from: beside ``train.py`` in the source directory on
    SageMaker, the project's root when the tests run ``training/train.py``. The team code folder (under
    its name: the model imports it so) and the wheels (``inference.py`` activates them before loading
    the model) go along when the job has them.
    """
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(SOURCE_ROOT / "inference.py", target / "inference.py")
    shipped = [SOURCE_ROOT / "mlops_training", Path(spec.__file__).resolve().parent]
    shipped += [folder for folder in (team_folder, wheels) if folder is not None and folder.is_dir()]
    for package in shipped:
        shutil.copytree(
            package,
            target / package.name,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
            dirs_exist_ok=True,
        )


def failure_reason(error: BaseException) -> str:
    """One paragraph, at most 1,024 characters, saying why the job failed."""
    text = str(error) if isinstance(error, TrainingInputError) else f"{type(error).__name__}: {error}"
    text = re.sub(r"\s+", " ", text).strip() or type(error).__name__
    return f"Training failed: {text}"[:MAX_REASON]


def main(argv: list[str] | None = None) -> int:
    """Run the job from the container's environment; 0 on success, 1 after writing the failure file."""
    environ = dict(os.environ)
    try:
        run(JobEnvironment.from_environ(environ, sys.argv[1:] if argv is None else argv))
    except Exception as error:
        traceback.print_exc()  # the whole story goes to the job's log
        reason = failure_reason(error)
        print(reason, file=sys.stderr)
        path = failure_file(environ)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(reason, encoding="utf-8")
        except OSError as unwritable:
            print(f"cannot write the failure file {path}: {unwritable}", file=sys.stderr)
        return 1
    return 0
