"""The model's handler functions behind one ``transform``: the container's request pipeline.

``model_fn(model_dir)`` runs once; then each request runs ``transform_fn(model, body, content_type,
accept)`` when the module defines it, else ``input_fn(body, content_type)`` -> ``predict_fn(data,
model)`` -> ``output_fn(prediction, accept)``. Whatever the last function returns becomes a
:class:`~sagemaker_containers._worker.Response`: a ``Response`` as it is, a ``(body, content_type)``
tuple with status 200 (as the real container does), and, as Flask would, ``str``/``bytes`` as
``text/html`` and a ``dict``/``list`` as JSON.

An :class:`~sagemaker_containers._errors.UnsupportedFormatError` from ``input_fn`` answers 415, from
``output_fn`` 406 (a JSON body, without a stack trace); any other exception is left to the server.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from sagemaker_containers import _content_types, _errors, _worker

ModelFn = Callable[[str], Any]
InputFn = Callable[[Any, str], Any]
PredictFn = Callable[[Any, Any], Any]
OutputFn = Callable[[Any, str], Any]
TransformFn = Callable[[Any, Any, str, str], Any]


def default_model_fn(model_dir: str) -> Any:
    """The container's ``model_fn`` when the module has none: it cannot guess how to load a model."""
    raise NotImplementedError(
        "Please provide a model_fn implementation. "
        "See documentation for model_fn at https://github.com/aws/sagemaker-python-sdk"
    )


class Transformer:
    """The handler functions of one model, with the model they loaded.

    Parameters
    ----------
    model_fn, input_fn, predict_fn, output_fn : Callable
        The handler functions (the server passes the container's defaults for the missing ones).
    transform_fn : Callable | None
        Replaces the other three request functions; giving both is an error, as in the container.
    """

    def __init__(
        self,
        *,
        model_fn: ModelFn,
        input_fn: InputFn,
        predict_fn: PredictFn,
        output_fn: OutputFn,
        transform_fn: TransformFn | None = None,
    ) -> None:
        self._model_fn = model_fn
        self._input_fn = input_fn
        self._predict_fn = predict_fn
        self._output_fn = output_fn
        self._transform_fn = transform_fn
        self._model: Any = None
        self.loaded = False

    def initialize(self, model_dir: str) -> None:
        """Load the model (``model_fn``), once, before the first request."""
        self._model = self._model_fn(model_dir)
        self.loaded = True

    def transform(self, content: str | bytes, content_type: str, accept: str) -> _worker.Response:
        """Answer one request.

        Parameters
        ----------
        content : str | bytes
            The body: ``str`` for the UTF-8 types, ``bytes`` otherwise.
        content_type : str
            The request's content type.
        accept : str
            The content type the caller accepts (the server has applied the default).
        """
        if self._transform_fn is not None:
            result = self._transform_fn(self._model, content, content_type, accept)
        else:
            try:
                data = self._input_fn(content, content_type)
            except _errors.UnsupportedFormatError as error:
                return _error_response(error, HTTPStatus.UNSUPPORTED_MEDIA_TYPE)
            prediction = self._predict_fn(data, self._model)
            try:
                result = self._output_fn(prediction, accept)
            except _errors.UnsupportedFormatError as error:
                return _error_response(error, HTTPStatus.NOT_ACCEPTABLE)
        return as_response(result)


def as_response(result: Any) -> _worker.Response:
    """What a handler returned, as a :class:`Response` (see the module's docstring).

    Raises
    ------
    TypeError
        For anything else.
    """
    if isinstance(result, _worker.Response):
        return result
    if isinstance(result, tuple) and len(result) == 2:
        body, content_type = result
        return _worker.Response(response=body, mimetype=content_type)
    if isinstance(result, str | bytes):
        return _worker.Response(response=result, mimetype="text/html")
    if isinstance(result, dict | list):
        return _worker.Response(response=json.dumps(result), mimetype=_content_types.JSON)
    raise TypeError(
        f"output_fn/transform_fn returned {type(result).__name__}: expected a worker.Response or a "
        "(body, content_type) tuple"
    )


def _error_response(error: Exception, status: int) -> _worker.Response:
    body = json.dumps({"error": type(error).__name__, "message": str(error)})
    return _worker.Response(response=body, status=status, mimetype=_content_types.JSON)
