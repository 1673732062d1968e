"""The app's templates, synthesized once per session with ``cdk.json`` as it is, and the app with a
dataset served serverless (which adds the invocation API), also once; each stack's template, and the
app as one template (``template_support.linked``) for what crosses stacks."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CloudAssembly
from tests.infra.template_support import FOUNDATION, SERVING, TRAINING, VALIDATION, linked


@pytest.fixture(scope="session")
def app_template(cloud_assembly: CloudAssembly) -> dict[str, Any]:
    """Every stack of the app as one template, imports resolved."""
    return linked(cloud_assembly)


@pytest.fixture(scope="session")
def foundation(cloud_assembly: CloudAssembly) -> dict[str, Any]:
    return cloud_assembly.template(FOUNDATION)


@pytest.fixture(scope="session")
def validation(cloud_assembly: CloudAssembly) -> dict[str, Any]:
    return cloud_assembly.template(VALIDATION)


@pytest.fixture(scope="session")
def training(cloud_assembly: CloudAssembly) -> dict[str, Any]:
    return cloud_assembly.template(TRAINING)


@pytest.fixture(scope="session")
def serving(cloud_assembly: CloudAssembly) -> dict[str, Any]:
    return cloud_assembly.template(SERVING)


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
