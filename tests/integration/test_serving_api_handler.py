"""The serverless invocation path's function: it answers as the model does and captures a sample."""

from __future__ import annotations

import importlib.util
import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from adapters.aws import client, resource
from domain.serving_config import parse_serving_config
from tests.moto_support import FakeLambdaContext

ROOT = Path(__file__).resolve().parents[2]
BUCKET = "mlops-data"
ENVIRONMENT = {
    "PROJECT": "mlops",
    "DATA_BUCKET": BUCKET,
    "KMS_KEY_ARN": "arn:aws:kms:us-east-1:123456789012:key/k",
    "POWERTOOLS_SERVICE_NAME": "serving",
    "POWERTOOLS_METRICS_NAMESPACE": "MLOps",
    "POWERTOOLS_TRACE_DISABLED": "1",
}


class FakeRuntime:
    """sagemaker-runtime: answers like the model, or refuses like it."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.error: dict[str, Any] | None = None

    def invoke_endpoint(self, **request: Any) -> dict[str, Any]:
        self.calls.append(request)
        if self.error is not None:
            raise ClientError(self.error, "InvokeEndpoint")
        return {
            "Body": io.BytesIO(b'{"predictions": [{"prediction": 1}]}'),
            "ContentType": "application/json",
        }


@pytest.fixture
def handler(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[ModuleType, FakeRuntime]]:
    folder = tmp_path / "serving_api"
    shutil.copytree(ROOT / "lambdas" / "serving_api", folder)
    serving = {
        "churn": parse_serving_config({"mode": "serverless", "capture_percent": 100}).model_dump(mode="json"),
        "sales": parse_serving_config({}).model_dump(mode="json"),
    }
    (folder / "serving.json").write_text(json.dumps(serving))
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        client.cache_clear()
        resource.cache_clear()
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        spec = importlib.util.spec_from_file_location("serving_api_handler", folder / "handler.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        runtime = FakeRuntime()
        real = module.client
        monkeypatch.setattr(
            module, "client", lambda service: runtime if service == "sagemaker-runtime" else real(service)
        )
        yield module, runtime
        client.cache_clear()
        resource.cache_clear()


def _event(dataset: str, body: str, content_type: str = "text/csv") -> dict[str, Any]:
    return {
        "resource": f"/{dataset}/invocations",
        "path": f"/{dataset}/invocations",
        "httpMethod": "POST",
        "headers": {"content-type": content_type, "accept": "application/json"},
        "body": body,
        "isBase64Encoded": False,
        "requestContext": {"identity": {"userArn": "arn:aws:iam::123456789012:role/app"}},
    }


def _captures() -> list[dict[str, Any]]:
    s3 = boto3.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    return [
        {"key": key, **json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())}
        for key in sorted(keys)
    ]


def test_a_request_is_answered_by_the_endpoint_and_captured_in_sagemaker_s_format(handler: Any) -> None:
    module, runtime = handler

    answer = module.handler(_event("churn", "age,plan\n40,basic\n"), FakeLambdaContext("serving"))

    assert answer["statusCode"] == 200
    assert json.loads(answer["body"]) == {"predictions": [{"prediction": 1}]}
    assert runtime.calls[0]["EndpointName"] == "mlops-churn"
    assert runtime.calls[0]["ContentType"] == "text/csv"
    (capture,) = _captures()
    assert capture["key"].startswith("capture/churn/mlops-churn/AllTraffic/")
    assert capture["key"].endswith(".jsonl")
    data = capture["captureData"]
    assert data["endpointInput"] == {
        "observedContentType": "text/csv",
        "mode": "INPUT",
        "data": "age,plan\n40,basic\n",
        "encoding": "CSV",
    }
    assert data["endpointOutput"]["encoding"] == "JSON"
    assert json.loads(data["endpointOutput"]["data"]) == {"predictions": [{"prediction": 1}]}
    assert capture["eventVersion"] == "0"


def test_a_request_the_model_refuses_keeps_the_model_s_status_and_message(handler: Any) -> None:
    module, runtime = handler
    runtime.error = {
        "Error": {"Code": "ModelError", "Message": "Received client error (400) from primary"},
        "OriginalStatusCode": 400,
        "OriginalMessage": '{"error": "BadRequest", "message": "row 0, \'age\': missing"}',
    }

    answer = module.handler(_event("churn", "nonsense"), FakeLambdaContext("serving"))

    assert answer["statusCode"] == 400
    assert json.loads(answer["body"])["message"] == "row 0, 'age': missing"
    assert len(_captures()) == 1  # refused requests are captured too: the monitor sees what apps send


def test_a_dataset_not_served_serverless_is_404_and_nothing_is_invoked(handler: Any) -> None:
    module, runtime = handler

    answer = module.handler(_event("sales", "x"), FakeLambdaContext("serving"))

    assert answer["statusCode"] == 404
    assert runtime.calls == []
