"""SageMaker real-time endpoints in the local cloud: a registered model served, updated, rolled back.

A real churn model (trained by the platform's own training code) is registered as a model package, and
endpoints are created from it as the deployment workflow creates them
(``domain.deployment.endpoint``'s requests).
The runtime is reached through moto's server with boto3, as a Lambda handler reaches it.
"""

from __future__ import annotations

import base64
import io
import json
import re
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import joblib
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from domain.deployment.endpoint import CAPTURE_CONTENT_TYPES, VARIANT, model_request, verify
from domain.training.registration import INFERENCE_ENVIRONMENT
from localcloud import LocalCloud
from localcloud.sagemaker.endpoints import EndpointRecord
from tests.iam_roles import let_service_send
from tests.integration.localcloud_fixtures.support import (
    SKLEARN_IMAGE,
    create_sagemaker_roles,
    eventually,
    register_model,
    retrying_client,
)
from tests.trained_model import churn_snapshot, train_model
from training.mlops_training.contract_io import Signature, feature_matrix

pytestmark = pytest.mark.slow

BUCKET = "localcloud-endpoint-tests"
GROUP = "mlops-churn"
ROLE = "arn:aws:iam::123456789012:role/model"
KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
IMAGE = SKLEARN_IMAGE


@dataclass(frozen=True)
class Serving:
    """A started local cloud with a trained model registered twice (versions 1 and 2) in its registry."""

    cloud: LocalCloud
    model_dir: Path
    packages: tuple[str, str]

    def client(self, service: str) -> Any:
        return self.cloud.client(service)

    def create_model(self, name: str, version: int, *, isolated: bool = True, **environment: str) -> str:
        """A SageMaker model of a package version, as the deployment workflow creates it."""
        request = model_request(name, self.packages[version - 1], ROLE, environment, isolated=isolated)
        self.client("sagemaker").create_model(**request)
        return name

    def create_config(
        self,
        name: str,
        model: str,
        *,
        capture_prefix: str | None = None,
        serverless: bool = False,
        **variant: Any,
    ) -> str:
        """An endpoint configuration of one variant (instances, or serverless), with data capture if asked."""
        capacity: dict[str, Any] = (
            {"ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5}}
            if serverless
            else {"InstanceType": "ml.m5.large", "InitialInstanceCount": 1, "InitialVariantWeight": 1.0}
        )
        request: dict[str, Any] = {
            "EndpointConfigName": name,
            "ProductionVariants": [{"VariantName": VARIANT, "ModelName": model, **capacity, **variant}],
        }
        if capture_prefix is not None:
            request["DataCaptureConfig"] = {
                "EnableCapture": True,
                "InitialSamplingPercentage": 100,
                "DestinationS3Uri": f"s3://{BUCKET}/{capture_prefix}",
                "KmsKeyId": KMS_KEY,
                "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
                "CaptureContentTypeHeader": CAPTURE_CONTENT_TYPES,
            }
        self.client("sagemaker").create_endpoint_config(**request)
        return name

    def describe(self, endpoint: str) -> dict[str, Any]:
        described: dict[str, Any] = self.client("sagemaker").describe_endpoint(EndpointName=endpoint)
        described.pop("ResponseMetadata", None)
        return described

    def record(self, endpoint: str) -> EndpointRecord:
        (record,) = [r for r in self.cloud.endpoints() if r.name == endpoint]
        return record

    def invoke(self, endpoint: str, body: bytes, content_type: str = "text/csv") -> dict[str, Any]:
        response: dict[str, Any] = self.client("sagemaker-runtime").invoke_endpoint(
            EndpointName=endpoint, Body=body, ContentType=content_type, Accept="application/json"
        )
        response["Body"] = response["Body"].read()
        return response


@pytest.fixture(scope="module")
def serving(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serving]:
    model_dir = train_model(tmp_path_factory.mktemp("trained"))
    cloud = LocalCloud(work_dir=tmp_path_factory.mktemp("localcloud-endpoints"), evaluate_alarms=True).start()
    try:
        create_sagemaker_roles(cloud)
        packages = register_model(cloud, BUCKET, GROUP, model_dir, versions=2)
        for alarm in ("churn-v1-alarm", "churn-v2-alarm", "churn-v2-error"):
            cloud.client("cloudwatch").put_metric_alarm(
                AlarmName=alarm,
                Namespace="AWS/SageMaker",
                MetricName="Invocation5XXErrors",
                Statistic="Sum",
                Period=60,
                EvaluationPeriods=1,
                Threshold=1,
                ComparisonOperator="GreaterThanOrEqualToThreshold",
            )
        yield Serving(cloud, model_dir, (packages[0], packages[1]))
    finally:
        cloud.stop()


@pytest.fixture(scope="module")
def rows() -> pa.Table:
    return churn_snapshot(150, seed=5).slice(0, 20)


def _csv(rows: pa.Table) -> bytes:
    out = io.BytesIO()
    plain = pa.table(
        {name: column.cast(pa.string()) if pa.types.is_dictionary(column.type) else column
         for name, column in zip(rows.column_names, rows.columns, strict=True)}
    )  # fmt: skip
    pacsv.write_csv(plain, out)
    return out.getvalue()


def _in_process(model_dir: Path, rows: pa.Table) -> tuple[list[Any], Any]:
    pipeline = joblib.load(model_dir / "model.joblib")
    signature = Signature.from_dict(json.loads((model_dir / "model_signature.json").read_text()))
    matrix = feature_matrix(rows, signature.features)
    return pipeline.predict(matrix).tolist(), pipeline.predict_proba(matrix)


@pytest.fixture(scope="module")
def churn(serving: Serving) -> str:
    """An endpoint serving version 1, with data capture: what the platform deploys."""
    model = serving.create_model("churn-v1", 1, MLOPS_MAX_PAYLOAD_BYTES="200000")
    config = serving.create_config("churn-v1-config", model, capture_prefix="capture/churn/")
    serving.client("sagemaker").create_endpoint(EndpointName="churn", EndpointConfigName=config)
    return "churn"


def test_an_endpoint_is_created_from_a_model_package_and_answers_the_in_process_predictions(
    serving: Serving, churn: str, rows: pa.Table
) -> None:
    # Given an endpoint just created (the fixture), on a model made from a model package
    model = serving.client("sagemaker").describe_model(ModelName="churn-v1")
    (container,) = model["Containers"]
    assert container["Image"] == IMAGE
    assert container["ModelDataUrl"] == f"s3://{BUCKET}/models/churn/model.tar.gz"
    assert container["Environment"] == dict(INFERENCE_ENVIRONMENT) | {"MLOPS_MAX_PAYLOAD_BYTES": "200000"}
    assert model["EnableNetworkIsolation"] is True

    # When its fleet has started
    serving.cloud.wait_idle(timeout=60)

    # Then it is in service on its configuration, and answers what the model predicts in-process
    described = serving.describe(churn)
    assert described["EndpointStatus"] == "InService"
    assert described["EndpointConfigName"] == "churn-v1-config"
    (variant,) = described["ProductionVariants"]
    assert (variant["VariantName"], variant["CurrentWeight"], variant["CurrentInstanceCount"]) == (
        VARIANT,
        1.0,
        1,
    )
    assert variant["DeployedImages"][0]["SpecifiedImage"] == IMAGE
    assert described["DataCaptureConfig"] == {
        "EnableCapture": True,
        "CaptureStatus": "Started",
        "CurrentSamplingPercentage": 100,
        "DestinationS3Uri": f"s3://{BUCKET}/capture/churn/",
        "KmsKeyId": KMS_KEY,
    }
    answer = serving.invoke(churn, _csv(rows))
    assert (answer["ContentType"], answer["InvokedProductionVariant"]) == ("application/json", VARIANT)
    labels, probabilities = _in_process(serving.model_dir, rows)
    predictions = json.loads(answer["Body"])["predictions"]
    assert [p["prediction"] for p in predictions] == labels
    np.testing.assert_array_equal(
        [[p["probabilities"][c] for c in ("0", "1")] for p in predictions], probabilities
    )
    listed = serving.client("sagemaker").list_endpoints(NameContains=churn)["Endpoints"]
    assert [(e["EndpointName"], e["EndpointStatus"]) for e in listed] == [(churn, "InService")]
    # and its model server's output is in the endpoint's log group, one stream per variant instance
    (stream,) = serving.client("logs").describe_log_streams(logGroupName=f"/aws/sagemaker/Endpoints/{churn}")[
        "logStreams"
    ]
    assert re.fullmatch(rf"{VARIANT}/i-[0-9a-f]{{17}}", stream["logStreamName"])

    def startup_lines() -> list[str] | None:
        """The log, once the server's startup output has been shipped (in batches, as a log agent does)."""
        logged = serving.client("logs").get_log_events(
            logGroupName=f"/aws/sagemaker/Endpoints/{churn}", logStreamName=stream["logStreamName"]
        )["events"]
        lines = [e["message"] for e in logged]
        return lines if any("model server listening" in line for line in lines) else None

    lines = eventually(startup_lines, timeout=10.0)
    assert any(line.startswith("model server listening on http://127.0.0.1:") for line in lines)
    # the predictions above came from the compiled predictor, which model_fn chose after checking it
    assert "serving with the compiled predictor (bitwise equal on 256 probe rows)" in lines


def test_an_endpoint_still_creating_or_unknown_is_a_validation_error(
    serving: Serving, rows: pa.Table
) -> None:
    # Given a serverless endpoint just created, whose fleet is still starting
    sagemaker = serving.client("sagemaker")
    model = serving.create_model("starting-v1", 1, isolated=False)  # serverless inference cannot isolate
    config = serving.create_config("starting-config", model, serverless=True)
    sagemaker.create_endpoint(EndpointName="starting", EndpointConfigName=config)
    described = serving.describe("starting")
    assert described["EndpointStatus"] == "Creating"
    assert described["ProductionVariants"][0]["VariantStatus"][0]["Status"] == "Creating"
    listed = sagemaker.list_endpoints(NameContains="starting")["Endpoints"]
    assert [(e["EndpointName"], e["EndpointStatus"]) for e in listed] == [("starting", "Creating")]

    # When it is invoked, and so is an endpoint that does not exist
    for name in ("starting", "nowhere"):
        with pytest.raises(ClientError) as raised:
            serving.invoke(name, _csv(rows))

        # Then both are refused as SageMaker refuses them
        assert raised.value.response["Error"] == {
            "Code": "ValidationError",
            "Message": f"Endpoint {name} of account 123456789012 not found.",
        }
    # and once started it serves, with its serverless configuration
    serving.cloud.wait_idle(timeout=60)
    (variant,) = serving.describe("starting")["ProductionVariants"]
    assert variant["CurrentServerlessConfig"] == {"MemorySizeInMB": 2048, "MaxConcurrency": 5}
    assert "CurrentInstanceCount" not in variant
    assert serving.invoke("starting", _csv(rows.slice(0, 1)))["InvokedProductionVariant"] == VARIANT
    port = serving.record("starting").fleets[0].variants[0].port

    # and deleting it stops its model server
    sagemaker.delete_endpoint(EndpointName="starting")
    serving.cloud.wait_idle(timeout=60)
    assert "starting" not in [r.name for r in serving.cloud.endpoints()]
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


def test_a_client_error_of_the_model_is_a_model_error_and_the_endpoint_keeps_serving(
    serving: Serving, churn: str, rows: pa.Table
) -> None:
    serving.cloud.wait_idle(timeout=60)

    # When a request the model refuses is sent
    with pytest.raises(ClientError) as raised:
        serving.invoke(churn, b'[{"age": "old"}]', "application/json")

    # Then it is SageMaker's ModelError, with the model's status and message
    error = raised.value.response
    assert error["Error"]["Code"] == "ModelError"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert error["OriginalStatusCode"] == 400
    assert "'age': 'old' is a string, not a number" in json.loads(error["OriginalMessage"])["problems"][-1]
    assert error["Error"]["Message"].startswith(
        f'Received client error (400) from primary with message "{error["OriginalMessage"]}". See https://'
    )
    assert error["Error"]["Message"].endswith("in account 123456789012 for more information.")
    assert error["LogStreamArn"] == (
        f"arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/Endpoints/{churn}"
    )
    # and the endpoint still answers
    assert serving.invoke(churn, _csv(rows.slice(0, 1)))["ContentType"] == "application/json"


def test_bytes_that_are_not_utf8_reach_the_model_which_refuses_them_without_a_retry(
    serving: Serving, churn: str, rows: pa.Table
) -> None:
    serving.cloud.wait_idle(timeout=60)
    header, line = _csv(rows.slice(0, 1)).split(b"\n", 1)
    latin_1 = header + b"\n\xe9" + line  # a Latin-1 byte before the first value of the row
    cases = [
        (b"\xff\xfe\x00bad", "text/csv", 400, "line 1, column 1 is U+FFFD"),
        (latin_1, "text/csv", 400, "line 2, column 1 is U+FFFD"),
        (latin_1, "text/csv; charset=utf-8", 400, f"byte 0xe9 at offset {len(header) + 1} (line 2)"),
        (bytes(range(255, -1, -1)), "application/x-image", 415, "'application/x-image' is not served"),
    ]
    runtime = retrying_client(serving.cloud, "sagemaker-runtime")
    before = sum(fleet.invocations for fleet in serving.record(churn).fleets)

    for body, content_type, status, reason in cases:
        # When an app sends bytes that are not UTF-8, with its SDK retrying server errors
        with pytest.raises(ClientError) as raised:
            runtime.invoke_endpoint(EndpointName=churn, Body=body, ContentType=content_type)

        # Then the model read them and refused them, and SageMaker's ModelError came back at once
        error = raised.value.response
        assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == ("ModelError", 424)
        assert error["ResponseMetadata"]["RetryAttempts"] == 0
        assert error["OriginalStatusCode"] == status
        message = json.loads(error["OriginalMessage"])["message"]
        assert reason in message, message
        if status == 400:
            assert message.startswith("the request is not UTF-8 text: ")
            assert message.endswith(
                "send CSV or JSON encoded as UTF-8 (re-encode a file saved as Latin-1 or Windows-1252)"
            )

    # and each request reached the model once, as it was sent (its data capture holds the same bytes)
    assert sum(fleet.invocations for fleet in serving.record(churn).fleets) - before == len(cases)
    serving.cloud.wait_idle(timeout=30)
    s3 = serving.client("s3")
    captured = [
        json.loads(text)["captureData"]["endpointInput"]
        for item in s3.list_objects_v2(Bucket=BUCKET, Prefix="capture/churn/")["Contents"]
        for text in s3.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read().decode().splitlines()
    ]
    inputs = {
        (c["observedContentType"], base64.b64decode(c["data"])) for c in captured if c["encoding"] == "BASE64"
    }
    assert {(content_type, body) for body, content_type, _, _ in cases} <= inputs


def test_invocations_are_captured_as_sagemaker_writes_data_capture(
    serving: Serving, churn: str, rows: pa.Table
) -> None:
    serving.cloud.wait_idle(timeout=60)
    body = _csv(rows.slice(3, 2))
    s3 = serving.client("s3")

    # When the endpoint answers a request
    answer = serving.invoke(churn, body)
    serving.cloud.wait_idle(timeout=30)

    # Then the request and the answer are in a JSON Lines object under the prefix, as SageMaker lays it out
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="capture/churn/")["Contents"]
    objects = {o["Key"]: s3.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read().decode() for o in listed}
    ((key, line),) = [
        (key, json.loads(text))
        for key, content in objects.items()
        for text in content.splitlines()
        if json.loads(text)["captureData"]["endpointInput"]["data"] == body.decode()
    ]
    assert line["captureData"] == {
        "endpointInput": {
            "observedContentType": "text/csv",
            "mode": "INPUT",
            "data": body.decode(),
            "encoding": "CSV",
        },
        "endpointOutput": {
            "observedContentType": "application/json",
            "mode": "OUTPUT",
            "data": answer["Body"].decode(),
            "encoding": "JSON",
        },
    }
    assert set(line["eventMetadata"]) == {"eventId", "inferenceTime"}
    assert line["eventVersion"] == "0"
    prefix, endpoint, variant, year, month, day, hour, name = key.split("/")[1:]
    assert (prefix, endpoint, variant) == ("churn", churn, VARIANT)
    assert line["eventMetadata"]["inferenceTime"].startswith(f"{year}-{month}-{day}T{hour}:")
    assert re.fullmatch(r"\d{2}-\d{2}-\d{3}-[0-9a-f-]{36}\.jsonl", name)
    assert s3.head_object(Bucket=BUCKET, Key=key)["SSEKMSKeyId"] == KMS_KEY


