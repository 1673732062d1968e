"""A handler's settings come from its environment by field name, with clear errors."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from adapters.environment import SettingsError, from_environment


class Settings(BaseModel):
    data_bucket: str
    group_prefix: str = ""


def test_fields_are_read_from_their_upper_case_variables() -> None:
    settings = from_environment(Settings, {"DATA_BUCKET": "b", "GROUP_PREFIX": "mlops-", "OTHER": "x"})

    assert settings == Settings(data_bucket="b", group_prefix="mlops-")


def test_an_unset_variable_with_a_default_takes_the_default() -> None:
    assert from_environment(Settings, {"DATA_BUCKET": "b"}).group_prefix == ""


def test_a_missing_required_variable_is_named() -> None:
    with pytest.raises(SettingsError, match="lacks DATA_BUCKET"):
        from_environment(Settings, {"GROUP_PREFIX": "p"})
