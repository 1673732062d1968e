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


@pytest.fixture(scope="session")
def monitoring_variant(tmp_path_factory: pytest.TempPathFactory) -> CloudAssembly:
    """The app with two datasets monitored otherwise than by default, environment-agnostic (cdk-nag runs).

    churn is served serverless and monitored on a cron schedule with 30-minute windows, 3 drifted of 4,
    no no-traffic alarm, a no-new-data span of 36 hours and its realized accuracy watched against a floor
    of 0.75; retail (churn's contract renamed) is served
    real-time with its monitoring disabled.
    """
    from stacks.app import PROJECT_ROOT, build_app, cdk_json_context

    root: Path = tmp_path_factory.mktemp("monitoring.contracts")
    churn = (PROJECT_ROOT / "contracts" / "churn.yaml").read_text(encoding="utf-8")
    (root / "retail.yaml").write_text(churn.replace("name: churn", "name: retail", 1), encoding="utf-8")
    context = copy.deepcopy(cdk_json_context())
    datasets = context["mlops"]["datasets"]
    datasets["churn"]["serving"] = {"mode": "serverless"}
    datasets["churn"]["monitoring"] = {
        "schedule": "cron(5 * * * ? *)",
        "window_minutes": 30,
        "alarm": {"datapoints": 3, "periods": 4},
        "no_traffic_minutes": None,
        "no_new_data_hours": 36,
        "performance": {"metric": "accuracy", "floor": 0.75, "min_labels": 100},
    }
    datasets["retail"] = copy.deepcopy(datasets["churn"]) | {
        "contract": str(root / "retail.yaml"),
        "serving": {},
        "monitoring": {"enabled": False},
    }
    outdir: Path = tmp_path_factory.mktemp("monitoring.out")
    assembly = build_app(context, outdir=str(outdir)).synth()
    templates = {stack.stack_name: stack.template for stack in assembly.stacks}
    return CloudAssembly(directory=Path(assembly.directory), templates=templates)
