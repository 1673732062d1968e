"""A team's own model: the contract its builder receives, and the builder imported, called and checked.

``training.json``'s ``model`` may name a module instead of a family::

    {"module": "models/churn.py", "builder": "build", "hyperparameters": {...any JSON...}, "seed": 0}

The module's folder (the team code folder) ships at the source directory's root under its own name, so
``models/churn.py`` is imported as ``models.churn``, here and, copied into the model archive's ``code/``,
at the endpoint. The builder is called ``builder(contract, hyperparameters)`` with a
:class:`ModelContract` and must return an unfitted estimator with ``fit`` and ``predict`` (and
``predict_proba`` for classification) that takes the platform's feature matrix
(:mod:`mlops_training.contract_io`). SageMaker hyperparameters override the configured ones; they
arrive as text, decoded from JSON when they parse.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .contract_io import Feature, Signature, TrainingInputError


@dataclass(frozen=True)
class ModelContract:
    """What a builder knows of the dataset: its features in feature matrix order, target, task and seed.

    Attributes
    ----------
    task : {"classification", "regression"}
    target : Feature
    features : tuple of Feature
        In the order of the feature matrix's columns (``name``, contract ``type``, ``categories``,
        ``nullable``).
    positive_class : optional
        Binary classification: the label F1 and ROC AUC treat as positive, when configured.
    seed : int
        The configured seed: use it as the estimator's ``random_state``.
    """

    task: str
    target: Feature
    features: tuple[Feature, ...]
    positive_class: Any
    seed: int

    @classmethod
    def from_signature(cls, signature: Signature, seed: int) -> ModelContract:
        """The contract of a job's signature."""
        return cls(signature.task, signature.target, signature.features, signature.positive_class, seed)

    def column(self, name: str) -> int:
        """The position of feature ``name`` in the feature matrix.

        Raises
        ------
        TrainingInputError
            When the contract has no feature of that name (the message lists those it has).
        """
        for index, feature in enumerate(self.features):
            if feature.name == name:
                return index
        names = ", ".join(f.name for f in self.features)
        raise TrainingInputError(f"the contract has no feature {name!r}; its features are: {names}")

    def columns(self, *types: str) -> list[int]:
        """The positions of the features of these contract types (``"integer"``, ``"category"``...)."""
        return [index for index, feature in enumerate(self.features) if feature.type in types]


@dataclass(frozen=True)
class TeamModule:
    """A module and builder as ``training.json`` names them.

    Attributes
    ----------
    path : str
        As configured, relative to the project's root (``examples/team_models/churn_xgboost.py``).
    builder : str
    """

    path: str
    builder: str

    @property
    def folder_name(self) -> str:
        """The team code folder's name: where it is at the source directory's root and in ``code/``."""
        return Path(self.path).parent.name

    @property
    def import_name(self) -> str:
        """``<folder>.<stem>``: what the job and the endpoint import."""
        return f"{self.folder_name}.{Path(self.path).stem}"

    def file(self, source_root: Path) -> Path:
        """The module's file as shipped in the source directory."""
        return source_root / self.folder_name / Path(self.path).name


def team_module(model: Mapping[str, Any]) -> TeamModule | None:
    """The team module ``training.json``'s ``model`` names, or None for a built-in family."""
    if "module" not in model:
        return None
    path, builder = model.get("module"), model.get("builder")
    if not isinstance(path, str) or not isinstance(builder, str):
        raise TrainingInputError(
            "training.json: model.module and model.builder must be strings (the platform writes the "
            "configuration resolved by parse_training_config)"
        )
    return TeamModule(path, builder)