def test_an_inference_id_is_captured_and_one_sagemaker_refuses_is_a_validation_error(
    serving: Serving, churn: str, rows: pa.Table
) -> None:
    serving.cloud.wait_idle(timeout=60)
    runtime, s3 = serving.client("sagemaker-runtime"), serving.client("s3")
    body = _csv(rows.slice(7, 1))
    longest = "o" * 63 + "!"

    # When the endpoint is invoked with the longest ID SageMaker takes
    runtime.invoke_endpoint(EndpointName=churn, Body=body, ContentType="text/csv", InferenceId=longest)
    serving.cloud.wait_idle(timeout=30)

    # Then its capture record carries it at eventMetadata.inferenceId
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="capture/churn/")["Contents"]
    metadata = [
        json.loads(text)["eventMetadata"]
        for item in listed
        for text in s3.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read().decode().splitlines()
    ]
    assert [m["inferenceId"] for m in metadata if "inferenceId" in m] == [longest]

    # When an ID is one character too long, or holds a tab, Then SageMaker's ValidationError, in its words
    for refused, constraint in (
        ("o" * 65, "Member must have length less than or equal to 64"),
        ("tab\there", r"Member must satisfy regular expression pattern: \A\S[\p{Print}]*\z"),
    ):
        with pytest.raises(ClientError) as raised:
            runtime.invoke_endpoint(
                EndpointName=churn, Body=body, ContentType="text/csv", InferenceId=refused
            )
        error = raised.value.response
        assert error["Error"]["Code"] == "ValidationError"
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert error["Error"]["Message"] == (
            f"1 validation error detected: Value '{refused}' at 'inferenceId' failed to satisfy constraint: "
            f"{constraint}"
        )


