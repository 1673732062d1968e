"""Serving one request: the answer as the model gave it, the runtime's refusals as the API's, a capture."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from domain.deployment.invocation import (
    CaptureNotWrittenError,
    Invocation,
    ModelAnswer,
    ModelRefusedError,
    RuntimeRefusedError,
    VersionUnknownError,
    serve,
)
from domain.deployment.serving_config import ServingConfig, parse_serving_config

AT = datetime(2026, 11, 26, 10, 5, 7, 123456, tzinfo=UTC)
EVENT_ID = "0b5e2c47-1111-4222-8333-944455556666"
PREDICTIONS = b'{"predictions": [{"prediction": 1}]}'


class FakeRuntime:
    """The SageMaker runtime: answers like the model, or raises the refusal it was given.

    Its endpoint runs model version ``version``, or cannot be described when ``version`` is an error.
    """

    def __init__(self, refusal: Exception | None = None, version: int | Exception | None = 3) -> None:
        self.refusal = refusal
        self.version = version
        self.calls: list[tuple[str, Invocation]] = []
        self.described: list[str] = []

    def invoke(self, endpoint: str, invocation: Invocation) -> ModelAnswer:
        self.calls.append((endpoint, invocation))
        if self.refusal is not None:
            raise self.refusal
        return ModelAnswer(PREDICTIONS, "application/json")

    def serving_version(self, endpoint: str) -> int | None:
        self.described.append(endpoint)
        if isinstance(self.version, Exception):
            raise self.version
        return self.version


class FakeCaptures:
    """The capture store: keeps what it is given, or fails every write."""

    def __init__(self, *, failing: bool = False) -> None:
        self.failing = failing
        self.written: dict[str, dict[str, Any]] = {}

    def write(self, key: str, record: dict[str, Any]) -> None:
        if self.failing:
            raise CaptureNotWrittenError("AccessDenied")
        self.written[key] = record


def _serving(capture_percent: int = 100) -> dict[str, ServingConfig]:
    return {
        "churn": parse_serving_config({"mode": "serverless", "capture_percent": capture_percent}),
        "sales": parse_serving_config({}),  # real-time: SageMaker captures by itself
    }


def _serve(
    runtime: FakeRuntime,
    captures: FakeCaptures,
    *,
    dataset: str = "churn",
    body: bytes = b"age,plan\n40,basic\n",
    capture_percent: int = 100,
    draw: float = 0.0,
    inference_id: str | None = None,
) -> Any:
    return serve(
        Invocation(
            dataset=dataset,
            body=body,
            content_type="text/csv",
            accept="application/json",
            inference_id=inference_id,
        ),
        project="mlops",
        serving=_serving(capture_percent),
        runtime=runtime,
        captures=captures,
        chance=lambda: draw,
        clock=lambda: AT,
        unique=lambda: EVENT_ID,
    )


def test_a_request_is_answered_by_the_endpoint_and_captured_in_sagemaker_s_format() -> None:
    runtime, captures = FakeRuntime(), FakeCaptures()

    served = _serve(runtime, captures)

    assert (served.answer.status, served.answer.content_type) == (200, "application/json")
    assert json.loads(served.answer.body) == {"predictions": [{"prediction": 1}]}
    assert served.endpoint == "mlops-churn"
    ((endpoint, invocation),) = runtime.calls
    assert (endpoint, invocation.content_type, invocation.accept) == (
        "mlops-churn",
        "text/csv",
        "application/json",
    )
    ((key, record),) = captures.written.items()
    # under the prefix of the version the endpoint runs, in SageMaker's layout below it
    assert key == f"capture/churn/v3/mlops-churn/AllTraffic/2026/11/26/10/05-07-123-{EVENT_ID}.jsonl"
    assert record["captureData"]["endpointInput"] == {
        "observedContentType": "text/csv",
        "mode": "INPUT",
        "data": "age,plan\n40,basic\n",
        "encoding": "CSV",
    }
    assert record["captureData"]["endpointOutput"]["encoding"] == "JSON"
    assert json.loads(record["captureData"]["endpointOutput"]["data"]) == {"predictions": [{"prediction": 1}]}
    assert record["eventMetadata"] == {"eventId": EVENT_ID, "inferenceTime": "2026-11-26T10:05:07.123Z"}
    assert (served.refusal, served.capture_error, served.version_error) == (None, None, None)


def test_a_request_the_model_refuses_keeps_the_model_s_status_and_message_and_is_captured() -> None:
    message = '{"error": "BadRequest", "message": "row 0, \'age\': missing"}'
    runtime, captures = FakeRuntime(ModelRefusedError(400, message)), FakeCaptures()

    served = _serve(runtime, captures, body=b"nonsense")

    assert (served.answer.status, served.answer.body) == (400, message)
    assert served.answer.content_type == "application/json"
    assert served.refusal is None  # the model answered: nothing went wrong on the way
    ((record),) = captures.written.values()  # the monitor sees what applications send
    assert record["captureData"]["endpointOutput"]["data"] == message


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("ValidationError", 404),
        ("ThrottlingException", 429),
        ("ServiceUnavailable", 503),
        ("InternalFailure", 502),
    ],
)
def test_the_runtime_s_refusals_become_the_api_s_statuses_with_its_message(code: str, status: int) -> None:
    refusal = RuntimeRefusedError(code, "Endpoint mlops-churn of account 123456789012 not found.")

    served = _serve(FakeRuntime(refusal), FakeCaptures())

    assert served.answer.status == status
    assert json.loads(served.answer.body) == {
        "error": "Endpoint mlops-churn of account 123456789012 not found."
    }
    assert served.refusal is refusal


@pytest.mark.parametrize("dataset", ["sales", "unknown"])
def test_a_dataset_not_served_serverless_is_404_and_nothing_is_invoked_or_captured(dataset: str) -> None:
    runtime, captures = FakeRuntime(), FakeCaptures()

    served = _serve(runtime, captures, dataset=dataset)

    assert served.answer.status == 404
    assert json.loads(served.answer.body) == {"error": f"{dataset!r} is not a dataset served by this API"}
    assert served.endpoint is None
    assert runtime.calls == []
    assert captures.written == {}


@pytest.mark.parametrize(("draw", "captured"), [(0.0, True), (0.2499, True), (0.25, False), (0.99, False)])
def test_a_request_is_captured_when_its_draw_falls_under_the_capture_percent(
    draw: float, captured: bool
) -> None:
    captures = FakeCaptures()

    runtime = FakeRuntime()

    served = _serve(runtime, captures, capture_percent=25, draw=draw)

    assert served.answer.status == 200
    assert bool(captures.written) is captured
    # the endpoint is described for a capture only
    assert runtime.described == (["mlops-churn"] if captured else [])


def test_a_capture_that_cannot_be_written_is_reported_and_the_request_still_answered() -> None:
    served = _serve(FakeRuntime(), FakeCaptures(failing=True))

    assert served.answer.status == 200
    assert json.loads(served.answer.body) == {"predictions": [{"prediction": 1}]}
    assert isinstance(served.capture_error, CaptureNotWrittenError)


def test_an_answer_that_is_not_utf_8_is_answered_with_replacement_characters() -> None:
    class BinaryRuntime(FakeRuntime):
        def invoke(self, endpoint: str, invocation: Invocation) -> ModelAnswer:
            return ModelAnswer(b"\xff\xfe1", "application/octet-stream")

    served = _serve(BinaryRuntime(), FakeCaptures())

    assert (served.answer.body, served.answer.content_type) == ("\ufffd\ufffd1", "application/octet-stream")


@pytest.mark.parametrize(
    ("version", "reported"),
    [
        (None, False),  # the endpoint runs a configuration the platform did not make
        (VersionUnknownError("endpoint mlops-churn could not be described (ThrottlingException)"), True),
    ],
)
def test_a_capture_whose_version_is_unknown_is_written_unattributed_and_the_request_answered(
    version: VersionUnknownError | None, reported: bool
) -> None:
    captures = FakeCaptures()

    served = _serve(FakeRuntime(version=version), captures)

    assert served.answer.status == 200
    # kept under the dataset's prefix alone, which the monitor counts as unattributed
    ((key, _),) = captures.written.items()
    assert key == f"capture/churn/mlops-churn/AllTraffic/2026/11/26/10/05-07-123-{EVENT_ID}.jsonl"
    assert served.version_error is (version if reported else None)


def test_an_inference_id_reaches_the_endpoint_and_the_capture_record() -> None:
    # Given a request named by the app
    runtime, captures = FakeRuntime(), FakeCaptures()

    # When
    served = _serve(runtime, captures, inference_id="order-1017")

    # Then the runtime is asked with it, and the record carries it where SageMaker's data capture does
    assert served.answer.status == 200
    ((_, invocation),) = runtime.calls
    assert invocation.inference_id == "order-1017"
    ((_, record),) = captures.written.items()
    assert record["eventMetadata"] == {
        "eventId": EVENT_ID,
        "inferenceId": "order-1017",
        "inferenceTime": "2026-11-26T10:05:07.123Z",
    }


@pytest.mark.parametrize("inference_id", ["", "x" * 65, "tab\there"])
def test_an_inference_id_sagemaker_would_refuse_is_400_and_nothing_is_invoked_or_captured(
    inference_id: str,
) -> None:
    # Given
    runtime, captures = FakeRuntime(), FakeCaptures()

    # When
    served = _serve(runtime, captures, inference_id=inference_id)

    # Then the API's own 400 names the header and the value, and counts as the dataset's request
    assert served.answer.status == 400
    message = json.loads(served.answer.body)["error"]
    assert message.startswith(f"the inference ID {inference_id!r} in header X-Amzn-SageMaker-Inference-Id ")
    assert served.endpoint == "mlops-churn"
    assert (runtime.calls, captures.written) == ([], {})
