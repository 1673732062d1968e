"""The training configuration's error messages: one line per problem, at the key people wrote, in our words.

A tagged union of models puts its tag in pydantic's error locations (``model.random_forest.hyperparameters``,
``model.module.builder``), and pydantic's messages about tags and extra keys speak of its internals; these
functions show ``model.hyperparameters`` and say what is allowed.
"""

from __future__ import annotations

from pydantic import ValidationError

from domain.data.contract_sections import FieldError
from spec.hyperparameters import FAMILIES, FAMILY_TASKS

__all__ = ["describe_errors", "problem_line"]

# What a model's family may be, in messages: the built-in families, or a team's own module.
_MODEL_KINDS = f"use one of {', '.join(FAMILY_TASKS)}, or name your own with module and builder"
_TEAM_KEYS = {
    "module": "missing: the path of your module, relative to the project root (e.g. models/churn.py)",
    "builder": "missing: the name of the function in your module that returns the estimator",
}


def describe_errors(error: ValidationError, source: str) -> str:
    """Pydantic's errors of a training configuration, one line each, at the keys people wrote.

    Parameters
    ----------
    error : ValidationError
        From validating :class:`domain.training.config.TrainingConfig`.
    source : str
        The configuration's own key (``cdk.json: mlops.datasets.churn.training``).

    Returns
    -------
    str
        ``<source>.<key path>: <message>`` lines, in our words where pydantic's would not help.
    """
    lines = []
    for item in error.errors():
        # A tagged union puts the tag in the path (model.random_forest.hyperparameters, model.module.builder);
        # people wrote model.hyperparameters, so that is the path they are shown.
        loc = [str(part) for part in item["loc"]]
        family = loc[1] if loc[:1] == ["model"] and len(loc) > 2 else None
        path = [part for index, part in enumerate(loc) if not (family and index == 1)]
        cause = (item.get("ctx") or {}).get("error")
        message = item["msg"].removeprefix("Value error, ")
        if isinstance(cause, FieldError):
            path.append(cause.field)
            message = str(cause)
        elif item["type"] in ("union_tag_invalid", "union_tag_not_found") and not isinstance(
            item["input"], dict
        ):
            message = 'must be a mapping: {"family": ...} or {"module": ..., "builder": ...}'
        elif item["type"] == "union_tag_invalid":
            path.append("family")
            message = f"unknown model family {item['input'].get('family')!r}; {_MODEL_KINDS}"
        elif item["type"] == "union_tag_not_found":
            path.append("family")
            message = f"missing; {_MODEL_KINDS}"
        elif item["type"] == "missing" and family == "module" and path[1:] in (["module"], ["builder"]):
            message = _TEAM_KEYS[path[1]]
        elif item["type"] == "extra_forbidden" and family in FAMILIES and path[-2:-1] == ["hyperparameters"]:
            allowed = ", ".join(FAMILIES[family])
            message = f"unknown hyperparameter for {family}; allowed: {allowed}"
        elif item["type"] == "extra_forbidden":
            message = "unknown key"
        elif item["type"] == "literal_error":
            message = message.replace("Input should be", "must be one of")
        lines.append(problem_line(source, ".".join(path), message))
    return "\n".join(lines)


def problem_line(source: str, path: str, message: str) -> str:
    """One problem: the source's own key extended by ``path`` (as the platform's other keys are written)."""
    return f"{source}.{path}: {message}" if path else f"{source}: {message}"