def test_invocations_publish_sagemaker_metrics(serving: Serving, churn: str, rows: pa.Table) -> None:
    serving.cloud.wait_idle(timeout=60)
    cloudwatch = serving.client("cloudwatch")
    before = _sums(cloudwatch, churn)

    # When the endpoint answers twice and refuses once
    serving.invoke(churn, _csv(rows.slice(0, 1)))
    serving.invoke(churn, _csv(rows.slice(1, 1)))
    with pytest.raises(ClientError):
        serving.invoke(churn, b"{", "application/json")
    serving.cloud.wait_idle(timeout=30)

    # Then the metrics count them, per endpoint and variant
    after = _sums(cloudwatch, churn)
    assert after["Invocations"] - before.get("Invocations", 0) == 3
    assert after["Invocation4XXErrors"] - before.get("Invocation4XXErrors", 0) == 1
    assert after["Invocation5XXErrors"] - before.get("Invocation5XXErrors", 0) == 0
    assert after["ModelLatency"] > before.get("ModelLatency", 0)
    assert after["OverheadLatency"] >= before.get("OverheadLatency", 0)


def _sums(cloudwatch: Any, endpoint: str) -> dict[str, float]:
    sums = {}
    for name in (
        "Invocations",
        "Invocation4XXErrors",
        "Invocation5XXErrors",
        "ModelLatency",
        "OverheadLatency",
    ):
        points = cloudwatch.get_metric_statistics(
            Namespace="AWS/SageMaker",
            MetricName=name,
            Dimensions=[
                {"Name": "EndpointName", "Value": endpoint},
                {"Name": "VariantName", "Value": VARIANT},
            ],
            StartTime=time.time() - 3600,
            EndTime=time.time() + 60,
            Period=86400,
            Statistics=["Sum"],
        )["Datapoints"]
        if points:
            sums[name] = sum(p["Sum"] for p in points)
    return sums


