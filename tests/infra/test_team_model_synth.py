"""A team's module without its builder fails the real synth path (``python app.py``), naming the key."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

from stacks.app import PROJECT_ROOT, cdk_json_context


def test_a_module_without_the_builder_fails_app_py_naming_the_key(tmp_path: Path) -> None:
    # Given churn's model named as a builder the example team's module does not define, as the CDK CLI passes
    # the context (cdk.json's, with the change) to the app
    mlops = copy.deepcopy(cdk_json_context()["mlops"])
    mlops["datasets"]["churn"]["training"]["model"] = {
        "module": "examples/team_models/churn_xgboost.py",
        "builder": "build_the_model",
    }

    # When the app is synthesized
    result = subprocess.run(
        [sys.executable, "app.py"],
        cwd=PROJECT_ROOT,
        env={**os.environ, "CDK_OUTDIR": str(tmp_path), "CDK_CONTEXT_JSON": json.dumps({"mlops": mlops})},
        capture_output=True,
        text=True,
        check=False,
    )

    # Then it stops before writing a template, naming the key and the builder it did not find
    assert result.returncode == 1, result.stderr
    assert "cdk.json: mlops.datasets.churn.training.model.builder" in result.stderr
    assert "build_the_model" in result.stderr
    assert not list(tmp_path.glob("*.template.json"))
