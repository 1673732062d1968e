"""The serverless invocation path's function on moto: the endpoint's answer, the capture, the metrics.

How each answer of the runtime becomes the API's, and when a request is captured, are the use case's
(``tests/unit/test_serving_invocation.py``); here the function is wired: the proxy event in, moto's
SageMaker runtime and S3 behind the adapters, the proxy response and the metrics out.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
import requests
from moto import mock_aws

from adapters.aws import client, resource
from domain.deployment.serving_config import parse_serving_config
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
# moto's SageMaker runtime answers what its API was told to (it runs no model)
MODEL_RESULTS = "http://motoapi.amazonaws.com/moto-api/static/sagemaker/endpoint-results"
PREDICTIONS = '{"predictions": [{"prediction": 1}]}'
CONFIG = "mlops-churn-v2-0123abcd"  # the endpoint runs version 2's configuration


@pytest.fixture
def handler(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
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
        _endpoint(CONFIG)
        result = {
            "Body": PREDICTIONS,
            "ContentType": "application/json",
            "InvokedProductionVariant": "AllTraffic",
        }
        requests.post(MODEL_RESULTS, json={"results": [result]}, timeout=5).raise_for_status()
        spec = importlib.util.spec_from_file_location("serving_api_handler", folder / "handler.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
        client.cache_clear()
        resource.cache_clear()


def _endpoint(config: str) -> None:
    sagemaker = boto3.client("sagemaker")
    role = "arn:aws:iam::123456789012:role/sagemaker"
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/sklearn:1"
    sagemaker.create_model(
        ModelName="mlops-churn-v2", ExecutionRoleArn=role, PrimaryContainer={"Image": image}
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName=config,
        ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": "mlops-churn-v2",
                             "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5}}],
    )  # fmt: skip
    sagemaker.create_endpoint(EndpointName="mlops-churn", EndpointConfigName=config)


def _event(dataset: str, body: str, content_type: str = "text/csv", **headers: str) -> dict[str, Any]:
    return {
        "resource": f"/{dataset}/invocations",
        "path": f"/{dataset}/invocations",
        "httpMethod": "POST",
        "headers": {"content-type": content_type, "accept": "application/json", **headers},
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


def _metrics(output: str) -> tuple[dict[str, Any], list[list[str]]]:
    """The metrics of the invocation's embedded-metric-format line (name: values), and its dimension sets."""
    (line,) = [json.loads(text) for text in output.splitlines() if '"_aws"' in text]
    (directive,) = line["_aws"]["CloudWatchMetrics"]
    return {m["Name"]: line[m["Name"]] for m in directive["Metrics"]}, directive["Dimensions"]


def test_a_request_is_answered_by_the_endpoint_and_captured_in_sagemaker_s_format(
    handler: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    answer = handler.handler(_event("churn", "age,plan\n40,basic\n"), FakeLambdaContext("serving"))

    assert answer == {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": PREDICTIONS}
    (capture,) = _captures()
    # under the version the endpoint runs, as DescribeEndpoint names its configuration
    assert capture["key"].startswith("capture/churn/v2/mlops-churn/AllTraffic/")
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
    assert _metrics(capsys.readouterr().out) == ({"Invocations": [1.0]}, [["dataset", "service"]])


def test_a_capture_that_cannot_be_written_is_counted_and_the_request_still_answered(
    handler: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    boto3.client("s3").delete_bucket(Bucket=BUCKET)

    answer = handler.handler(_event("churn", "age,plan\n40,basic\n"), FakeLambdaContext("serving"))

    assert answer["statusCode"] == 200
    assert json.loads(answer["body"]) == {"predictions": [{"prediction": 1}]}
    assert _metrics(capsys.readouterr().out)[0] == {"Invocations": [1.0], "CaptureFailed": [1.0]}


def test_a_dataset_not_served_serverless_is_404_and_nothing_is_invoked(
    handler: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    answer = handler.handler(_event("sales", "x"), FakeLambdaContext("serving"))

    assert answer["statusCode"] == 404
    assert json.loads(answer["body"]) == {"error": "'sales' is not a dataset served by this API"}
    assert _captures() == []
    assert _metrics(capsys.readouterr().out) == ({"UnknownDatasetRequests": [1.0]}, [["service"]])


def test_a_capture_whose_endpoint_cannot_be_described_is_kept_unattributed_and_counted(
    handler: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    boto3.client("sagemaker").delete_endpoint(EndpointName="mlops-churn")

    answer = handler.handler(_event("churn", "age,plan\n40,basic\n"), FakeLambdaContext("serving"))

    assert answer["statusCode"] == 200
    (capture,) = _captures()
    assert capture["key"].startswith("capture/churn/mlops-churn/AllTraffic/")
    assert _metrics(capsys.readouterr().out)[0] == {"Invocations": [1.0], "CaptureUnattributed": [1.0]}


def test_an_inference_id_header_goes_to_the_endpoint_and_into_the_capture_record(
    handler: ModuleType,
) -> None:
    # Given an app that names its request, in the header's own case or another
    sent: list[str | None] = []
    client("sagemaker-runtime").meta.events.register(
        "before-send.sagemaker-runtime.InvokeEndpoint",
        lambda request, **_: sent.append(request.headers.get("X-Amzn-SageMaker-Inference-Id")),
    )
    event = _event("churn", "age,plan\n40,basic\n", **{"x-amzn-sagemaker-inference-id": "order-1017"})

    # When the API serves it
    answer = handler.handler(event, FakeLambdaContext("serving"))

    # Then the endpoint is invoked with that InferenceId, and the capture record carries it
    assert answer["statusCode"] == 200
    assert [value.decode() if isinstance(value, bytes) else value for value in sent] == ["order-1017"]
    (capture,) = _captures()
    assert capture["eventMetadata"]["inferenceId"] == "order-1017"


def test_an_inference_id_sagemaker_would_refuse_is_400_and_nothing_is_invoked_or_captured(
    handler: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an ID of 65 characters
    event = _event("churn", "age,plan\n40,basic\n", **{"X-Amzn-SageMaker-Inference-Id": "x" * 65})

    # When
    answer = handler.handler(event, FakeLambdaContext("serving"))

    # Then the API says what is wrong with it, in its words, and asks nothing of the endpoint
    assert answer["statusCode"] == 400
    message = json.loads(answer["body"])["error"]
    assert message.startswith(f"the inference ID '{'x' * 65}' in header X-Amzn-SageMaker-Inference-Id has 65")
    assert "at most 64" in message
    assert _captures() == []
    assert _metrics(capsys.readouterr().out)[0] == {"Invocations": [1.0], "Invocation4XXErrors": [1.0]}
