"""Which estimator a job evaluates, decided from ``training.json``: a built-in family, a team's module, or
an imported model; and what ``evaluation.json`` records of it.

``evaluation.json``'s ``model`` (read by the platform's registration for the model's lineage)::

    {"kind": "family" | "module" | "imported",
     "family": name | null,
     "module": {"path": as configured, "builder": name, "sha256": hex of the file as shipped} | null,
     "imported": {"name": original file name, "sha256": hex, "by": caller ARN} | null,
     "packages": {name: version}}   # what the model needs beyond the image

``packages`` are the wheel manifest's packages the team's requirements asked for, plus skops for an
imported model. The top-level ``family`` is the family's name, ``"module"`` or ``"imported"``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy.typing as npt

from .contract_io import Signature, TrainingInputError
from .environment import JobEnvironment
from .evaluate import ModelOutput, predict
from .families import resolve_hyperparameters
from .imported import ImportedModel, check_imported, imported_model, load_imported
from .packages import Wheel, read_manifest
from .pipeline import build_pipeline
from .team import (
    ModelContract,
    TeamModule,
    build,
    decode_overrides,
    described,
    import_builder,
    module_sha256,
    team_module,
)

WHEELS = "wheels"  # the shipped wheels' folder, at the source directory's root and in the model's code/
IMPORT_PACKAGE = "skops"  # what loads an imported model: in the wheels, not in the image


@dataclass(frozen=True)
class ChosenModel:
    """The estimator a job evaluates and how to describe it.

    Attributes
    ----------
    estimator : object
        Unfitted (a family's Pipeline, what a team's builder returned) or fitted (an imported model).
    needs_fit : bool
    family : str
        ``evaluation.json``'s top-level ``family``: the family, ``"module"`` or ``"imported"``.
    hyperparameters : dict
        The values used (an imported model's are its own: none recorded).
    seed : int
    record : dict
        ``evaluation.json``'s ``model`` (see the module docstring).
    where : str
        What messages call the model.
    team_folder : Path or None
        The team code folder shipped in the source directory, copied into the model's ``code/``.
    """

    estimator: Any
    needs_fit: bool
    family: str
    hyperparameters: dict[str, Any]
    seed: int
    record: dict[str, Any]
    where: str
    team_folder: Path | None = field(default=None)


def choose_model(
    training: Mapping[str, Any],
    signature: Signature,
    labels: Sequence[Any],
    env: JobEnvironment,
    source_root: Path,
) -> ChosenModel:
    """The estimator ``training.json`` asks for (see the module docstring).

    Parameters
    ----------
    training : mapping
        ``training.json``.
    signature : Signature
        The job's signature (classes unset).
    labels : sequence
        The target's labels in the train rows (an imported classifier must predict them).
    env : JobEnvironment
        The job's channels, run and hyperparameter overrides.
    source_root : Path
        The source directory: ``train.py``'s folder, with the team code folder and ``wheels/``.

    Raises
    ------
    TrainingInputError
        When the module, its builder or the imported file cannot give an estimator for the dataset.
    """
    model = training.get("model") or {}
    seed = int(model.get("seed", 0))
    module = team_module(model)
    team_folder = None
    if module is not None and (source_root / module.folder_name).is_dir():
        team_folder = source_root / module.folder_name
    wheels = read_manifest(source_root / WHEELS)
    packages = {wheel.name: wheel.version for wheel in wheels if wheel.source == "team"}
    imported = imported_model(training)
    if imported is not None:
        packages[IMPORT_PACKAGE] = _version(IMPORT_PACKAGE, wheels)
        estimator = _load_imported(training, imported, signature, labels, env)
        record = _record("imported", packages, imported=imported.record())
        return ChosenModel(estimator, False, "imported", {}, seed, record, imported.name, team_folder)
    if module is not None:
        builder = import_builder(module, source_root)
        hyperparameters = dict(model.get("hyperparameters") or {}) | decode_overrides(env.overrides)
        contract = ModelContract.from_signature(signature, seed)
        estimator = build(builder, module, contract, hyperparameters)
        described = {
            "path": module.path,
            "builder": module.builder,
            "sha256": module_sha256(module, source_root),
        }
        record = _record("module", packages, module=described)
        return ChosenModel(
            estimator, True, "module", hyperparameters, seed, record, _built_by(module), team_folder
        )
    family = str(model.get("family"))
    hyperparameters = resolve_hyperparameters(family, model.get("hyperparameters") or {}, env.overrides)
    estimator = build_pipeline(signature.features, signature.task, family, hyperparameters, seed)
    record = _record("family", {}, family=family)
    return ChosenModel(estimator, True, family, hyperparameters, seed, record, f"the {family} model")


def fit(chosen: ChosenModel, features: npt.NDArray[Any], y: npt.NDArray[Any]) -> None:
    """Fit the chosen estimator (an imported one is fitted already); a team model's error is shown as
    theirs, prefixed by where it came from."""
    if not chosen.needs_fit:
        return
    if chosen.record["kind"] != "module":
        chosen.estimator.fit(features, y)
        return
    try:
        chosen.estimator.fit(features, y)
    except Exception as error:
        raise TrainingInputError(f"fitting {chosen.where} raised {described(error)}") from error


def predict_with(chosen: ChosenModel, features: npt.NDArray[Any], task: str) -> ModelOutput:
    """Predict the rows with the fitted estimator; a team's or an imported model's error is shown as
    theirs, prefixed by where it came from, with what the platform gives a model to read."""
    if chosen.record["kind"] == "family":
        return predict(chosen.estimator, features, task)
    try:
        return predict(chosen.estimator, features, task)
    except Exception as error:
        raise TrainingInputError(
            f"predicting with {chosen.where} raised {described(error)}; the platform gives a model its "
            "feature matrix (a 2-D array, one column per contract feature in the contract's order; numbers "
            "as floats, categories as strings), which it must read by position (one that selects columns by "
            "name, fit on a DataFrame, cannot)"
        ) from error


def _load_imported(
    training: Mapping[str, Any],
    imported: ImportedModel,
    signature: Signature,
    labels: Sequence[Any],
    env: JobEnvironment,
) -> Any:
    dataset = str(training.get("dataset") or env.run.get("dataset") or "<dataset>")
    trusted = [str(t) for t in (training.get("imports") or {}).get("trusted_types") or []]
    estimator = load_imported(env.channels["config"] / imported.file, imported, trusted, dataset)
    check_imported(estimator, signature, labels, imported.name)
    return estimator


def _built_by(module: TeamModule) -> str:
    return f"the model from {module.builder} in {module.path}"


def _record(kind: str, packages: dict[str, str], **described: Any) -> dict[str, Any]:
    record: dict[str, Any] = {"kind": kind, "family": None, "module": None, "imported": None}
    return record | described | {"packages": dict(sorted(packages.items()))}


def _version(name: str, wheels: Sequence[Wheel]) -> str:
    """The version of ``name`` the model loads with: the shipped wheel's, else the installed one."""
    for wheel in wheels:
        if wheel.name == name:
            return wheel.version
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        raise TrainingInputError(
            f"{name} is neither in the shipped wheels nor installed: an imported model cannot be loaded"
        ) from None
