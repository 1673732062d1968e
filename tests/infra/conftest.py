"""The data stack's template, synthesized once per session with ``cdk.json`` as it is, and the app with a
dataset served serverless (which adds the invocation API), also once."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CloudAssembly


@pytest.fixture(scope="module")
def template(cloud_assembly: CloudAssembly) -> dict[str, Any]:
    return cloud_assembly.template("mlops-data")


@pytest.fixture(scope="session")
def serverless_assembly(tmp_path_factory: pytest.TempPathFactory) -> CloudAssembly:
    """The app with churn served serverless, environment-agnostic (cdk-nag runs: a finding fails here)."""
    from stacks.app import build_app, cdk_json_context

    context = copy.deepcopy(cdk_json_context())
    context["mlops"]["datasets"]["churn"]["serving"] = {
        "mode": "serverless",
        "serverless": {"memory_mb": 3072, "max_concurrency": 10},
        "capture_api": {"rate_per_second": 20, "burst": 40},
    }
    outdir: Path = tmp_path_factory.mktemp("serverless.out")
    assembly = build_app(context, outdir=str(outdir)).synth()
    templates = {stack.stack_name: stack.template for stack in assembly.stacks}
    return CloudAssembly(directory=Path(assembly.directory), templates=templates)
