"""An invocation's ``InferenceId`` by SageMaker's rule: what it takes, what it refuses and how we say so."""

from __future__ import annotations

import pytest

from domain.deployment.inference_id import (
    InferenceIdError,
    check_inference_id,
    inference_id_problem,
    matches_inference_id_pattern,
)


@pytest.mark.parametrize(
    "value",
    ["a", "order-1017", "0b5e2c47-1111-4222-8333-944455556666", "x" * 64, "with spaces inside", "é-first"],
)
def test_ids_sagemaker_takes_are_taken(value: str) -> None:
    # Given / When / Then: 1 to 64 characters, a first that is not white space, then printable ASCII
    assert inference_id_problem(value) is None
    assert check_inference_id(value, where="row 1") == value


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("", "is empty"),
        ("x" * 65, "has 65 characters; SageMaker takes at most 64"),
        (" leading", "must start with a character that is not a space"),
        ("tab\tinside", "only printable ASCII"),
        ("line\nbreak", "only printable ASCII"),
        ("accent-é", "only printable ASCII"),
    ],
)
def test_ids_sagemaker_refuses_are_refused_with_what_is_wrong_and_where(value: str, said: str) -> None:
    # Given / When
    with pytest.raises(InferenceIdError) as raised:
        check_inference_id(value, where="row 3 of orders.csv")

    # Then
    message = str(raised.value)
    assert said in message
    assert "in row 3 of orders.csv" in message


def test_the_pattern_is_sagemaker_s_first_character_then_printable_ascii() -> None:
    # Given / When / Then: Java's \S takes any first character but white space; \p{Print} is ASCII
    assert matches_inference_id_pattern("é~ !")
    assert not matches_inference_id_pattern("\x0bvertical-tab")
    assert not matches_inference_id_pattern("ok\x7f")
    assert not matches_inference_id_pattern("")
