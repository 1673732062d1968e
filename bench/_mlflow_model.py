"""Save the platform's fitted Pipeline as an MLflow model (run with the MLflow virtualenv's interpreter).

``python bench/_mlflow_model.py MODEL_DIR OUT`` reads ``model.joblib`` and ``model_signature.json`` from
the platform's model folder and writes an MLflow model folder to ``OUT`` with ``mlflow.sklearn.save_model``
(cloudpickle, and an input signature: numbers as double, categories as string).

MLflow's scoring server parses a CSV request with ``pandas.read_csv`` (the column types from the model's
signature) and calls ``predict`` with that DataFrame. The Pipeline was fitted on the platform's feature
matrix (a 2-D object array in signature order: numbers as floats, categories as ``str`` or NaN), so the
saved model is the fitted Pipeline behind a ``FunctionTransformer`` that turns the DataFrame into that
matrix (what ``mlops_training.contract_io.feature_matrix`` makes of an Arrow table). The function is
defined in ``__main__``, so cloudpickle stores it by value: the served model needs nothing from this
repository.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import joblib
import mlflow.sklearn
from mlflow.models.signature import ModelSignature
from mlflow.types.schema import ColSpec, Schema
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

NUMBERS = ("integer", "float")


def frame_to_matrix(frame: Any, names: list[str]) -> Any:
    """The feature matrix of the DataFrame that MLflow parsed, its columns in signature order.

    The signature makes the numbers float64 and the categories ``str`` (NaN when null): as an object
    array, that is the platform's feature matrix.
    """
    return frame[names].to_numpy(dtype=object)


def main(model_dir: Path, out: Path) -> None:
    """Wrap and save the model (see the module docstring)."""
    signature = json.loads((model_dir / "model_signature.json").read_text(encoding="utf-8"))
    features = {f["name"]: f["type"] for f in signature["features"]}
    unsupported = sorted(set(features.values()) - {*NUMBERS, "category"})
    if unsupported:
        raise SystemExit(f"the benchmark's conversion handles numbers and categories, not {unsupported}")
    fitted = joblib.load(model_dir / "model.joblib")
    to_matrix = FunctionTransformer(frame_to_matrix, kw_args={"names": list(features)})
    model = Pipeline([("feature_matrix", to_matrix), ("model", fitted)])
    inputs = Schema(
        [ColSpec("string" if kind == "category" else "double", name) for name, kind in features.items()]
    )
    mlflow.sklearn.save_model(
        model,
        str(out),
        serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_CLOUDPICKLE,
        signature=ModelSignature(inputs=inputs),
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
