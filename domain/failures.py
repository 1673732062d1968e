"""Why a workflow step failed, in one line a person reads.

Step Functions reports a failed state as an error name and a cause, and the cause is often a document
rather than a sentence: a Lambda function's error (``errorType``, ``errorMessage`` and the whole
``stackTrace``), a SageMaker job's description (``FailureReason`` among some forty fields), or a caught
error (``Error``, ``Cause``) passed on as text. The stack trace belongs in the logs and in ``--json``; the
line a user reads is the error's type and message.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["failure_message"]

# Names that say only that something failed: the message alone says more.
_GENERIC = frozenset({"", "Error", "Exception", "States.ALL", "States.TaskFailed", "Unhandled"})
_NESTING = 4  # a cause within a cause within ...: deeper than any workflow here nests them


def failure_message(error: str | None, cause: str | None) -> str:
    """One line for a failed step: ``<type>: <message>``, or the message when the type adds nothing.

    Parameters
    ----------
    error : str or None
        The error name the state reported (``States.TaskFailed``, a Lambda function's exception type,
        ``SageMaker.ValidationException``, ...).
    cause : str or None
        The cause the state reported: a sentence, or one of the JSON documents above.

    Returns
    -------
    str
        The type and message, without stack traces or job descriptions; the error name alone when there
        is no cause, ``""`` when there is neither.
    """
    kind, message = _read(error or "", cause or "", _NESTING)
    return _typed(kind, message)


def _read(error: str, cause: str, depth: int) -> tuple[str, str]:
    """The most specific (type, message) that ``cause`` holds, else (``error``, ``cause``)."""
    document = _document(cause)
    if document is None or depth == 0:
        return error, cause.strip()
    if "errorMessage" in document:  # a Lambda function's error, as its runtime reports it
        return str(document.get("errorType") or error), _text(document["errorMessage"])
    if "Cause" in document or "Error" in document:  # a caught error passed on as text
        return _read(str(document.get("Error") or error), _text(document.get("Cause")), depth - 1)
    if "FailureReason" in document:  # a SageMaker job's description (a .sync task)
        job = next((str(v) for k, v in document.items() if k.endswith("JobName")), "the job")
        status = str(document.get("TrainingJobStatus") or document.get("ProcessingJobStatus") or "Failed")
        return "", f"{job} {status.lower()}: {_text(document['FailureReason'])}"
    return error, cause.strip()


def _document(cause: str) -> dict[str, Any] | None:
    if not cause.lstrip().startswith("{"):
        return None
    try:
        document = json.loads(cause)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _typed(kind: str, message: str) -> str:
    if kind in _GENERIC or message.startswith(kind):
        return message or kind
    return f"{kind}: {message}" if message else kind
