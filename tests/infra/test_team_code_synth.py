"""Synthesizing an app whose dataset names a team's module that cannot be trained fails with the key named."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from stacks.app import build_app, cdk_json_context
from stacks.config import ConfigError

pytestmark = pytest.mark.slow

KEY = "cdk.json: mlops.datasets.churn.training.model"
EXAMPLE = "examples/team_models/churn_xgboost.py"


def churn_trains(model: dict[str, Any]) -> dict[str, Any]:
    """The ``mlops`` context of cdk.json with churn's model replaced."""
    mlops: dict[str, Any] = copy.deepcopy(cdk_json_context()["mlops"])
    mlops["datasets"]["churn"]["training"]["model"] = model
    return mlops


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (
            {"module": EXAMPLE, "builder": "train_model"},
            f"{KEY}.builder: {EXAMPLE} defines no 'train_model' at top level",
        ),
        (
            {"module": "examples/team_models/no_such_model.py", "builder": "build"},
            f"{KEY}.module: examples/team_models/no_such_model.py does not exist under ",
        ),
        (
            {"module": "../team_models/churn_xgboost.py", "builder": "build"},
            f"{KEY}.module: '../team_models/churn_xgboost.py' leaves the project ('..'): team code must be "
            "inside the project",
        ),
    ],
    ids=["builder-missing", "module-missing", "outside-the-project"],
)
def test_a_team_module_that_cannot_be_trained_fails_the_synth_naming_the_key(
    model: dict[str, Any], expected: str, tmp_path: Path
) -> None:
    # Given cdk.json with churn trained by a team's module that is wrong in one way
    context = {"mlops": churn_trains(model)}

    # When the app is built
    with pytest.raises(ConfigError) as raised:
        build_app(context=context, outdir=str(tmp_path))

    # Then synth stops before any stack, on one line that names the key and what is wrong
    assert str(raised.value).startswith(expected), str(raised.value)
    assert len(str(raised.value).splitlines()) == 1
    assert not list(tmp_path.iterdir())
