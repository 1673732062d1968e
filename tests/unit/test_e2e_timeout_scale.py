"""E2E_TIMEOUT_SCALE: one setting that gives every e2e wait more time on a loaded machine."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import TIMEOUT_SCALE_VARIABLE, scaled


def test_the_waits_are_as_written_when_the_scale_is_not_set(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given no E2E_TIMEOUT_SCALE
    monkeypatch.delenv(TIMEOUT_SCALE_VARIABLE, raising=False)
    # When a wait of 120 s is scaled
    # Then it is 120 s
    assert scaled(120) == 120


def test_a_scale_multiplies_every_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a loaded machine given two and a half times the time
    monkeypatch.setenv(TIMEOUT_SCALE_VARIABLE, "2.5")
    # When waits are scaled
    # Then each is 2.5 times as long
    assert [scaled(seconds) for seconds in (60, 120)] == [150, 300]


@pytest.mark.parametrize("value", ["fast", "0.5", "0", "-2", "nan", ""])
def test_a_scale_that_would_shorten_or_is_not_a_number_is_refused_with_the_variable_named(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    # Given a value that is not a number >= 1
    monkeypatch.setenv(TIMEOUT_SCALE_VARIABLE, value)
    # When a wait is scaled
    # Then it fails, naming the variable, its value and what to set
    with pytest.raises(ValueError, match=r"E2E_TIMEOUT_SCALE=.* is not a number >= 1: set it to"):
        scaled(120)
