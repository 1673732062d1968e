"""The outputs of a project's stacks as one mapping: each output key names one resource of the project.

A project deployed as several stacks (stateful apart from stateless) keeps every output key unique
across its stacks, so a reader need not know which stack holds a resource. Imported without moto: the
CLI reads deployed outputs with it.
"""

from __future__ import annotations

from collections.abc import Mapping

from localcloud.errors import LocalCloudError


class OutputConflictError(LocalCloudError):
    """Two stacks of one project have an output of the same key."""


def merge_outputs(per_stack: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    """Every stack's outputs in one mapping.

    Parameters
    ----------
    per_stack : Mapping[str, Mapping[str, str]]
        Stack name -> its outputs (what ``LocalCloud.deploy`` returns).

    Returns
    -------
    dict[str, str]
        Output key -> value.

    Raises
    ------
    OutputConflictError
        If an output key appears in two stacks (the error names both).
    """
    merged: dict[str, str] = {}
    holder: dict[str, str] = {}
    for stack, outputs in per_stack.items():
        for key, value in outputs.items():
            if key in holder:
                raise OutputConflictError(
                    f"output {key} is in two stacks, {holder[key]} and {stack}: an output key must be "
                    "unique across a project's stacks"
                )
            holder[key] = stack
            merged[key] = value
    return merged