def decode_overrides(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """SageMaker's hyperparameters for a team model: JSON text decoded when it parses, else kept as text."""
    return {name: _decoded(value) for name, value in overrides.items()}


def _decoded(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def module_sha256(module: TeamModule, source_root: Path) -> str:
    """SHA-256 of the module file's bytes as shipped."""
    return hashlib.sha256(module.file(source_root).read_bytes()).hexdigest()


def import_builder(module: TeamModule, source_root: Path) -> Callable[..., Any]:
    """Import the team module from the source directory and return its builder.

    Raises
    ------
    TrainingInputError
        When the module is not shipped, does not import (its error's type and text are shown: they are
        the team's), or has no callable of the builder's name.
    """
    file = module.file(source_root)
    if not file.is_file():
        raise TrainingInputError(
            f"{module.path} is not in the source directory (expected at {file}): the build ships the "
            "team code folder under its name; synthesize the app again"
        )
    if str(source_root) not in sys.path:  # train.py's folder is on it already; an in-process run's may not be
        sys.path.insert(0, str(source_root))
    try:
        loaded = importlib.import_module(module.import_name)
    except Exception as error:
        raise TrainingInputError(f"importing {module.path} raised {described(error)}") from error
    builder = getattr(loaded, module.builder, None)
    if not callable(builder):
        raise TrainingInputError(
            f"{module.path} has no function {module.builder!r}: define it, or name another builder in "
            "cdk.json's training.model.builder"
        )
    return builder  # type: ignore[no-any-return]


def build(
    builder: Callable[..., Any], module: TeamModule, contract: ModelContract, hyperparameters: dict[str, Any]
) -> Any:
    """Call the builder and check that it returned an estimator for the task.

    Raises
    ------
    TrainingInputError
        When the builder raises (its error is shown, prefixed by where it came from) or returns something
        that cannot be fitted and asked for predictions.
    """
    try:
        estimator = builder(contract, hyperparameters)
    except Exception as error:
        raise TrainingInputError(
            f"the builder {module.builder} in {module.path} raised {described(error)}"
        ) from error
    missing = missing_methods(estimator, contract.task, ("fit",))
    if missing:
        raise TrainingInputError(
            f"{module.path}: {module.builder} returned {_a(estimator)} (without {', '.join(missing)}); "
            "return an unfitted estimator with fit and predict (and predict_proba for classification)"
        )
    return estimator


def missing_methods(estimator: Any, task: str, also: tuple[str, ...] = ()) -> list[str]:
    """The methods a model for ``task`` needs that ``estimator`` lacks."""
    needed = (*also, "predict", *(("predict_proba",) if task == "classification" else ()))
    return [name for name in needed if not callable(getattr(estimator, name, None))]


def check_fitted_classes(estimator: Any, where: str, target: Feature, labels: Sequence[Any]) -> list[Any]:
    """A fitted classifier's ``classes_`` as a list (the order of ``predict_proba``'s columns), checked to be
    the target's labels.

    Parameters
    ----------
    estimator : object
        The fitted classifier (a family's Pipeline, a team's estimator, an imported model).
    where : str
        What messages call it.
    target : Feature
        The target: a category target's declared categories may be classes the train rows lack.
    labels : sequence
        The target's labels in the train rows: each must be a class.

    Raises
    ------
    TrainingInputError
        When it has no ``classes_``, or they are not the target's labels (labels encoded as 0, 1...
        by a team's estimator that does not decode them, a model fit on another target): its
        probabilities could not be matched to the labels it is scored against.
    """
    classes = getattr(estimator, "classes_", None)
    if classes is None:
        raise TrainingInputError(
            f"{where}: the fitted classifier has no classes_, so its probabilities cannot be matched to "
            "labels; end the pipeline with a scikit-learn-API classifier (it sets classes_ in fit)"
        )
    found = list(classes.tolist() if hasattr(classes, "tolist") else classes)
    allowed = [*labels, *(c for c in target.categories if c not in labels)]
    if not found or any(label not in found for label in labels) or any(c not in allowed for c in found):
        raise TrainingInputError(
            f"{where} predicts the classes {found!r}; the target {target.name!r} has the labels "
            f"{list(labels)!r} (fit it on the dataset's target, and answer with its labels)"
        )
    return found


def _a(value: Any) -> str:
    name = type(value).__name__
    return f"{'an' if re.match(r'[aeiouAEIOU]', name) else 'a'} {name}"


def described(error: BaseException) -> str:
    """``Type: text`` of an error raised by a team's code or an imported model, its text on one line."""
    text = re.sub(r"\s+", " ", str(error)).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
