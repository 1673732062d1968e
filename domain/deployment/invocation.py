"""Serving one request of the invocation API: the dataset's serverless endpoint answers, a sample is captured.

The answer goes back as the model gave it: a model's own refusal (SageMaker's ``ModelError``) keeps the
model's status and message, so that an application sees the contract's explanation; the runtime's
refusals become the API's statuses. A sample of requests, refused ones included (the drift monitor sees
what applications send), is written in SageMaker's data-capture format (``domain.deployment.capture``)
where the monitor reads real-time endpoints' captures too: under the prefix of the model version the
endpoint runs (``domain.names.capture_uri_prefix``), which the runtime port learns from the endpoint's
configuration. A capture that cannot be written never fails the request; one whose version cannot be
learned is written under the dataset's prefix alone, where the monitor counts it as unattributed.

An app names a request with ``X-Amzn-SageMaker-Inference-Id`` as it would with ``InvokeEndpoint``'s
``InferenceId`` (``domain.deployment.inference_id``): the ID goes to the endpoint, and into the capture
record at ``eventMetadata.inferenceId``, where labels find the request's rows. One SageMaker would
refuse is the API's 400, said in our words, before anything is invoked or captured.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from domain.deployment.capture import capture_key, capture_record
from domain.deployment.endpoint import VARIANT
from domain.deployment.inference_id import INFERENCE_ID_HEADER, inference_id_message
from domain.deployment.serving_config import ServingConfig
from domain.names import capture_prefix, capture_uri_prefix, endpoint_name

__all__ = [
    "Answer",
    "CaptureNotWrittenError",
    "CaptureStore",
    "Invocation",
    "ModelAnswer",
    "ModelRefusedError",
    "Runtime",
    "RuntimeRefusedError",
    "Served",
    "VersionUnknownError",
    "serve",
]

# The runtime's refusals as the API states them; any other is the gateway's upstream failing (502).
RUNTIME_STATUS = {"ValidationError": 404, "ThrottlingException": 429, "ServiceUnavailable": 503}
UPSTREAM_FAILED = 502


@dataclass(frozen=True)
class Invocation:
    """One request to the API: the dataset its path names, the body as sent, its media types, and the
    inference ID the app gave it (None: none)."""

    dataset: str
    body: bytes
    content_type: str
    accept: str
    inference_id: str | None = None


@dataclass(frozen=True)
class ModelAnswer:
    """What the endpoint answered."""

    body: bytes
    content_type: str


@dataclass(frozen=True)
class Answer:
    """The API's answer: a status, a text body and its media type."""

    status: int
    body: str
    content_type: str = "application/json"

    @classmethod
    def error(cls, status: int, message: str) -> Answer:
        """An answer of the API's own: ``{"error": message}``."""
        return cls(status, json.dumps({"error": message}))


class ModelRefusedError(Exception):
    """The model answered with an error status (SageMaker's ``ModelError``): its status and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"the model answered {status}: {message}")
        self.status = status
        self.message = message


class RuntimeRefusedError(Exception):
    """The runtime refused the invocation before or instead of the model: its error code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class CaptureNotWrittenError(Exception):
    """A capture record could not be stored."""


class VersionUnknownError(Exception):
    """The model version an endpoint runs could not be learned (its description was refused)."""


class Runtime(Protocol):
    """The SageMaker runtime, as the API needs it."""

    def invoke(self, endpoint: str, invocation: Invocation) -> ModelAnswer:
        """The endpoint's answer; raises ``ModelRefusedError`` or ``RuntimeRefusedError``."""
        ...

    def serving_version(self, endpoint: str) -> int | None:
        """The model version of the configuration ``endpoint`` runs; None for one the platform did not make.

        Raises ``VersionUnknownError`` when the endpoint cannot be described.
        """
        ...


class CaptureStore(Protocol):
    """Where capture records are written."""

    def write(self, key: str, record: dict[str, Any]) -> None:
        """Store one record as a JSON Lines object at ``key``; raises ``CaptureNotWrittenError``."""
        ...


@dataclass(frozen=True)
class Served:
    """How a request was served: the answer, and what the function reports about it.

    ``endpoint`` is None when the dataset is not served by this API (nothing was invoked);
    ``version_error`` says why a capture was written without its model version.
    """

    answer: Answer
    endpoint: str | None = None
    refusal: RuntimeRefusedError | None = None
    capture_error: CaptureNotWrittenError | None = None
    version_error: VersionUnknownError | None = None


def serve(
    invocation: Invocation,
    *,
    project: str,
    serving: Mapping[str, ServingConfig],
    runtime: Runtime,
    captures: CaptureStore,
    chance: Callable[[], float] = random.random,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    unique: Callable[[], str] = lambda: str(uuid.uuid4()),
) -> Served:
    """Invoke the dataset's serverless endpoint with the request, capture a sample, and answer.

    Parameters
    ----------
    invocation
        The request.
    project
        The platform's project name (endpoints are named after it and the dataset).
    serving
        The declared serving configuration of each dataset; only serverless ones are served here.
    runtime, captures
        The SageMaker runtime and the capture store.
    chance
        A draw in [0, 1): a request is captured when it falls under the dataset's ``capture_percent``.
    clock, unique
        The capture's time and its unique id (record and key).

    Returns
    -------
    Served
        The answer, the endpoint invoked, the runtime's refusal if any, a capture write's failure if any,
        and why the capture has no version, if it has none.
    """
    config = serving.get(invocation.dataset)
    if config is None or config.mode != "serverless":
        return Served(Answer.error(404, f"{invocation.dataset!r} is not a dataset served by this API"))
    endpoint = endpoint_name(project, invocation.dataset)
    if invocation.inference_id is not None:
        message = inference_id_message(invocation.inference_id, where=f"header {INFERENCE_ID_HEADER}")
        if message is not None:
            return Served(Answer.error(400, message), endpoint)
    refusal: RuntimeRefusedError | None = None
    try:
        model = runtime.invoke(endpoint, invocation)
        answer = Answer(200, model.body.decode("utf-8", errors="replace"), model.content_type)
    except ModelRefusedError as error:
        answer = Answer(error.status, error.message)
    except RuntimeRefusedError as error:
        refusal = error
        answer = Answer.error(RUNTIME_STATUS.get(error.code, UPSTREAM_FAILED), error.message)
    capture_error: CaptureNotWrittenError | None = None
    version_error: VersionUnknownError | None = None
    if chance() * 100 < config.capture_percent:  # sampling, not security
        try:
            version = runtime.serving_version(endpoint)
        except VersionUnknownError as error:
            version, version_error = None, error
        prefix = (
            capture_prefix(invocation.dataset)
            if version is None
            else capture_uri_prefix(invocation.dataset, version)
        )
        try:
            _capture(invocation, endpoint, answer, captures, prefix=prefix, at=clock(), event_id=unique())
        except CaptureNotWrittenError as error:
            capture_error = error
    return Served(answer, endpoint, refusal, capture_error, version_error)


def _capture(
    invocation: Invocation,
    endpoint: str,
    answer: Answer,
    captures: CaptureStore,
    *,
    prefix: str,
    at: datetime,
    event_id: str,
) -> None:
    record = capture_record(
        request=invocation.body,
        request_type=invocation.content_type,
        response=answer.body.encode("utf-8"),
        response_type=answer.content_type,
        event_id=event_id,
        at=at,
        inference_id=invocation.inference_id,
    )
    captures.write(capture_key(prefix, endpoint, VARIANT, at, event_id), record)
