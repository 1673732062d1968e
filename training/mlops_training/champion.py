"""The champion: the approved model in service, scored on the challenger's test rows.

The champion channel holds either the model's files (``model.joblib``, ``model_signature.json``) or
the ``model.tar.gz`` that a training job produced (what a model package's ``ModelDataUrl`` points at,
delivered as is by an S3 channel), or only ``none.json`` when the dataset has no approved version yet
(the pipeline always gives the job a champion channel, and an S3 channel cannot be empty). Any problem
scoring a champion (an incompatible contract change, a model from another task, a file that does not
load) is recorded as the reason it is unscorable: it never fails the challenger's job, and the gate
decides what it means.

A champion is scored in a process of its own (:mod:`mlops_training.champion_scorer`): the job has
imported the challenger's team code, and a champion trained with an older version of the same module (the
same import name) would otherwise be loaded with the newer code and could predict differently, unnoticed.
The child's ``sys.path`` holds the job's ``mlops_training`` and ``spec`` (links in a folder of their own:
the source directory also holds the challenger's team folder), the job's ``PYTHONPATH`` but for that
directory, then the champion's ``code/`` (its team folder as it was trained; its wheels activated inside
the child). Its cost is the start of a Python that loads the model: about 3 s of CPU on churn's rows,
against 0.1-0.8 s in the job's own process (measured on 2,000 and 10,000 test rows). One path for every
champion, a built-in family's too, so that the comparison never depends on which process scored it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa

import spec

from . import champion_scorer
from .contract_io import Signature, TrainingInputError, require_columns
from .evaluate import ModelOutput

# The child's own folders: the package holding this module and spec, each under its import name.
_PACKAGES = (Path(__file__).resolve().parent, Path(spec.__file__).resolve().parent)


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


def _score_apart(folder: Path, signature: Signature, rows: pa.Table) -> ModelOutput:
    """The champion's predictions of ``rows``, from :mod:`mlops_training.champion_scorer` in a child
    process whose imports are the job's ``mlops_training`` and ``spec`` and the champion's ``code/``."""
    with tempfile.TemporaryDirectory() as temporary:
        return _run_scorer(folder.resolve(), signature, rows, Path(temporary).resolve())


def _run_scorer(folder: Path, signature: Signature, rows: pa.Table, scratch: Path) -> ModelOutput:
    """:func:`_score_apart` in ``scratch``, a folder of its own."""
    path = scratch / "imports"
    path.mkdir()
    for package in _PACKAGES:
        (path / package.name).symlink_to(package, target_is_directory=True)
    (scratch / "signature.json").write_text(json.dumps(signature.to_dict()))
    with pa.OSFile(str(scratch / "rows.arrow"), "wb") as sink, pa.ipc.new_file(sink, rows.schema) as writer:
        writer.write_table(rows)
    out = scratch / "predictions.npz"
    arguments = [str(folder), str(scratch / "signature.json"), str(scratch / "rows.arrow"), str(out)]
    # The working directory (first on a -m child's sys.path) holds only the links.
    environment = os.environ | {"PYTHONPATH": child_pythonpath(os.environ.get("PYTHONPATH"), path)}
    ended = subprocess.run(
        [sys.executable, "-m", f"{_PACKAGES[0].name}.champion_scorer", *arguments],
        cwd=path, env=environment, capture_output=True, text=True, check=False,
    )  # fmt: skip
    # Its lines go to the job's log, as they did when the champion was scored in the job's own process.
    sys.stdout.write(ended.stdout)
    sys.stderr.write(ended.stderr)
    if ended.returncode != 0 or not out.is_file():
        lines = [line for line in ended.stderr.splitlines() if line.strip()]
        raise _UnscorableError(
            lines[-1]
            if lines
            else f"the champion's scoring process ended with code {ended.returncode} and said nothing"
        )
    return champion_scorer.read_output(out)


def child_pythonpath(inherited: str | None, links: Path, source_root: Path = _PACKAGES[0].parent) -> str:
    """The scoring process's ``PYTHONPATH``: ``links`` first, then the job's own entries but its source
    directory.

    The source directory holds the challenger's team folder, which the champion must not import; the
    other entries stay (what the container put there for every process, such as a network guard).

    Parameters
    ----------
    inherited : str or None
        The job's ``PYTHONPATH``.
    links : Path
        The folder holding the links to the job's ``mlops_training`` and ``spec``.
    source_root : Path
        The job's source directory (the folder holding ``mlops_training``).
    """
    kept = [
        entry
        for entry in (inherited or "").split(os.pathsep)
        if entry and Path(entry).resolve() != source_root.resolve()
    ]
    return os.pathsep.join([str(links), *kept])


class _UnscorableError(Exception):
    """The child's own account of why the champion could not score: recorded as it is."""


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
            output = _score_apart(folder, signature, test.select([f.name for f in signature.features]))
            previous: dict[str, Any] = {}
            if (folder / "evaluation.json").is_file():
                previous = json.loads((folder / "evaluation.json").read_text())
        except _UnscorableError as error:
            return None, {"status": "unscorable", "reason": str(error)}
        except Exception as error:  # any failure means "cannot compare": recorded, never fatal
            return None, {"status": "unscorable", "reason": f"{type(error).__name__}: {error}"}
    return output, {"status": "scored", "family": previous.get("family"), "run": previous.get("run")}
