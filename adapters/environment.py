"""A function's settings from its environment: one pydantic model per handler, one reader for all.

Field ``data_bucket`` is the variable ``DATA_BUCKET``; a missing variable without a default is an error
that names it (the CDK construct that sets the environment is out of step with the handler).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TypeVar

from pydantic import BaseModel

SettingsT = TypeVar("SettingsT", bound=BaseModel)


class SettingsError(Exception):
    """A variable the function needs is not set."""


def from_environment(model: type[SettingsT], environ: Mapping[str, str] | None = None) -> SettingsT:
    """Build ``model`` from the upper-cased names of its fields in ``environ`` (default: ``os.environ``)."""
    environ = os.environ if environ is None else environ
    values = {name: environ[name.upper()] for name in model.model_fields if name.upper() in environ}
    missing = [
        name.upper()
        for name, field in model.model_fields.items()
        if field.is_required() and name not in values
    ]
    if missing:
        raise SettingsError(f"the function's environment lacks {', '.join(missing)}")
    return model.model_validate(values)
