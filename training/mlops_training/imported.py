"""A model trained elsewhere: the skops file a person imported, loaded safely, checked against the contract.

``training.json`` carries ``"imported": {"file": "imported.skops", "sha256", "by", "name"}`` when the run
scores an imported model (the prepare step copied the file into the config channel). The job then fits
nothing: it loads the file with skops, refusing a pickle (loading one runs whatever code it holds) and any
type that neither skops trusts by default nor the dataset's ``training.imports.trusted_types`` names,
checks that what it got can serve the dataset (fitted, predict and predict_proba, the contract's features
in the contract's order, the target's labels as classes), and evaluates it as a trained model.

skops comes from the wheels the build shipped (:mod:`mlops_training.packages`), not from the image: it is
imported here, when a run imports a model, after the job has activated them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from spec.model_file import skops_file_problem

from .contract_io import Signature, TrainingInputError
from .team import check_fitted_classes, missing_methods


@dataclass(frozen=True)
class ImportedModel:
    """``training.json``'s ``imported``.

    Attributes
    ----------
    file : str
        The file's name in the config channel.
    sha256 : str
        SHA-256 of the file as the person imported it.
    by : str
        The caller's ARN.
    name : str
        The file's original name (what messages call it).
    """

    file: str
    sha256: str
    by: str
    name: str

    def record(self) -> dict[str, str]:
        """``evaluation.json``'s ``model.imported``."""
        return {"name": self.name, "sha256": self.sha256, "by": self.by}


def imported_model(training: Mapping[str, Any]) -> ImportedModel | None:
    """The imported model ``training.json`` names, or None for a run that trains."""
    imported = training.get("imported")
    if imported is None:
        return None
    keys = ("file", "sha256", "by", "name")
    if not isinstance(imported, dict) or not all(isinstance(imported.get(k), str) for k in keys):
        raise TrainingInputError(
            "training.json: imported needs the strings file, sha256, by and name (the prepare step "
            "writes them)"
        )
    return ImportedModel(**{k: imported[k] for k in keys})


def load_imported(path: Path, imported: ImportedModel, trusted: Sequence[str], dataset: str) -> Any:
    """Load the imported file with skops, trusting its defaults and ``trusted`` only.

    Raises
    ------
    TrainingInputError
        When the file is not the one imported, is a pickle or not a skops file, or holds a type nobody
        trusted (each named, with the configuration key that trusts types).
    """
    if not path.is_file():
        raise TrainingInputError(f"the config channel has no {imported.file} (the imported {imported.name})")
    if hashlib.sha256(path.read_bytes()).hexdigest() != imported.sha256:
        raise TrainingInputError(
            f"the config channel's {imported.file} is not the file imported as {imported.name} (its SHA-256 "
            "differs); import it again"
        )
    _require_skops(path, imported.name)
    # skops is in the shipped wheels, not the image: importable once the job has activated them.
    import skops.io

    untrusted = [t for t in _untrusted_types(path, imported.name) if t not in trusted]
    if untrusted:
        raise TrainingInputError(
            f"{imported.name} holds types that are not trusted: {', '.join(untrusted)}; trust them in "
            f"cdk.json: mlops.datasets.{dataset}.training.imports.trusted_types if you know where they "
            "come from"
        )
    try:
        return skops.io.load(path, trusted=list(trusted))
    except ImportError as error:  # a trusted type of a package the job does not have
        raise TrainingInputError(
            f"{imported.name} holds a type of the module {error.name!r}, which neither the training image "
            "nor the shipped wheels provide; pin the package that provides it in the team code folder's "
            "requirements.txt (beside the module a dataset's training.model names), deploy, and import "
            "the file again"
        ) from error
    except Exception as error:
        raise TrainingInputError(
            f"{imported.name} cannot be loaded as a skops file ({type(error).__name__}); save the estimator "
            "with skops.io.dump"
        ) from error


def _require_skops(path: Path, name: str) -> None:
    # The rule mlops models import applied before the upload (spec.model_file), again where it is loaded.
    problem = skops_file_problem(path, name)
    if problem is not None:
        raise TrainingInputError(problem)


def _untrusted_types(path: Path, name: str) -> list[str]:
    import skops.io  # from the shipped wheels (see load_imported)

    try:
        return list(skops.io.get_untrusted_types(file=path))
    except Exception as error:
        raise TrainingInputError(
            f"{name} is not a readable skops file ({type(error).__name__}); save the estimator with "
            "skops.io.dump"
        ) from error


def check_imported(
    estimator: Any, signature: Signature, labels: Sequence[Any], name: str
) -> list[Any] | None:
    """Check that the loaded estimator can serve the dataset; return its classes (None for regression).

    Parameters
    ----------
    estimator : object
        What the skops file held.
    signature : Signature
        The dataset's features (feature matrix order), target and task.
    labels : sequence
        The target's labels in the train rows (classification).
    name : str
        The imported file's name, for the messages.

    Raises
    ------
    TrainingInputError
        When it is not fitted, lacks predict (or predict_proba), expects other columns than the
        contract's features in their order, or has other classes than the target's labels.
    """
    missing = missing_methods(estimator, signature.task)
    if missing:
        raise TrainingInputError(
            f"{name} holds a {type(estimator).__name__} without {', '.join(missing)}: a {signature.task} "
            "model needs predict" + (" and predict_proba" if signature.task == "classification" else "")
        )
    try:
        check_is_fitted(estimator)
    except (NotFittedError, TypeError):
        raise TrainingInputError(
            f"{name} holds an estimator that is not fitted: fit it before saving"
        ) from None
    _check_features(estimator, signature, name)
    if signature.task != "classification":
        return None
    return check_fitted_classes(estimator, name, signature.target, labels)


def _check_features(estimator: Any, signature: Signature, name: str) -> None:
    expected = [f.name for f in signature.features]
    order = ", ".join(expected)
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None:
        names = [str(n) for n in names]
        unknown = [n for n in names if n not in expected]
        if unknown:
            raise TrainingInputError(
                f"{name} expects columns the contract does not have: {', '.join(unknown)}; the contract's "
                f"features are: {order}"
            )
        if names != expected and sorted(names) == sorted(expected):
            raise TrainingInputError(
                f"{name} expects the features in another order; fit it on them in the contract's "
                f"order: {order}"
            )
    count = getattr(estimator, "n_features_in_", None)
    if count is not None and count != len(expected):
        raise TrainingInputError(
            f"{name} expects {count} feature columns; the contract gives {len(expected)}, in this "
            f"order: {order}"
        )
