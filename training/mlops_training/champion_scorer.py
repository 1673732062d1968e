"""The champion's predictions, computed in a process of its own (:mod:`mlops_training.champion` runs it).

``python -m mlops_training.champion_scorer MODEL_FOLDER SIGNATURE_JSON ROWS_ARROW OUT_NPZ``

The challenger's job has imported its own team code, and a champion trained with an older version of the
same module (the same import name) would be loaded with the newer code and could predict differently,
unnoticed. Here nothing of the challenger's is imported: ``sys.path`` holds the job's ``mlops_training``
and ``spec`` (the parent arranges it), then the champion's ``code/`` (its team folder as it was trained),
and its wheels are activated first. The predictions go back in ``OUT_NPZ``, written without pickles:
``probabilities`` (float64), ``predicted`` when it is not an object array, and ``json``: the classes and,
for an object array (labels of mixed or string types), the predicted labels themselves.

Whatever fails is written as the last line of stderr, ``<ExceptionType>: <message>``, and the exit code
is 1: the parent records it as the reason the champion is unscorable.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pyarrow as pa

from .contract_io import Signature, feature_matrix
from .evaluate import ModelOutput, predict
from .packages import activate


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value JSON can write."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"a predicted label of type {type(value).__name__} cannot be handed back")


def write_output(output: ModelOutput, path: Path) -> None:
    """Save the predictions to ``path`` (an ``.npz`` that loads without ``allow_pickle``)."""
    arrays: dict[str, Any] = {}
    labels = None
    if output.predicted.dtype == object:
        labels = output.predicted.tolist()
    else:
        arrays["predicted"] = output.predicted
    if output.probabilities is not None:
        arrays["probabilities"] = output.probabilities
    document = {"classes": output.classes, "labels": labels}
    arrays["json"] = np.array(json.dumps(document, default=_plain))
    with path.open("wb") as file:
        np.savez(file, **arrays)


def read_output(path: Path) -> ModelOutput:
    """The predictions :func:`write_output` saved: the same values and dtypes."""
    with np.load(path, allow_pickle=False) as saved:
        document = json.loads(str(saved["json"]))
        if document["labels"] is not None:
            predicted = np.empty(len(document["labels"]), dtype=object)
            predicted[:] = document["labels"]
        else:
            predicted = saved["predicted"]
        probabilities = saved["probabilities"] if "probabilities" in saved.files else None
    return ModelOutput(predicted=predicted, probabilities=probabilities, classes=document["classes"])


def score(folder: Path, signature: Signature, rows: pa.Table, task: str) -> ModelOutput:
    """Load the champion of ``folder`` with its own code and wheels and predict ``rows``."""
    code = folder / "code"
    if (code / "wheels" / "manifest.json").is_file():
        activate(code / "wheels")
    if code.is_dir():
        # After the job's own mlops_training and spec: the champion's copies of them are older ones.
        sys.path.append(str(code))
    features = feature_matrix(rows, signature.features)
    return predict(joblib.load(folder / "model.joblib"), features, task)


def main(argv: list[str]) -> int:
    """Score the champion as the arguments say; 0 when the predictions are written, else 1."""
    try:
        folder, signature_file, rows_file, out = (Path(argument) for argument in argv)
        signature = Signature.from_dict(json.loads(signature_file.read_text()))
        with pa.memory_map(str(rows_file)) as source:
            rows = pa.ipc.open_file(source).read_all()
        write_output(score(folder, signature, rows, signature.task), out)
    except Exception as error:  # reported to the parent, which records it as the champion's reason
        message = " ".join(str(error).split())
        print(f"{type(error).__name__}: {message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
