"""A workflow state's input, read by key: a missing key names the state and the key.

Each workflow passes one JSON document from state to state; a step reads what it needs once, at its
edge (``domain.training.steps``, ``domain.deployment.steps``). When the document lacks a key, the error
says which state was given what, instead of a ``KeyError`` naming a key and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["StepInputError", "state_value", "value_at"]


class StepInputError(ValueError):
    """A state's input lacks a key its step reads, or holds a value it cannot: the message names both."""


def state_value(document: Mapping[str, Any], state: str, *path: str) -> Any:
    """The value at ``path`` in a state's input.

    Parameters
    ----------
    document : mapping
        The state's input.
    state : str
        The state's name in the workflow (``Gate``), for the message.
    *path : str
        The keys, outermost first (``"training", "job_name"``).

    Returns
    -------
    Any

    Raises
    ------
    StepInputError
        A key is missing (or what holds it is not a mapping): "the Gate state's input has no
        training.job_name".
    """
    return value_at(document, path, lambda where: StepInputError(f"the {state} state's input has no {where}"))


def value_at(
    document: Mapping[str, Any],
    path: tuple[str, ...],
    missing: Callable[[str], Exception],
    *,
    none_is_missing: bool = False,
) -> Any:
    """The value at ``path`` in a JSON document; ``missing(dotted path so far)`` is raised where it stops.

    The one walk behind a workflow state's input (:func:`state_value`) and an event's detail
    (``domain.events``, where a ``null`` counts as missing).
    """
    value: Any = document
    for depth, key in enumerate(path):
        if not isinstance(value, Mapping) or key not in value or (none_is_missing and value[key] is None):
            raise missing(".".join(path[: depth + 1]))
        value = value[key]
    return value
