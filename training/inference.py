"""SageMaker inference entry point: the scikit-learn container's handler functions for this model.

The model archive carries this file and ``mlops_training/`` under ``code/`` (the registry sets
``SAGEMAKER_PROGRAM=inference.py`` and ``SAGEMAKER_SUBMIT_DIRECTORY=/opt/ml/model/code``), so an endpoint
runs the code the model was trained with. The local cloud's endpoints run this same file. A team's model
brings its code folder into ``code/`` too (importable from there, as in the job), and the packages it
needs beyond the image as ``code/wheels/``, activated offline before the model loads.

Bad input answers 4xx with a JSON message instead of a stack trace: ``input_fn`` cannot answer by
itself (the container turns its exceptions into 500), so it hands the ``RequestError`` on, and
``output_fn`` answers it with its status. Everything else is in :mod:`mlops_training.serving`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
from mlops_training.fast_inference import served_predictor
from mlops_training.packages import activate
from mlops_training.serving import (
    Prediction,
    RequestError,
    ServingSpec,
    parse_request,
    predict_rows,
    render,
)
from sagemaker_containers.beta.framework import worker

MAX_PAYLOAD_VARIABLE = "MLOPS_MAX_PAYLOAD_BYTES"


@dataclass(frozen=True)
class LoadedModel:
    """The fitted Pipeline (or its compiled form) and what its requests must look like."""

    pipeline: Any
    spec: ServingSpec


@dataclass(frozen=True)
class Request:
    """A request as the container hands it over: parsed in predict_fn, where the model's spec is."""

    body: bytes | str
    content_type: str | None


@dataclass(frozen=True)
class Answer:
    """What predict_fn hands to output_fn: the prediction, or why there is none."""

    spec: ServingSpec | None
    prediction: Prediction | None
    error: RequestError | None


def model_fn(model_dir: str) -> LoadedModel:
    """Load ``model.joblib`` and the serving spec (signature and contract) from the model archive.

    The Pipeline is served compiled when the compiled form computes bitwise what the Pipeline computes
    on probe rows (see :mod:`mlops_training.fast_inference`); the log says which serves and why.
    """
    folder = Path(model_dir)
    activate(folder / "code" / "wheels")  # the model's own packages, before unpickling needs them
    limit = os.environ.get(MAX_PAYLOAD_VARIABLE)
    spec = ServingSpec.from_model_dir(folder, int(limit) if limit else None)
    predictor, reason = served_predictor(joblib.load(folder / "model.joblib"), spec, folder)
    print(reason, flush=True)
    return LoadedModel(pipeline=predictor, spec=spec)


def input_fn(request_body: bytes | str, request_content_type: str | None) -> Request:
    """Keep the request as it came: checking it needs the model's spec, which predict_fn has."""
    return Request(request_body, request_content_type)


def predict_fn(input_data: Request, model: LoadedModel) -> Answer:
    """Check the request against the contract and predict its rows; a bad request becomes its error."""
    try:
        parsed = parse_request(model.spec, input_data.body, input_data.content_type)
    except RequestError as error:
        return Answer(model.spec, None, error)
    return Answer(model.spec, predict_rows(model.pipeline, model.spec, parsed), None)


def output_fn(answer: Answer, accept: str | None) -> Any:
    """The response: the prediction in the accepted type, or the request's error with its status."""
    error = answer.error
    if error is None and answer.spec is not None and answer.prediction is not None:
        try:
            body, content_type = render(answer.spec, answer.prediction, accept)
        except RequestError as unacceptable:
            error = unacceptable
        else:
            return worker.Response(response=body, status=200, mimetype=content_type)
    if error is None:  # cannot happen through predict_fn; answered rather than raised all the same
        error = RequestError(400, "nothing to answer")
    return worker.Response(
        response=json.dumps(error.to_dict()), status=error.status, mimetype="application/json"
    )