def test_a_canary_update_serves_both_fleets_then_only_the_new_one(serving: Serving, rows: pa.Table) -> None:
    # Given an endpoint in service on version 1
    sagemaker = serving.client("sagemaker")
    blue = serving.create_config("canary-v1-config", serving.create_model("canary-v1", 1))
    green = serving.create_config(
        "canary-v2-config", serving.create_model("canary-v2", 2), InitialInstanceCount=4
    )
    sagemaker.create_endpoint(EndpointName="canary", EndpointConfigName=blue)
    serving.cloud.wait_idle(timeout=60)
    deployment = {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {
                "Type": "CANARY",
                "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1},
                "WaitIntervalInSeconds": 4,
            },
            "TerminationWaitInSeconds": 1,
            "MaximumExecutionTimeoutInSeconds": 600,
        },
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "churn-v1-alarm"}]},
    }

    # When it is updated to version 2 with a canary of one instance in four
    sagemaker.update_endpoint(EndpointName="canary", EndpointConfigName=green, DeploymentConfig=deployment)
    described = serving.describe("canary")
    assert described["EndpointStatus"] == "Updating"
    assert described["EndpointConfigName"] == blue
    assert described["PendingDeploymentSummary"]["EndpointConfigName"] == green
    with pytest.raises(ClientError) as refused:
        sagemaker.update_endpoint(EndpointName="canary", EndpointConfigName=green)
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "Cannot update in-progress endpoint" in refused.value.response["Error"]["Message"]

    # Then during the canary a quarter of the traffic reaches the new fleet, the rest the old one (the split
    # is exact: one request in four)
    canary = eventually(lambda: _shifting(serving.record("canary"), green), timeout=20.0)
    assert [(f.config_name, f.traffic_share) for f in canary.fleets] == [(blue, 0.75), (green, 0.25)]
    pending = serving.describe("canary")["PendingDeploymentSummary"]["ProductionVariants"][0]
    assert pending["VariantStatus"][0]["Status"] == "ActivatingTraffic"
    served_before = {f.config_name: f.invocations for f in canary.fleets}
    for _ in range(4):
        serving.invoke("canary", _csv(rows.slice(0, 1)))
    during = serving.record("canary")
    assert {f.config_name: f.invocations - served_before[f.config_name] for f in during.fleets} == {
        blue: 3,
        green: 1,
    }
    assert during.deployments[-1].shares == (0.25,)  # still the canary

    # and once baked, only the new fleet serves, on the new configuration
    serving.cloud.wait_idle(timeout=60)
    described = serving.describe("canary")
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == ("InService", green)
    assert "PendingDeploymentSummary" not in described and "FailureReason" not in described
    assert described["LastDeploymentConfig"] == deployment
    assert described["ProductionVariants"][0]["CurrentInstanceCount"] == 4
    record = serving.record("canary")
    assert [(f.config_name, f.role, f.traffic_share) for f in record.fleets] == [(green, "blue", 1.0)]
    assert [(f.config_name, f.running) for f in record.retired] == [(blue, False)]
    assert record.deployments[-1].status == "deployed"
    assert record.deployments[-1].shares == (0.25, 1.0)
    assert verify(described, green, []).status == "deployed"
    serving.invoke("canary", _csv(rows.slice(0, 1)))


