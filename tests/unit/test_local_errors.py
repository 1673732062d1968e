"""The local cloud answers a request that breaks an API's constraints in AWS's words."""

from __future__ import annotations

from localcloud.errors import SENSITIVE, constraint_failure, validation_errors


def test_each_failure_shows_its_value_as_aws_does_and_they_are_counted() -> None:
    # Given a value, a missing member and a sensitive one
    failures = [
        constraint_failure(64, "maxResults", "Member must have value less than or equal to 50"),
        constraint_failure(None, "roleArn", "Member must not be null"),
        constraint_failure(SENSITIVE, "input", "Member must have length less than or equal to 262144"),
    ]

    # When they make one message
    message = validation_errors(failures)

    # Then a value is quoted, a missing one is null, a sensitive one is left out, and they are counted
    assert message == (
        "3 validation errors detected: "
        "Value '64' at 'maxResults' failed to satisfy constraint: "
        "Member must have value less than or equal to 50; "
        "Value null at 'roleArn' failed to satisfy constraint: Member must not be null; "
        "Value at 'input' failed to satisfy constraint: Member must have length less than or equal to 262144"
    )
    assert validation_errors(failures[1:2]).startswith("1 validation error detected: Value null at 'roleArn'")
