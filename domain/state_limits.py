"""What the platform puts into a workflow's state, bounded: texts cut, lists capped, errors shortened.

Step Functions holds at most 256 KiB in a state's input or output, and an execution that passes it
fails with ``States.DataLimitExceeded``, which a Catch on ``States.ALL`` does not catch: the workflow
would end FAILED with no alert and no record
(https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html,
https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html). An error's cause,
the JSON of a Lambda error (``errorMessage``, ``errorType``, ``stackTrace``), is also the cause of the
failure event, documented as at most 32,768 characters
(https://docs.aws.amazon.com/step-functions/latest/apireference/API_TaskFailedEventDetails.html).

So every value whose size grows with the data or the configuration (a reason per metric, a problem
per column, an exception's message that quotes a value) goes through these functions before it enters
a state; the whole stays where a record in S3 says.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import ParamSpec, TypeVar

__all__ = [
    "MAX_FRAMES",
    "MAX_ITEMS",
    "MAX_TEXT",
    "bounded_error",
    "bounded_errors",
    "cap_list",
    "cap_mapping",
    "cap_text",
    "cap_texts",
]

MAX_TEXT = 1_000  # characters of one text: a reason, a summary, an error's message
MAX_ITEMS = 20  # entries of one list or mapping
# Frames of an error's stack trace: with the message, a Lambda error's cause stays far below 32,768
# characters (a frame is a file, a line number and one source line).
MAX_FRAMES = 20

T = TypeVar("T")
V = TypeVar("V")
P = ParamSpec("P")
R = TypeVar("R")


def cap_text(text: str, limit: int = MAX_TEXT) -> str:
    """``text`` in at most ``limit`` characters: its start, then how long the whole was.

    Parameters
    ----------
    text : str
    limit : int
        At least 60 (room for the note).

    Returns
    -------
    str
        ``text`` itself when it fits, else its start and ``... [N characters in all]``.
    """
    if len(text) <= limit:
        return text
    note = f" ... [{len(text):,} characters in all]"
    return text[: max(0, limit - len(note))] + note


def cap_list(items: Sequence[T], more: Callable[[int], T], limit: int = MAX_ITEMS) -> list[T]:
    """The first ``limit`` of ``items``, then ``more(N)`` for the ``N`` left out (if any).

    Parameters
    ----------
    items : sequence
    more : callable
        Makes the entry that stands for the ``N`` items left out ("... and N more: see <where>").
    limit : int

    Returns
    -------
    list
        At most ``limit + 1`` entries.
    """
    kept = list(items[:limit])
    hidden = len(items) - len(kept)
    return [*kept, more(hidden)] if hidden > 0 else kept


def cap_texts(texts: Sequence[str], where: str = "", limit: int = MAX_ITEMS) -> list[str]:
    """Texts (reasons, problems) for a state: each cut by :func:`cap_text`, the rest counted.

    Parameters
    ----------
    texts : sequence of str
    where : str, optional
        Where the whole list is (a URI), named in the note for the ones left out.
    limit : int

    Returns
    -------
    list of str
        At most ``limit`` texts of at most ``MAX_TEXT`` characters, then "... and N more (see ...)".
    """
    see = f" (see {where})" if where else ""
    return cap_list([cap_text(t) for t in texts], lambda n: f"... and {n:,} more{see}.", limit)


def cap_mapping(mapping: Mapping[str, V], limit: int = MAX_ITEMS) -> dict[str, V]:
    """The first ``limit`` entries of ``mapping`` by key, leaving out keys of over ``MAX_TEXT``.

    A key is a name (a metric's): one too long to carry is left out rather than cut, since two cut
    keys could become one. The caller says how many were left out (``len(mapping) - len(result)``).
    """
    names = sorted(key for key in mapping if len(key) <= MAX_TEXT)
    return {key: mapping[key] for key in names[:limit]}


def bounded_error(error: Exception, limit: int = MAX_TEXT, frames: int = MAX_FRAMES) -> Exception:
    """``error`` as a workflow can carry it: its message within ``limit``, its last ``frames`` frames.

    Lambda's Python runtime reports an unhandled error as its class's ``__name__`` (``errorType``),
    ``str(error)`` and the frames of the error's own traceback (``build_fault_result`` in
    aws/aws-lambda-python-runtime-interface-client, ``awslambdaric/bootstrap.py``), and the workflows
    retry and catch errors by that name: an error whose message is too long is replaced by one of a class with
    the same name, whose message is the start of the original's (:func:`cap_text`). The stack trace
    keeps the frames nearest to where the error was raised.

    Parameters
    ----------
    error : Exception
    limit, frames : int

    Returns
    -------
    Exception
        ``error`` itself (its traceback shortened) when its message fits, else the stand-in.
    """
    trace = _last_frames(error.__traceback__, frames)
    message = str(error)
    if len(message) <= limit:
        return error.with_traceback(trace)
    kind = type(error)
    stand_in: type[Exception] = type(
        kind.__name__,
        (Exception,),
        {"__module__": kind.__module__, "__qualname__": kind.__qualname__, "__doc__": kind.__doc__},
    )
    return stand_in(cap_text(message, limit)).with_traceback(trace)


def bounded_errors(handler: Callable[P, R]) -> Callable[P, R]:
    """Decorate a workflow step's handler: whatever it raises reaches the workflow bounded.

    Put it nearest the function (below Powertools' decorators), so that what they log and trace is
    the bounded error too.
    """

    @functools.wraps(handler)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return handler(*args, **kwargs)
        except Exception as error:
            bounded = bounded_error(error)
            if bounded is error:
                raise
            raise bounded from None  # the original's message is what was too long to carry

    return run


def _last_frames(trace: TracebackType | None, count: int) -> TracebackType | None:
    entries: list[TracebackType] = []
    while trace is not None:
        entries.append(trace)
        trace = trace.tb_next
    return entries[-count] if len(entries) > count else (entries[0] if entries else None)
