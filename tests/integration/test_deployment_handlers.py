"""The deployment workflow's functions at their edge: a malformed state fails before any AWS call, with a
message that names the state and the key, and an approval event of another platform starts nothing.

What each use case does is tested with fakes (tests/unit/test_deployment_run.py, test_deployment_steps.py,
test_deployment_request.py); the whole workflow runs in tests/e2e/test_endpoint_lifecycle.py.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from domain.step_input import StepInputError
from tests.moto_support import FakeLambdaContext

ROOT = Path(__file__).resolve().parents[2]
ENVIRONMENT = {
    "PROJECT": "mlops",
    "MODEL_PACKAGE_GROUP_PREFIX": "mlops-",
    "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:mlops-deployment",
    "DEPLOYMENTS_TABLE": "mlops-deployments",
    "DATA_BUCKET": "mlops-data",
    "MODEL_ROLE_ARN": "arn:aws:iam::123456789012:role/model",
    "KMS_KEY_ARN": "arn:aws:kms:us-east-1:123456789012:key/k",
    "POWERTOOLS_SERVICE_NAME": "deployment",
    "POWERTOOLS_METRICS_NAMESPACE": "MLOps",
    "POWERTOOLS_TRACE_DISABLED": "1",
    "AWS_DEFAULT_REGION": "us-east-1",
}
PACKAGES = "arn:aws:sagemaker:us-east-1:123456789012:model-package"
REQUEST = {"format": 1, "dataset": "churn", "endpoint": "mlops-churn", "version": 1, "trigger": "approval",
           "package_arn": f"{PACKAGES}/mlops-churn/1",
           "reason": "ok", "requested_at": "2026-11-26T10:00:00+00:00"}  # fmt: skip


def _handler(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    for key, value in ENVIRONMENT.items():
        monkeypatch.setenv(key, value)
    (tmp_path / "serving.json").write_text(json.dumps({}))
    source = (ROOT / "lambdas" / name / "handler.py").read_text()
    (tmp_path / "handler.py").write_text(source)
    spec = importlib.util.spec_from_file_location(f"{name}_handler", tmp_path / "handler.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("function", "event", "message"),
    [
        ("deployment_prepare", {"request": REQUEST, "started_at": "t", "prepare": {"status": "pending"}},
         "the Prepare state's input has no deployment"),
        ("deployment_prepare", {"request": REQUEST, "deployment": "d1", "started_at": "t", "prepare": {}},
         "the Prepare state's input has no prepare.status"),
        ("deployment_finish", {"request": {**REQUEST, "format": 2}, "deployment": "d1", "started_at": "t"},
         "the Finish state's input has a request that is not one: unknown deployment input format 2"),
        ("deployment_finish", {"deployment": "d1", "started_at": "t", "error": {"Error": "E", "Cause": "c"}},
         "the RecordFailure state's input has no request"),
    ],
)  # fmt: skip
def test_a_malformed_state_fails_naming_the_state_and_the_key(
    function: str, event: dict[str, Any], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler = _handler(function, tmp_path, monkeypatch).handler

    with pytest.raises(StepInputError, match=message):
        handler(event, FakeLambdaContext(function))


def test_an_approval_of_another_platform_s_group_starts_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    handler = _handler("deployment_start", tmp_path, monkeypatch).handler
    event = {"version": "0", "id": "1", "detail-type": "SageMaker Model Package State Change",
             "source": "aws.sagemaker", "account": "123456789012", "time": "2026-11-26T10:00:00Z",
             "region": "us-east-1", "resources": [],
             "detail": {"ModelPackageGroupName": "theirs-churn", "ModelApprovalStatus": "Approved",
                        "ModelPackageArn": f"{PACKAGES}/theirs-churn/1"}}  # fmt: skip

    result = handler(event, FakeLambdaContext("deployment_start"))

    assert result == {"execution_arn": None, "started": False,
                      "reason": "theirs-churn is not a model package group of this platform"}  # fmt: skip
    assert '"DeploymentsSkipped"' in capsys.readouterr().out  # the metric, flushed as EMF