def _shifting(record: EndpointRecord, config: str) -> EndpointRecord | None:
    """The record once the fleet of ``config`` takes traffic."""
    fleet = record.fleet(config)
    return record if fleet is not None and fleet.traffic_share > 0 else None


def test_an_alarm_during_the_bake_rolls_the_update_back(serving: Serving, churn: str, rows: pa.Table) -> None:
    serving.cloud.wait_idle(timeout=60)
    sagemaker, cloudwatch = serving.client("sagemaker"), serving.client("cloudwatch")
    green = serving.create_config("churn-v2-config", serving.create_model("churn-v2", 2))
    deployment = {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0},
            "TerminationWaitInSeconds": 30,
        },
        "AutoRollbackConfiguration": {
            "Alarms": [{"AlarmName": "churn-v2-alarm"}, {"AlarmName": "churn-v2-error"}]
        },
    }

    # Given an update of the endpoint to version 2, baking with all traffic on the new fleet
    sagemaker.update_endpoint(EndpointName=churn, EndpointConfigName=green, DeploymentConfig=deployment)
    eventually(
        lambda: serving.describe(churn).get("PendingDeploymentSummary", {}).get("ProductionVariants", [{}])[0]
        .get("VariantStatus", [{}])[0].get("Status") == "Baking",
        timeout=20.0,
    )  # fmt: skip
    assert [(f.config_name, f.traffic_share) for f in serving.record(churn).fleets] == [
        ("churn-v1-config", 0.0),
        (green, 1.0),
    ]

    # When one of its rollback alarms goes into ALARM
    cloudwatch.set_alarm_state(AlarmName="churn-v2-error", StateValue="ALARM", StateReason="test: 5xx errors")
    serving.cloud.wait_idle(timeout=20)
    cloudwatch.set_alarm_state(AlarmName="churn-v2-error", StateValue="OK", StateReason="test: over")

    # Then the endpoint is in service again on the old configuration, saying which alarm rolled it back
    described = serving.describe(churn)
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == ("InService", "churn-v1-config")
    assert "churn-v2-error" in described["FailureReason"]
    assert described["LastDeploymentConfig"] == deployment
    assert "PendingDeploymentSummary" not in described
    assert verify(described, green, ["churn-v2-error"]).status == "rolled_back"
    record = serving.record(churn)
    assert [(f.config_name, f.traffic_share) for f in record.fleets] == [("churn-v1-config", 1.0)]
    assert record.retired[-1].config_name == green
    assert record.deployments[-1].status == "rolled_back"
    # and the old model still answers
    labels, _ = _in_process(serving.model_dir, rows)
    assert [
        p["prediction"] for p in json.loads(serving.invoke(churn, _csv(rows))["Body"])["predictions"]
    ] == labels


