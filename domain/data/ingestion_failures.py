"""When an upload cannot be validated at all: what went wrong, in words a person can act on.

Validation turns every problem with the data into a rejection. What is left is not the data's fault:
the upload could not be read from storage, or the validation itself failed (a bug). Either way the
upload still gets a verdict, recorded apart from rejections (``failure.json`` beside where a report
would be) so that it is never mistaken for one and a later attempt is recorded as usual. The record
says what failed and where in our code; the exception's own text goes to the function's log only.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, cast

from domain.data.validation.scratch import StorageFullError
from domain.deadline import ValidationTimeoutError
from domain.failures import failure_message

RETRY_ADVICE = "the upload is kept; retry with `mlops data push` or ask the platform's operators"
TIMEOUT_ADVICE = (
    "the upload is kept; split it into smaller files and push those, or raise "
    "`validation.timeout_minutes` in cdk.json (at most 15) and deploy, or ask the platform's operators"
)
STORAGE_ADVICE = (
    "the upload is kept; raise `validation.ephemeral_storage_gb` in cdk.json (at most 10) and deploy, or "
    "lower the contract's `limits.max_file_bytes` (the function holds an upload and its snapshot, each up "
    "to that limit, in its ephemeral storage) and push the data as smaller files"
)
_MAX_DETAIL = 300
# The folder that holds domain/ (the repository, or a Lambda asset).
_ROOT = Path(__file__).resolve().parents[2]  # the project, or the Lambda asset


class UploadReadError(Exception):
    """Reading the upload's bytes failed (storage or network), not anything about its content."""


class UploadDeniedError(Exception):
    """The function's role may not read the upload; the message is the storage's denial.

    A denial names only the role's session, the action and the object (AWS's ``AccessDenied`` text), so
    unlike other exceptions' text it goes into the failure record and the alert: it says what to grant.
    """


class _GuardedStream:
    """An upload's stream whose read failures are :class:`UploadReadError`."""

    def __init__(self, inner: BinaryIO) -> None:
        self._inner = inner

    def read(self, size: int = -1, /) -> bytes:
        try:
            return self._inner.read(size)
        except Exception as error:
            raise UploadReadError(type(error).__name__) from error

    def close(self) -> None:
        self._inner.close()


def guard_reads(
    opener: Callable[[], BinaryIO], passes: tuple[type[Exception], ...]
) -> Callable[[], BinaryIO]:
    """``opener``, with every failure to open or read the upload raised as :class:`UploadReadError`.

    Parameters
    ----------
    opener : callable
        Opens the upload from its start.
    passes : tuple of exception types
        Raised as they are (e.g. "the upload no longer exists", which has its own verdict).

    Returns
    -------
    callable
        The same opener, whose streams tell a failed read apart from a failure of validation itself.
    """

    def open_guarded() -> BinaryIO:
        try:
            stream = opener()
        except passes:
            raise
        except Exception as error:
            raise UploadReadError(type(error).__name__) from error
        return cast(BinaryIO, _GuardedStream(stream))

    return open_guarded


def where(error: BaseException) -> str | None:
    """The deepest place in the platform's own code that ``error`` passed through (``path:line in name``)."""
    found = None
    for frame in traceback.extract_tb(error.__traceback__):
        path = Path(frame.filename).resolve()
        if path.is_relative_to(_ROOT) and "site-packages" not in path.parts:
            found = f"{path.relative_to(_ROOT)}:{frame.lineno} in {frame.name}"
    return found


def describe_failure(error: BaseException, size: int | None = None) -> dict[str, Any]:
    """What a failure record says about ``error``: its kind, type, place and a summary for people.

    Parameters
    ----------
    error : BaseException
        Why validation stopped.
    size : int, optional
        The upload's size in bytes, if known (said when the time ran out).

    Returns
    -------
    dict
        ``kind`` ("upload_unreadable", "timeout", "storage_full" or "internal"), ``type`` (the
        exception's class), ``where`` (see :func:`where`) and ``summary``: "could not be
        validated...; the upload is kept; ...".
    """
    if isinstance(error, ValidationTimeoutError):
        of = f" of {size:,}" if size is not None else ""
        summary = (
            f"could not be validated within the function's time limit ({_duration(error.limit_seconds)}) "
            f"after reading {error.bytes_read:,}{of} bytes; {TIMEOUT_ADVICE}"
        )
        return {"kind": "timeout", "type": type(error).__name__, "where": None, "summary": summary}
    if isinstance(error, StorageFullError):
        return {
            "kind": "storage_full",
            "type": type(error).__name__,
            "where": where(error),
            "summary": f"could not be validated: {_storage_full(error, size)}; {STORAGE_ADVICE}",
        }
    if isinstance(error, UploadReadError):
        cause = error.__cause__ or error
        kind, what = "upload_unreadable", f"the upload could not be read from the data bucket ({error})"
        if isinstance(cause, UploadDeniedError):
            what = f"the validation function may not read the upload ({cause})"
    else:
        cause = error
        kind, what = "internal", f"the validation failed on an internal error ({type(error).__name__})"
    place = where(cause)
    return {
        "kind": kind,
        "type": type(cause).__name__,
        "where": place,
        "summary": f"could not be validated: {what}; {RETRY_ADVICE}",
    }


@dataclass(frozen=True)
class StoppedInvocation:
    """How a validation function's invocation ended that no code of ours lived through.

    Attributes
    ----------
    expired
        The event expired before the function got to run on it (throttled for hours).
    attempts
        How many times the function was invoked on the event, when known.
    error_type, error_message
        The runtime's error (``Runtime.OutOfMemory``, ``Sandbox.Timedout``...), when it reported one.
    """

    expired: bool = False
    attempts: int | None = None
    error_type: str | None = None
    error_message: str = ""


def describe_stopped(stopped: StoppedInvocation) -> dict[str, Any]:
    """What a failure record says when the function stopped with no code of ours left to say it.

    Returns
    -------
    dict
        The same fields as :func:`describe_failure`, ``kind`` "stopped".
    """
    if stopped.expired:
        what = (
            "the validation function did not get to run on it before the event expired (throttled for hours)"
        )
    else:
        detail = failure_message(stopped.error_type, stopped.error_message) or "no error was reported"
        if len(detail) > _MAX_DETAIL:
            detail = detail[: _MAX_DETAIL - 3] + "..."
        tries = f", {stopped.attempts} attempts" if stopped.attempts else ""
        what = f"the validation function stopped before it could finish ({detail}{tries})"
    return {
        "kind": "stopped",
        "type": stopped.error_type,
        "where": None,
        "summary": f"could not be validated: {what}; {RETRY_ADVICE}",
    }


def _storage_full(error: StorageFullError, size: int | None) -> str:
    of = f" of {_mib(error.capacity)}" if error.capacity is not None else ""
    upload = f" for this {_mib(size)} upload" if size is not None else ""
    return (
        f"the validation function's ephemeral storage (/tmp{of}) filled up while it was writing "
        f"{error.what}{upload}, after {_mib(error.written)} of it"
    )


def _mib(size: int) -> str:
    return f"{size / (1 << 20):,.1f} MiB"


def _duration(seconds: float) -> str:
    if seconds >= 60 and seconds % 60 == 0:
        minutes = int(seconds // 60)
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{seconds:g} second{'s' if seconds != 1 else ''}"
