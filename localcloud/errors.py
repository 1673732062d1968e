"""The local cloud's exceptions, importable without importing moto."""

from __future__ import annotations


class LocalCloudError(Exception):
    """The local cloud could not do what was asked (not started, still busy, unreachable...)."""


class DaemonError(LocalCloudError):
    """The daemon could not be started, reached or stopped; the message says what to look at."""


# A member AWS leaves out of its messages (a sensitive one, such as StartExecution's input).
SENSITIVE = object()


def constraint_failure(value: object, where: str, constraint: str) -> str:
    """One member's failure in AWS's words: ``Value 'x' at 'where' failed to satisfy constraint: ...``.

    ``None`` is written ``null``, as AWS writes a missing member; ``SENSITIVE`` leaves the value out.
    """
    shown = "" if value is SENSITIVE else " null" if value is None else f" '{value}'"
    return f"Value{shown} at '{where}' failed to satisfy constraint: {constraint}"


def validation_errors(failures: list[str]) -> str:
    """A request whose members break the API's constraints, in AWS's words.

    ``N validation errors detected: <failure>; <failure>``.
    Each of ``failures`` is one :func:`constraint_failure`.
    """
    count = f"{len(failures)} validation error{'s' if len(failures) > 1 else ''} detected"
    return f"{count}: {'; '.join(failures)}"