def test_a_new_fleet_that_cannot_start_rolls_the_update_back(serving: Serving, churn: str) -> None:
    serving.cloud.wait_idle(timeout=60)
    sagemaker = serving.client("sagemaker")
    sagemaker.create_model(
        ModelName="missing-data",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": IMAGE, "ModelDataUrl": f"s3://{BUCKET}/models/nothing/model.tar.gz"},
    )
    broken = serving.create_config("missing-data-config", "missing-data")

    # When the endpoint is updated to a model whose data is missing (without a deployment configuration)
    sagemaker.update_endpoint(EndpointName=churn, EndpointConfigName=broken)
    serving.cloud.wait_idle(timeout=30)

    # Then the update is rolled back, with the reason
    described = serving.describe(churn)
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == ("InService", "churn-v1-config")
    assert "Failed to download model data(bucket: localcloud-endpoint-tests" in described["FailureReason"]

    # and an endpoint created on it fails with the same reason
    sagemaker.create_endpoint(EndpointName="broken", EndpointConfigName=broken)
    serving.cloud.wait_idle(timeout=30)
    described = serving.describe("broken")
    assert described["EndpointStatus"] == "Failed"
    assert described["FailureReason"].startswith("Failed to download model data")
    sagemaker.delete_endpoint(EndpointName="broken")


