"""The serving API's edges: the proxy event read, the answer written back, the runtime's errors translated."""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from botocore.exceptions import ClientError

from adapters.serving import SageMakerRuntime, invocation_of, proxy_response
from domain.deployment.invocation import (
    Answer,
    Invocation,
    ModelRefusedError,
    RuntimeRefusedError,
    VersionUnknownError,
)

INVOCATION = Invocation(
    dataset="churn", body=b"40,basic\n", content_type="text/csv", accept="application/json"
)


class FakeRuntimeClient:
    """A sagemaker-runtime client: answers with the given response, or raises the given error."""

    def __init__(
        self, *, response: dict[str, Any] | None = None, error: dict[str, Any] | None = None
    ) -> None:
        self.response = response or {"Body": io.BytesIO(b"[1]"), "ContentType": "application/json"}
        self.error = error
        self.calls: list[dict[str, Any]] = []

    def invoke_endpoint(self, **request: Any) -> dict[str, Any]:
        self.calls.append(request)
        if self.error is not None:
            raise ClientError(self.error, "InvokeEndpoint")
        return self.response


def _event(headers: dict[str, str], body: str, *, encoded: bool = False) -> APIGatewayProxyEvent:
    return APIGatewayProxyEvent(
        {
            "resource": "/churn/invocations",
            "path": "/churn/invocations",
            "httpMethod": "POST",
            "headers": headers,
            "body": body,
            "isBase64Encoded": encoded,
            "requestContext": {"identity": {"userArn": "arn:aws:iam::123456789012:role/app"}},
        }
    )


def test_the_request_names_its_dataset_by_the_resource_and_keeps_its_media_types() -> None:
    event = _event({"Content-Type": "application/json", "Accept": "text/csv"}, '{"age": 40}')

    assert invocation_of(event) == Invocation("churn", b'{"age": 40}', "application/json", "text/csv")


def test_a_request_without_media_types_is_csv_asking_for_json() -> None:
    assert invocation_of(_event({}, "40,basic\n")) == Invocation(
        "churn", b"40,basic\n", "text/csv", "application/json"
    )


def test_a_base64_encoded_body_is_decoded() -> None:
    event = _event(
        {"content-type": "application/x-parquet"}, base64.b64encode(b"PAR1\x00").decode(), encoded=True
    )

    assert invocation_of(event).body == b"PAR1\x00"


def test_an_answer_becomes_a_proxy_response_with_its_media_type() -> None:
    assert proxy_response(Answer(429, '{"error": "slow down"}')) == {
        "statusCode": 429,
        "headers": {"Content-Type": "application/json"},
        "body": '{"error": "slow down"}',
    }


def test_the_runtime_is_asked_with_the_request_s_body_and_media_types() -> None:
    fake = FakeRuntimeClient(response={"Body": io.BytesIO(b"1\n"), "ContentType": "text/csv"})

    answer = SageMakerRuntime(fake).invoke("mlops-churn", INVOCATION)

    assert (answer.body, answer.content_type) == (b"1\n", "text/csv")
    assert fake.calls == [
        {
            "EndpointName": "mlops-churn",
            "ContentType": "text/csv",
            "Accept": "application/json",
            "Body": b"40,basic\n",
        }
    ]


def test_an_answer_without_a_media_type_is_taken_as_the_one_asked_for() -> None:
    fake = FakeRuntimeClient(response={"Body": io.BytesIO(b"[1]")})

    assert SageMakerRuntime(fake).invoke("mlops-churn", INVOCATION).content_type == "application/json"


def test_a_model_error_carries_the_model_s_own_status_and_message() -> None:
    fake = FakeRuntimeClient(
        error={
            "Error": {"Code": "ModelError", "Message": "Received client error (400) from primary"},
            "OriginalStatusCode": 400,
            "OriginalMessage": '{"error": "BadRequest"}',
        }
    )

    with pytest.raises(ModelRefusedError) as refused:
        SageMakerRuntime(fake).invoke("mlops-churn", INVOCATION)

    assert (refused.value.status, refused.value.message) == (400, '{"error": "BadRequest"}')


def test_a_model_error_without_the_model_s_status_is_a_500_with_no_message() -> None:
    fake = FakeRuntimeClient(error={"Error": {"Code": "ModelError", "Message": "crashed"}})

    with pytest.raises(ModelRefusedError) as refused:
        SageMakerRuntime(fake).invoke("mlops-churn", INVOCATION)

    assert (refused.value.status, refused.value.message) == (500, "")


@pytest.mark.parametrize(
    ("error", "message"),
    [
        ({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "Rate exceeded"),
        ({"Error": {"Code": "ServiceUnavailable"}}, "ServiceUnavailable"),  # no message: its code
    ],
)
def test_the_runtime_s_refusals_carry_its_code_and_message(error: dict[str, Any], message: str) -> None:
    with pytest.raises(RuntimeRefusedError) as refused:
        SageMakerRuntime(FakeRuntimeClient(error=error)).invoke("mlops-churn", INVOCATION)

    assert (refused.value.code, refused.value.message) == (error["Error"]["Code"], message)


class FakeSageMakerClient:
    """A sagemaker client whose endpoint runs ``config``, or whose DescribeEndpoint raises ``error``."""

    def __init__(self, config: str, error: dict[str, Any] | None = None) -> None:
        self.config = config
        self.error = error
        self.described = 0

    def describe_endpoint(self, *, EndpointName: str) -> dict[str, Any]:  # noqa: N803 (boto3's name)
        self.described += 1
        if self.error is not None:
            raise ClientError(self.error, "DescribeEndpoint")
        return {
            "EndpointName": EndpointName,
            "EndpointConfigName": self.config,
            "EndpointStatus": "InService",
        }


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_version_an_endpoint_runs_is_read_from_its_configuration_and_kept_a_few_seconds() -> None:
    # Given an endpoint running version 3's configuration
    sagemaker, clock = FakeSageMakerClient("mlops-churn-v3-0123abcd"), FakeClock()
    runtime = SageMakerRuntime(FakeRuntimeClient(), sagemaker, clock=clock)

    # When requests ask for its version within the cache's time, then once the endpoint moved to version 4
    first = runtime.serving_version("mlops-churn")
    sagemaker.config = "mlops-churn-v4-89abcdef"
    clock.now += SageMakerRuntime.VERSION_TTL_SECONDS - 0.1
    cached = runtime.serving_version("mlops-churn")
    clock.now += 0.2
    fresh = runtime.serving_version("mlops-churn")

    # Then the endpoint was described once per period, and the new version is seen after it
    assert (first, cached, fresh) == (3, 3, 4)
    assert sagemaker.described == 2


def test_a_configuration_the_platform_did_not_make_has_no_version() -> None:
    runtime = SageMakerRuntime(FakeRuntimeClient(), FakeSageMakerClient("hand-made-config"))

    assert runtime.serving_version("mlops-churn") is None


def test_an_endpoint_that_cannot_be_described_has_an_unknown_version_and_is_asked_again_next_time() -> None:
    sagemaker = FakeSageMakerClient("", error={"Error": {"Code": "ThrottlingException", "Message": "Rate"}})
    runtime = SageMakerRuntime(FakeRuntimeClient(), sagemaker, clock=FakeClock())

    with pytest.raises(
        VersionUnknownError, match=r"mlops-churn could not be described \(ThrottlingException\)"
    ):
        runtime.serving_version("mlops-churn")
    sagemaker.error = None
    sagemaker.config = "mlops-churn-v2-0123abcd"

    assert runtime.serving_version("mlops-churn") == 2  # a refusal is not kept
