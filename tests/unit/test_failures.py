"""A failed step's cause in one line: the error's type and message, never its stack trace."""

from __future__ import annotations

import json

import pytest

from domain.failures import failure_message

MESSAGE = (
    "the target 'species' has a single class (Adelie) in all 32600000 rows; a classifier needs at least two."
)
STACK = [
    '  File "/var/task/handler.py", line 61, in handler\n    prepared = prepare_run(\n',
    '  File "/var/task/domain/training/prepare.py", line 114, in _split\n    raise SplitRejectedError(\n',
]


def lambda_error(error_type: str, message: str = MESSAGE) -> str:
    """A Lambda function's error, as its runtime reports it and Step Functions passes it on."""
    return json.dumps(
        {"errorMessage": message, "errorType": error_type, "requestId": "6f0b8c52", "stackTrace": STACK}
    )


def test_a_lambda_error_is_its_type_and_message() -> None:
    assert failure_message("TrainingRunFailed", lambda_error("SplitRejectedError")) == (
        f"SplitRejectedError: {MESSAGE}"
    )


@pytest.mark.parametrize("error_type", ["Exception", ""])
def test_a_type_that_says_nothing_leaves_the_message_alone(error_type: str) -> None:
    assert failure_message(None, lambda_error(error_type)) == MESSAGE


def test_a_message_that_already_names_its_type_is_not_prefixed_again() -> None:
    cause = lambda_error("Sandbox.Timedout", "Sandbox.Timedout: the function ran past its 900 s timeout")

    assert failure_message(None, cause) == "Sandbox.Timedout: the function ran past its 900 s timeout"


def test_a_caught_error_passed_on_as_text_is_read_through() -> None:
    caught = json.dumps({"Error": "SplitRejectedError", "Cause": lambda_error("SplitRejectedError")})

    assert failure_message("TrainingRunFailed", caught) == f"SplitRejectedError: {MESSAGE}"


def test_a_sagemaker_job_description_is_the_job_and_its_failure_reason() -> None:
    description = json.dumps({
        "TrainingJobName": "penguins-0123abcd-89ef4567", "TrainingJobStatus": "Failed",
        "FailureReason": "AlgorithmError: the train channel has a single class of 'species'",
        "AlgorithmSpecification": {"TrainingImage": "sklearn:1.2-1"}, "HyperParameters": {"a": "1"},
    })  # fmt: skip

    assert failure_message("States.TaskFailed", description) == (
        "penguins-0123abcd-89ef4567 failed: AlgorithmError: the train channel has a single class of 'species'"
    )


@pytest.mark.parametrize(
    ("error", "cause", "expected"),
    [
        (
            "GateRejected",
            "roc_auc 0.61 is below the minimum 0.7",
            "GateRejected: roc_auc 0.61 is below the minimum 0.7",
        ),
        (None, "roc_auc 0.61 is below the minimum 0.7", "roc_auc 0.61 is below the minimum 0.7"),
        ("States.Timeout", None, "States.Timeout"),
        ("SageMaker.ValidationException", "{not json", "SageMaker.ValidationException: {not json"),
        ("States.TaskFailed", '["a list"]', '["a list"]'),
        (None, None, ""),
    ],
    ids=["sentence", "sentence-alone", "no-cause", "not-json", "not-a-document", "nothing"],
)
def test_a_cause_that_is_not_a_document_is_kept_as_it_is(
    error: str | None, cause: str | None, expected: str
) -> None:
    assert failure_message(error, cause) == expected