def test_model_package_state_changes_reach_eventbridge_rules(serving: Serving) -> None:
    # Given a rule on SageMaker's model package events, with a queue as its target
    sqs, events, sagemaker = serving.client("sqs"), serving.client("events"), serving.client("sagemaker")
    queue_url = sqs.create_queue(QueueName="model-package-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    pattern = {"source": ["aws.sagemaker"], "detail-type": ["SageMaker Model Package State Change"]}
    rule = events.put_rule(Name="model-packages", EventPattern=json.dumps(pattern))["RuleArn"]
    let_service_send(sqs, queue_url, service="events.amazonaws.com", source_arn=rule)
    events.put_targets(Rule="model-packages", Targets=[{"Id": "queue", "Arn": queue_arn}])

    # When a version is registered, then approved
    arn = sagemaker.create_model_package(
        ModelPackageGroupName=GROUP,
        ModelApprovalStatus="PendingManualApproval",
        InferenceSpecification={
            "Containers": [{"Image": IMAGE, "ModelDataUrl": f"s3://{BUCKET}/models/churn/model.tar.gz"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["application/json"],
        },
        CustomerMetadataProperties={"lineage.dataset": "churn"},
    )["ModelPackageArn"]
    sagemaker.update_model_package(
        ModelPackageArn=arn, ModelApprovalStatus="Approved", ApprovalDescription="ok"
    )

    # Then each change is an event in AWS's shape
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    received = [json.loads(m["Body"]) for m in messages]
    assert [(e["source"], e["detail-type"], e["resources"]) for e in received] == [
        ("aws.sagemaker", "SageMaker Model Package State Change", [arn])
    ] * 2
    created, approved = (e["detail"] for e in received)
    assert created["ModelApprovalStatus"] == "PendingManualApproval"
    assert (approved["ModelApprovalStatus"], approved["ApprovalDescription"]) == ("Approved", "ok")
    for detail in (created, approved):
        assert (detail["ModelPackageGroupName"], detail["ModelPackageName"], detail["ModelPackageArn"]) == (
            GROUP,
            GROUP,
            arn,
        )
        assert detail["ModelPackageVersion"] == int(arn.rsplit("/", 1)[1])
        assert detail["ModelPackageStatus"] == "Completed"
        assert detail["CustomerMetadataProperties"] == {"lineage.dataset": "churn"}
        assert isinstance(detail["CreationTime"], int)
    assert approved["LastModifiedTime"] >= approved["CreationTime"]
    assert received[0]["time"].endswith("Z")


def test_update_model_package_changes_only_what_it_is_given(serving: Serving) -> None:
    sagemaker = serving.client("sagemaker")
    arn = serving.packages[1]
    sagemaker.update_model_package(
        ModelPackageArn=arn,
        ApprovalDescription="first approval",
        CustomerMetadataProperties={"a": "1", "b": "2", "c": "3"},
    )

    # When only the metadata is updated, with one key to remove
    sagemaker.update_model_package(
        ModelPackageArn=arn,
        CustomerMetadataProperties={"b": "20", "d": "4"},
        CustomerMetadataPropertiesToRemove=["c"],
    )

    # Then the metadata is merged, and the approval and its description are as they were
    described = sagemaker.describe_model_package(ModelPackageName=arn)
    assert described["CustomerMetadataProperties"] == {"a": "1", "b": "20", "d": "4"}
    assert (described["ModelApprovalStatus"], described["ApprovalDescription"]) == (
        "Approved",
        "first approval",
    )


def test_errors_of_the_new_model_raise_its_alarm_and_roll_the_update_back(
    serving: Serving, rows: pa.Table
) -> None:
    # Given an update of an endpoint (the canary test's, on version 2) baking, guarded by an alarm on its
    # 4xx answers that the local cloud evaluates from the metrics it publishes
    serving.cloud.wait_idle(timeout=60)
    sagemaker, cloudwatch = serving.client("sagemaker"), serving.client("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName="canary-4xx",
        Namespace="AWS/SageMaker",
        MetricName="Invocation4XXErrors",
        Dimensions=[{"Name": "EndpointName", "Value": "canary"}, {"Name": "VariantName", "Value": VARIANT}],
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="notBreaching",
    )
    deployment = {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0},
            "TerminationWaitInSeconds": 30,
        },
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "canary-4xx"}]},
    }
    sagemaker.update_endpoint(
        EndpointName="canary", EndpointConfigName="canary-v1-config", DeploymentConfig=deployment
    )
    eventually(lambda: _shifting(serving.record("canary"), "canary-v1-config"), timeout=20.0)

    # When the new fleet answers a request with a client error
    with pytest.raises(ClientError):
        serving.invoke("canary", b"{", "application/json")
    serving.cloud.wait_idle(timeout=20)

    # Then the alarm went into ALARM by itself, and the update was rolled back
    (alarm,) = cloudwatch.describe_alarms(AlarmNames=["canary-4xx"])["MetricAlarms"]
    assert alarm["StateValue"] == "ALARM"
    described = serving.describe("canary")
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == ("InService", "canary-v2-config")
    assert "canary-4xx" in described["FailureReason"]
    assert serving.invoke("canary", _csv(rows.slice(0, 1)))["InvokedProductionVariant"] == VARIANT
    serving.client("sagemaker").delete_endpoint(EndpointName="canary")


