"""The shared bounds on what enters a workflow's state: texts, lists, mappings and errors.

A state holds at most 256 KiB (``States.DataLimitExceeded``, which ``States.ALL`` does not catch), and
an error's cause is documented as at most 32,768 characters: whatever the input, these stay small.
"""

from __future__ import annotations

import json
import sys
import traceback
from typing import Any

import pytest

from domain.state_limits import (
    MAX_FRAMES,
    MAX_ITEMS,
    MAX_TEXT,
    bounded_error,
    bounded_errors,
    cap_list,
    cap_mapping,
    cap_text,
    cap_texts,
)

MB = 1024 * 1024
CAUSE_LIMIT = 32_768  # TaskFailedEventDetails.cause


class ColumnRejectedError(Exception):
    """An error a workflow catches by name."""


def lambda_cause(error: BaseException) -> str:
    """The cause Step Functions receives for a Lambda error, as the Python runtime builds it."""
    frames = traceback.extract_tb(error.__traceback__)
    document = {
        "errorMessage": str(error),
        "errorType": type(error).__name__,
        "requestId": "5c2e",
        "stackTrace": traceback.format_list(frames),
    }
    return json.dumps(document)


def test_a_text_that_fits_is_kept_and_a_longer_one_is_cut_with_its_length() -> None:
    assert cap_text("short") == "short"
    assert cap_text("x" * MAX_TEXT) == "x" * MAX_TEXT

    cut = cap_text("é" * MB)

    assert len(cut) <= MAX_TEXT
    assert cut.startswith("é" * 900)
    assert cut.endswith(f"... [{MB:,} characters in all]")


def test_a_list_keeps_its_first_items_and_counts_the_rest() -> None:
    assert cap_list([1, 2, 3], lambda n: -n, limit=3) == [1, 2, 3]
    assert cap_list(list(range(10_000)), lambda n: -n, limit=5) == [0, 1, 2, 3, 4, -9_995]


def test_thousands_of_long_reasons_become_a_few_short_ones_and_say_where_the_rest_are() -> None:
    reasons = [f"metric_{n:05d} {'is far below its minimum ' * 200}" for n in range(5_000)]

    capped = cap_texts(reasons, where="s3://data/runs/r/evaluation/gate.json")

    assert len(capped) == MAX_ITEMS + 1
    assert all(len(reason) <= MAX_TEXT for reason in capped)
    assert capped[0].startswith("metric_00000 is far below")
    assert capped[-1] == f"... and {5_000 - MAX_ITEMS:,} more (see s3://data/runs/r/evaluation/gate.json)."
    assert len(json.dumps(capped).encode()) < 32 * 1024


def test_a_mapping_keeps_its_first_keys_and_leaves_out_keys_too_long_to_carry() -> None:
    mapping = {f"{'m' * 5_000}{n:05d}": -1.0 for n in range(3_000)}
    mapping |= {f"metric_{n:05d}": float(n) for n in range(3_000)}

    capped = cap_mapping(mapping)

    assert capped == {f"metric_{n:05d}": float(n) for n in range(MAX_ITEMS)}


def _raise_deep(depth: int, message: str) -> None:
    if depth:
        _raise_deep(depth - 1, message)
    raise ColumnRejectedError(message)


def test_an_error_with_a_1_mb_message_keeps_its_name_and_a_bounded_message_and_trace() -> None:
    # Given a handler that raises an error quoting 1 MB of user data, 200 frames deep (non-ASCII: the
    # cause's JSON writes each such character as six)
    @bounded_errors
    def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
        _raise_deep(200, "column 'x' holds " + "é" * MB)
        return event

    # When it runs
    with pytest.raises(Exception) as raised:
        handler({}, None)

    # Then the workflow would see the same error name (it catches and retries by name), the start of
    # the message, and a cause far within a state and within a failure event's cause
    error = raised.value
    assert type(error).__name__ == "ColumnRejectedError"
    assert str(error).startswith("column 'x' holds ééé")
    assert len(str(error)) <= MAX_TEXT
    frames = traceback.extract_tb(error.__traceback__)
    assert len(frames) <= MAX_FRAMES + 2  # the kept frames, and the decorator's
    assert frames[-1].name == "_raise_deep"
    assert len(lambda_cause(error)) < CAUSE_LIMIT


def test_an_error_that_fits_is_raised_as_it_is_with_its_last_frames() -> None:
    @bounded_errors
    def handler() -> None:
        _raise_deep(sys.getrecursionlimit() // 2, "column 'x' is missing")

    with pytest.raises(ColumnRejectedError, match=r"^column 'x' is missing$") as raised:
        handler()

    assert len(traceback.extract_tb(raised.value.__traceback__)) <= MAX_FRAMES + 2


def test_a_result_passes_through() -> None:
    assert bounded_errors(lambda n: n + 1)(1) == 2
    assert bounded_error(ValueError("fine")).args == ("fine",)
