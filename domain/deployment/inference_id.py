"""An invocation's ``InferenceId``: the app's name for a request, by which labels find its rows later.

SageMaker's rule (``InvokeEndpoint``'s ``X-Amzn-SageMaker-Inference-Id`` header, shape ``InferenceId``
of the runtime's API model): 1 to 64 characters, matching ``\\A\\S[\\p{Print}]*\\z`` (Java's classes: a
first character that is not white space, then printable ASCII, space included). The serverless
invocation API takes the same header by the same rule, so that an app passes its IDs in one way to
either kind of endpoint; the local cloud's endpoints refuse what SageMaker refuses.

Each row of a request is addressed by the ID alone when the request has one row, and as
``<id>:<row from 0>`` when it has several (``domain.monitoring.rows.row_inference_id``).
"""

from __future__ import annotations

import re

__all__ = [
    "INFERENCE_ID_HEADER",
    "INFERENCE_ID_PATTERN",
    "MAX_INFERENCE_ID_LENGTH",
    "InferenceIdError",
    "check_inference_id",
    "inference_id_message",
    "inference_id_problem",
    "matches_inference_id_pattern",
]

INFERENCE_ID_HEADER = "X-Amzn-SageMaker-Inference-Id"
MAX_INFERENCE_ID_LENGTH = 64
#: The pattern as SageMaker states it (its messages quote it).
INFERENCE_ID_PATTERN = r"\A\S[\p{Print}]*\z"
# Java's \S is anything but [ \t\n\x0B\f\r]; its \p{Print} (POSIX, ASCII) is 0x20-0x7E.
_PATTERN = re.compile(r"[^ \t\n\x0b\f\r][\x20-\x7e]*")


class InferenceIdError(ValueError):
    """An inference ID SageMaker would refuse; the message says what is wrong and how to fix it."""


def matches_inference_id_pattern(value: str) -> bool:
    """Whether ``value`` matches SageMaker's pattern (its length aside)."""
    return _PATTERN.fullmatch(value) is not None


def inference_id_problem(value: str) -> str | None:
    """What is wrong with ``value`` as an inference ID, in plain words; None when nothing is.

    Parameters
    ----------
    value : str

    Returns
    -------
    str or None
    """
    if not value:
        return "is empty; give 1 to 64 printable characters, or no inference ID at all"
    if len(value) > MAX_INFERENCE_ID_LENGTH:
        return (
            f"has {len(value)} characters; SageMaker takes at most {MAX_INFERENCE_ID_LENGTH}: use a "
            "shorter ID (a UUID has 36)"
        )
    if not matches_inference_id_pattern(value):
        return (
            "must start with a character that is not a space and hold only printable ASCII characters "
            "(letters, digits, punctuation, spaces); no tabs, line breaks or accented letters"
        )
    return None


def check_inference_id(value: str, *, where: str) -> str:
    """``value``, when it is an inference ID SageMaker takes.

    Parameters
    ----------
    value : str
    where : str
        Where it came from, for the message (a header, a file's row).

    Returns
    -------
    str

    Raises
    ------
    InferenceIdError
        Naming ``where``, the value and what is wrong.
    """
    message = inference_id_message(value, where=where)
    if message is not None:
        raise InferenceIdError(message)
    return value


def inference_id_message(value: str, *, where: str) -> str | None:
    """What is wrong with ``value`` as an inference ID, naming ``where`` it came from; None when nothing is.

    Parameters
    ----------
    value : str
    where : str
        Where it came from (a header, a file's row).

    Returns
    -------
    str or None
    """
    problem = inference_id_problem(value)
    if problem is None:
        return None
    shown = value if len(value) <= 80 else value[:77] + "..."
    return f"the inference ID {shown!r} in {where} {problem}"
