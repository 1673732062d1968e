"""The app as a whole: cdk-nag as a gate, acknowledgments with reasons, configuration errors."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest

from tests.conftest import CloudAssembly
from tests.infra.template_support import VALIDATION

pytestmark = pytest.mark.slow


def test_cdk_nag_passes_with_no_unacknowledged_finding(cloud_assembly: CloudAssembly) -> None:
    report = json.loads((cloud_assembly.directory / "validation-report.json").read_text())
    assert report["pluginReports"] == []


def test_every_acknowledgment_carries_a_reason() -> None:
    from stacks.app import build_app

    app = build_app()
    found = 0
    for construct in app.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                for rule, reason in entry.data.items():
                    found += 1
                    assert len(str(reason).strip()) > 20, f"{construct.node.path}: {rule} has no real reason"
    assert found >= 5


def test_cdk_nag_gates_the_project_app(tmp_path: Path) -> None:
    from aws_cdk import aws_s3 as s3

    from stacks.app import build_app

    app = build_app(outdir=str(tmp_path))
    stack = app.node.find_child(VALIDATION)
    assert isinstance(stack, cdk.Stack)
    s3.Bucket(stack, "CarelessBucket")
    with pytest.raises(RuntimeError, match=r"ValidationFailed(.|\n)*AwsSolutions-S10"):
        app.synth()


def test_a_bad_configuration_value_fails_the_synth_naming_the_key() -> None:
    from stacks.app import build_app, cdk_json_context
    from stacks.config import ConfigError

    context = cdk_json_context()["mlops"] | {"validation": {"memory_mb": 100_000}}

    with pytest.raises(ConfigError, match=r"mlops\.validation\.memory_mb: Input should be less than"):
        build_app(context={"mlops": context})


def test_the_app_entry_point_prints_the_configuration_error_and_exits_non_zero(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from stacks.app import PROJECT_ROOT

    result = subprocess.run(
        [sys.executable, "app.py"],
        cwd=PROJECT_ROOT,
        env={**os.environ, "CDK_OUTDIR": str(tmp_path), "CDK_CONTEXT_JSON": '{"mlops": {"datasets": {}}}'},
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 1
    assert "Invalid configuration" in result.stderr
    assert "mlops.datasets" in result.stderr
