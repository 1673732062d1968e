"""Every subject the state machines publish is one SNS takes, whatever the dataset: fixed, short, ASCII.

A subject taken from the state (``Subject.$``) could hold a dataset or file name of any length, and SNS
refuses a subject of 100 characters or more: the execution would fail in its announcement.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from domain.alerts import subject_problem
from tests.conftest import CloudAssembly

pytestmark = pytest.mark.slow


def _definitions(cloud_assembly: CloudAssembly) -> Iterator[tuple[str, dict[str, Any]]]:
    for stack, template in cloud_assembly.templates.items():
        for name, resource in template["Resources"].items():
            if resource["Type"] == "AWS::StepFunctions::StateMachine":
                parts = resource["Properties"]["DefinitionString"]["Fn::Join"][1]
                text = "".join(part if isinstance(part, str) else "TOKEN" for part in parts)
                yield f"{stack}/{name}", json.loads(text)


def _states(definition: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, state in definition.get("States", {}).items():
        yield name, state
        for nested in (state.get("Iterator"), state.get("ItemProcessor"), *state.get("Branches", [])):
            if nested:
                yield from _states(nested)


def test_every_sns_publish_state_has_a_fixed_subject_sns_takes(cloud_assembly: CloudAssembly) -> None:
    publishes = [
        (machine, name, state["Parameters"])
        for machine, definition in _definitions(cloud_assembly)
        for name, state in _states(definition)
        if state.get("Type") == "Task" and str(state.get("Resource", "")).endswith("sns:publish")
    ]

    assert publishes, "no state machine publishes alerts any more: this test has nothing to check"
    for machine, name, parameters in publishes:
        assert "Subject.$" not in parameters, f"{machine} {name}: a subject from the state can be any length"
        assert subject_problem(parameters["Subject"]) is None, (machine, name, parameters["Subject"])
