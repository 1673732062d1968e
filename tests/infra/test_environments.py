"""The app synthesizes as ``cdk deploy`` synthesizes it: a concrete account and region, every region.

The CDK CLI always passes ``CDK_DEFAULT_REGION`` (and ``CDK_DEFAULT_ACCOUNT`` when it has credentials);
ARNs are then concrete (``...:sagemaker:eu-west-1:123456789012:...``), and so are cdk-nag's findings. A
synth fails on any finding left unacknowledged, so synthesizing in each region is the test.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from cli.synth import PROJECT_NODE as NODE
from stacks.app import PROJECT_ROOT, build_app
from stacks.config import ConfigError, TrainingInfraConfig
from stacks.constructs.training_job import scikit_learn_images, supported_regions
from tests.infra.template_support import FOUNDATION, SERVING, STATELESS, TRAINING

pytestmark = pytest.mark.slow

ACCOUNT = "123456789012"
IMAGE_VERSION = TrainingInfraConfig().image_version
CDK_CLI = PROJECT_ROOT / ".cache" / "cdk-cli" / "node_modules" / "aws-cdk" / "bin" / "cdk"


def test_the_supported_regions_span_the_partitions_where_the_image_is_published() -> None:
    regions = supported_regions(IMAGE_VERSION)

    assert {"us-east-1", "eu-west-1", "cn-north-1", "us-gov-west-1"} <= set(regions)


@pytest.mark.parametrize("region", supported_regions(IMAGE_VERSION))
def test_the_app_synthesizes_in_every_supported_region_with_a_concrete_account(
    region: str, tmp_path: Path
) -> None:
    environment = cdk.Environment(account=ACCOUNT, region=region)

    assembly = build_app(outdir=str(tmp_path), environment=environment).synth()  # cdk-nag: a finding fails

    rendered = json.dumps([stack.template for stack in assembly.stacks])
    assert '"AWS::Region"' not in rendered and '"AWS::AccountId"' not in rendered
    image = scikit_learn_images(IMAGE_VERSION)[region]
    assert (
        _register_environment(assembly.get_stack_by_name(TRAINING).template)["INFERENCE_IMAGE_URI"] == image
    )
    registry = image.split(".", 1)[0]
    for stack in (TRAINING, SERVING):  # the training jobs and the endpoints pull the image
        repository = f":ecr:{region}:{registry}:repository/sagemaker-scikit-learn"
        assert repository in json.dumps(assembly.get_stack_by_name(stack).template), stack


@pytest.mark.parametrize("region", ["eu-west-1", "cn-northwest-1", "us-gov-east-1"])
def test_the_app_synthesizes_with_a_region_and_no_account(region: str, tmp_path: Path) -> None:
    # The CDK CLI without credentials passes the region alone.
    environment = cdk.Environment(region=region)

    assembly = build_app(outdir=str(tmp_path), environment=environment).synth()  # cdk-nag: a finding fails

    for stack in assembly.stacks:
        rendered = json.dumps(stack.template)
        assert '"AWS::Region"' not in rendered, stack.stack_name
    assert f":{region}:" in json.dumps(assembly.get_stack_by_name(TRAINING).template)


def test_a_region_without_the_image_fails_the_synth_saying_where_the_platform_runs() -> None:
    environment = cdk.Environment(account=ACCOUNT, region="mx-central-1")

    with pytest.raises(ConfigError) as raised:
        build_app(environment=environment)

    message = str(raised.value)
    assert "'mx-central-1'" in message
    assert f"scikit-learn image {IMAGE_VERSION}" in message
    assert "eu-west-1" in message and "AWS_REGION=" in message


def test_the_cdk_cli_synthesizes_the_app_in_the_account_and_region_it_resolves(tmp_path: Path) -> None:
    # As `cdk deploy` does: the CLI asks STS for the account (here the local cloud's, on loopback) and
    # takes the region from AWS_REGION, then runs cdk.json's app with both.
    from moto.server import ThreadedMotoServer

    assert CDK_CLI.is_file() and NODE.is_file(), "the CDK CLI and node 22 are installed by `make setup`"
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        result = subprocess.run(
            [str(NODE), str(CDK_CLI), "synth", "--quiet", "--no-notices", "--output", str(tmp_path)],
            cwd=PROJECT_ROOT,
            env=_cli_environment(f"http://127.0.0.1:{port}", region="ap-southeast-2"),
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    finally:
        server.stop()

    assert result.returncode == 0, result.stderr[-3000:]
    templates = {path.name for path in tmp_path.glob("*.template.json")}
    assert templates == {f"{stack}.template.json" for stack in (FOUNDATION, *STATELESS)}
    rendered = json.dumps([json.loads((tmp_path / name).read_text(encoding="utf-8")) for name in templates])
    assert ":ap-southeast-2:" in rendered and f":{ACCOUNT}:" in rendered
    assert '"AWS::Region"' not in rendered
    assert json.loads((tmp_path / "validation-report.json").read_text())["pluginReports"] == []


def _cli_environment(endpoint: str, *, region: str) -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "TMPDIR")
    return {
        **{name: os.environ[name] for name in keep if name in os.environ},
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": region,
        "AWS_EC2_METADATA_DISABLED": "true",
        "CDK_DISABLE_CLI_TELEMETRY": "true",
        "JSII_NODE": str(NODE),
        "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
        "JSII_RUNTIME_PACKAGE_CACHE": "enabled",
    }


def _register_environment(template: dict[str, Any]) -> dict[str, Any]:
    """The environment of the function that registers model versions (the one told the image)."""
    (variables,) = [
        r["Properties"]["Environment"]["Variables"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function"
        and "INFERENCE_IMAGE_URI" in r["Properties"].get("Environment", {}).get("Variables", {})
    ]
    return variables  # type: ignore[no-any-return]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
