"""The local cloud refuses the execution names (and inputs) StartExecution refuses, and only those."""

from __future__ import annotations

import pytest
from moto.stepfunctions.exceptions import InvalidName, ValidationException

from localcloud.stepfunctions.executions import check_input, check_name


@pytest.mark.parametrize(
    "name",
    [
        "dataset v1",
        "run/1",
        "run[1]",
        "run*",
        "run\x00",
        "run\x85",
        "run\ufffe",
        "run\uffff",
        "run\ud800",
        "run\U0010ffff",
    ],
)
def test_a_name_start_execution_refuses_is_invalid(name: str) -> None:
    # Given a name AWS's StartExecution refuses; When it is checked; Then it is InvalidName
    with pytest.raises(InvalidName):
        check_name(name)


@pytest.mark.parametrize(
    ("name", "constraint"),
    [("", "Member must have length greater than or equal to 1"), ("x" * 81, "less than or equal to 80")],
)
def test_a_name_outside_1_to_80_characters_is_a_validation_exception(name: str, constraint: str) -> None:
    # Given a name of a length AWS's API refuses; When it is checked; Then it is the API's
    # ValidationException (the length is checked before the name's characters), not InvalidName
    with pytest.raises(ValidationException) as refused:
        check_name(name)

    assert refused.value.message.startswith(f"1 validation error detected: Value '{name}' at 'name' failed")
    assert refused.value.message.endswith(constraint)


@pytest.mark.parametrize(
    "name", ["x" * 80, "churn-v1-2026-12-06T08-00-00", "déploiement_1.2", "run\U0010fffd"]
)
def test_a_name_start_execution_takes_passes(name: str) -> None:
    # Given a name AWS takes (up to 80 characters, any script); When checked; Then nothing is raised
    check_name(name)


def test_an_input_over_256_kib_is_a_validation_exception_and_one_of_256_kib_is_taken() -> None:
    # Given StartExecution's input constraint (at most 262,144 characters)
    check_input("x" * 262_144)
    check_input(None)

    # When an input is one character longer; Then it is the API's ValidationException, value left out
    with pytest.raises(ValidationException) as refused:
        check_input("x" * 262_145)

    assert refused.value.message == (
        "1 validation error detected: Value at 'input' failed to satisfy constraint: "
        "Member must have length less than or equal to 262144"
    )
