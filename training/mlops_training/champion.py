"""The champion: the approved model in service, scored on the challenger's test rows.

The champion channel holds either the model's files (``model.joblib``, ``model_signature.json``) or
the ``model.tar.gz`` that a training job produced (what a model package's ``ModelDataUrl`` points at,
delivered as is by an S3 channel), or only ``none.json`` when the dataset has no approved version yet
(the pipeline always gives the job a champion channel, and an S3 channel cannot be empty). Any problem
scoring a champion (an incompatible contract change, a model from another task, a file that does not
load) is recorded as the reason it is unscorable: it never fails the challenger's job, and the gate
decides what it means.

A champion trained with a team's code or extra packages carries them in its archive's ``code/`` (the team
code folder, ``wheels/``): its wheels are activated (:mod:`mlops_training.packages`) and its ``code/``
is put on ``sys.path`` after the job's own folders while it loads and predicts (``sys.path`` is as it was
after). A module the job has imported already
wins over the champion's copy of the same name: the challenger's team code folder is imported first, so a
champion pickled with other code of the same module name (a class renamed or removed since) may not load
(it is then unscorable, with the reason, and never fails the job) or may load and predict differently,
which nothing here detects.
"""

from __future__ import annotations

import json
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import joblib
import numpy.typing as npt
import pyarrow as pa

from .contract_io import Signature, TrainingInputError, feature_matrix, require_columns
from .evaluate import ModelOutput, predict
from .packages import activate


def _model_folder(channel: Path, scratch: Path) -> Path:
    """The folder holding ``model.joblib``: the channel itself or its extracted ``model.tar.gz``."""
    found = sorted(channel.rglob("model.joblib"))
    if found:
        return found[0].parent
    archives = sorted(channel.rglob("*.tar.gz"))
    if not archives:
        raise TrainingInputError("the champion channel has neither model.joblib nor a .tar.gz archive")
    with tarfile.open(archives[0], "r:gz") as archive:
        # The "data" filter refuses absolute paths, links out of the folder and device files.
        try:
            archive.extractall(scratch, filter="data")
        except tarfile.FilterError as error:
            member = error.tarinfo.name
            raise TrainingInputError(
                f"the champion archive {archives[0].name} has a member that would land outside its folder "
                f"or is not a plain file or folder: {member!r}"
            ) from None
    found = sorted(scratch.rglob("model.joblib"))
    if not found:
        raise TrainingInputError(f"the champion archive {archives[0].name} has no model.joblib")
    return found[0].parent


NO_CHAMPION_MARKER = "none.json"


@contextmanager
def _own_imports(folder: Path) -> Iterator[None]:
    """The champion's wheels and ``code/`` importable while it loads and predicts; ``sys.path`` as it was
    after, so that the challenger's later imports (a lazy one in its predict) never find the champion's."""
    code = folder / "code"
    before = list(sys.path)
    try:
        if (code / "wheels" / "manifest.json").is_file():
            activate(code / "wheels")
        if code.is_dir():
            sys.path.append(str(code))  # after the job's own: see the module docstring
        yield
    finally:
        sys.path[:] = before


def has_champion(channel: Path) -> bool:
    """Whether the champion channel holds a model: anything but the pipeline's "no champion" marker.

    A channel with the marker and an archive (a retried run that found a champion the second time) has
    one: the model wins over the marker.
    """
    return any(path.is_file() and path.name != NO_CHAMPION_MARKER for path in channel.rglob("*"))


def score_champion(
    channel: Path, test: pa.Table, fallback: Signature
) -> tuple[ModelOutput | None, dict[str, Any] | None]:
    """Load the champion and predict the test rows.

    Parameters
    ----------
    channel : Path
        The champion channel's folder.
    test : pyarrow.Table
        The challenger's test rows.
    fallback : Signature
        Used when the champion has no ``model_signature.json`` (a model from outside the platform).

    Returns
    -------
    output : ModelOutput or None
        None when the champion could not score the rows.
    record : dict or None
        ``{"status": "scored", "family", "run"}`` or ``{"status": "unscorable", "reason"}``; None when
        the channel says there is no champion (``evaluation.json`` then records ``"champion": null``).
    """
    if not has_champion(channel):
        return None, None
    with tempfile.TemporaryDirectory() as scratch:
        try:
            folder = _model_folder(channel, Path(scratch))
            signature = fallback
            if (folder / "model_signature.json").is_file():
                signature = Signature.from_dict(json.loads((folder / "model_signature.json").read_text()))
            if signature.task != fallback.task:
                raise TrainingInputError(f"the champion is a {signature.task} model, not {fallback.task}")
            require_columns(test, [f.name for f in signature.features], "the test rows the champion needs")
            features: npt.NDArray[Any] = feature_matrix(test, signature.features)
            with _own_imports(folder):
                output = predict(joblib.load(folder / "model.joblib"), features, fallback.task)
            previous: dict[str, Any] = {}
            if (folder / "evaluation.json").is_file():
                previous = json.loads((folder / "evaluation.json").read_text())
        except Exception as error:  # any failure means "cannot compare": recorded, never fatal
            return None, {"status": "unscorable", "reason": f"{type(error).__name__}: {error}"}
    return output, {"status": "scored", "family": previous.get("family"), "run": previous.get("run")}