def test_an_update_with_a_timeout_under_sagemaker_s_minimum_is_refused_and_changes_nothing(
    serving: Serving, churn: str
) -> None:
    serving.cloud.wait_idle(timeout=60)
    before = serving.describe(churn)["EndpointConfigName"]
    green = serving.create_config("churn-brief-config", serving.create_model("churn-brief", 2))
    deployment = {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 1},
            "TerminationWaitInSeconds": 30,
            "MaximumExecutionTimeoutInSeconds": 3,
        }
    }

    # When an update asks for a MaximumExecutionTimeoutInSeconds under 600 s (the SDK refuses it; the
    # service is asked directly, as another client could)
    unchecked = boto3.session.Session().client(
        "sagemaker",
        endpoint_url=serving.cloud.endpoint_url,
        region_name=serving.cloud.region,
        config=Config(parameter_validation=False),
        **{k.lower(): v for k, v in serving.cloud.env().items() if k.endswith(("_KEY_ID", "_ACCESS_KEY"))},
    )
    with pytest.raises(ClientError) as raised:
        unchecked.update_endpoint(EndpointName=churn, EndpointConfigName=green, DeploymentConfig=deployment)

    # Then the service refuses it as SageMaker does, and the endpoint is untouched
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert "maximumExecutionTimeoutInSeconds' failed to satisfy constraint" in str(raised.value)
    described = serving.describe(churn)
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == ("InService", before)
