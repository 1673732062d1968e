"""A training job on an instance type with local NVMe storage is synthesized without a volume KMS key,
which SageMaker refuses with such types (the instance encrypts its store); its output stays encrypted."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from stacks.app import build_app, cdk_json_context
from tests.infra.template_support import TRAINING, state_machine_definition

pytestmark = pytest.mark.slow


def test_a_training_job_on_local_storage_has_no_volume_key_and_an_encrypted_output(tmp_path: Path) -> None:
    context = copy.deepcopy(cdk_json_context())
    context["mlops"]["training"] = {"instance_type": "ml.g4dn.xlarge"}

    assembly = build_app(context, outdir=str(tmp_path)).synth()

    template = assembly.get_stack_by_name(TRAINING).template
    parameters = state_machine_definition(template, "Split")["States"]["Train"]["Parameters"]
    assert parameters["ResourceConfig"]["InstanceType"] == "ml.g4dn.xlarge"
    assert "VolumeKmsKeyId" not in parameters["ResourceConfig"]
    assert parameters["OutputDataConfig"]["KmsKeyId"]
    assert parameters["EnableNetworkIsolation"] is True
