"""The serving API's edges: API Gateway's proxy event and answer, the SageMaker runtime, the capture store."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from botocore.exceptions import BotoCoreError, ClientError

from adapters.aws import client, error_code
from adapters.lambda_function import LambdaFunction
from domain.deployment.inference_id import INFERENCE_ID_HEADER
from domain.deployment.invocation import (
    Answer,
    CaptureNotWrittenError,
    Invocation,
    ModelAnswer,
    ModelRefusedError,
    RuntimeRefusedError,
    Served,
    VersionUnknownError,
)
from domain.names import version_of

__all__ = ["S3CaptureStore", "SageMakerRuntime", "invocation_of", "proxy_response", "report"]


def invocation_of(event: APIGatewayProxyEvent) -> Invocation:
    """The request an API Gateway proxy event carries (the API's resources are ``/<dataset>/invocations``).

    A body without a content type is taken as CSV, and an answer is asked for in JSON unless ``Accept``
    says otherwise: what the platform's models take and give by default. Header names are matched
    whatever their case, as HTTP's are.
    """
    body = event.body or ""
    headers = {name.lower(): value for name, value in (event.headers or {}).items()}
    return Invocation(
        dataset=event.resource.strip("/").split("/")[0],
        body=base64.b64decode(body) if event.is_base64_encoded else body.encode("utf-8"),
        content_type=headers.get("content-type") or "text/csv",
        accept=headers.get("accept") or "application/json",
        inference_id=headers.get(INFERENCE_ID_HEADER.lower()),
    )


def proxy_response(answer: Answer) -> dict[str, Any]:
    """The answer as API Gateway's proxy integration takes it."""
    return {
        "statusCode": answer.status,
        "headers": {"Content-Type": answer.content_type},
        "body": answer.body,
    }


def report(function: LambdaFunction[Any], served: Served, dataset: str, caller: str | None) -> None:
    """What one request tells the function's logs and metrics.

    A request for a dataset the API does not serve is counted alone (``UnknownDatasetRequests``); any
    other counts as an invocation of its dataset, with its 4XX or 5XX status, the runtime's refusal
    logged, a capture that could not be written logged with its trace and counted (``CaptureFailed``), and
    one written without its model version logged and counted (``CaptureUnattributed``).
    """
    if served.endpoint is None:
        function.count("UnknownDatasetRequests")
        return
    function.logger.append_keys(endpoint=served.endpoint, caller=caller)
    function.metrics.add_dimension(name="dataset", value=dataset)
    function.count("Invocations")
    if served.answer.status >= 400:
        function.count(f"Invocation{served.answer.status // 100}XXErrors")
    if served.refusal is not None:
        function.logger.warning(
            "invocation refused", extra={"code": served.refusal.code, "error": str(served.refusal)}
        )
    if served.capture_error is not None:
        function.report("capture not written", {"error": str(served.capture_error)}, served.capture_error)
        function.count("CaptureFailed")
    elif served.version_error is not None:
        function.logger.warning(
            "capture written without its model version", extra={"error": str(served.version_error)}
        )
        function.count("CaptureUnattributed")


class SageMakerRuntime:
    """``InvokeEndpoint``, its refusals translated into the domain's errors; the version an endpoint runs.

    The version comes from ``DescribeEndpoint``'s ``EndpointConfigName`` (``domain.names.version_of``),
    kept for ``VERSION_TTL_SECONDS`` in this execution environment, so that a busy API describes each
    endpoint a few times a minute rather than once per request (DescribeEndpoint is throttled per
    account). During an update, SageMaker reports the previous configuration until the endpoint is
    ``InService`` again (the new one is only in ``PendingDeploymentSummary``), and a serverless
    endpoint's traffic moves to the new fleet all at once, a little before that: requests answered by
    the new version in that gap, and for up to ``VERSION_TTL_SECONDS`` after it, are captured as the
    previous version's. Real-time endpoints capture through each version's own configuration and have
    no such gap.
    """

    VERSION_TTL_SECONDS = 5.0

    def __init__(
        self,
        runtime: Any | None = None,
        sagemaker: Any | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._runtime = runtime  # a sagemaker-runtime client; by default the process's shared one
        self._sagemaker = sagemaker  # a sagemaker client; by default the process's shared one
        self._clock = clock
        self._versions: dict[str, tuple[float, int | None]] = {}

    def invoke(self, endpoint: str, invocation: Invocation) -> ModelAnswer:
        """The endpoint's answer to ``invocation``.

        Raises
        ------
        ModelRefusedError
            The model answered with an error status: the status and message it gave.
        RuntimeRefusedError
            SageMaker refused the invocation (unknown endpoint, throttling, ...): its code and message.
        """
        runtime = self._runtime or client("sagemaker-runtime")
        named = {} if invocation.inference_id is None else {"InferenceId": invocation.inference_id}
        try:
            response = runtime.invoke_endpoint(
                EndpointName=endpoint,
                ContentType=invocation.content_type,
                Accept=invocation.accept,
                Body=invocation.body,
                **named,
            )
        except ClientError as error:
            code = error_code(error)
            if code == "ModelError":  # the model's own status and message travel beside SageMaker's
                status = int(error.response.get("OriginalStatusCode") or 500)
                raise ModelRefusedError(status, str(error.response.get("OriginalMessage") or "")) from error
            message = error.response.get("Error", {}).get("Message", code)
            raise RuntimeRefusedError(code, message) from error
        return ModelAnswer(response["Body"].read(), response.get("ContentType", invocation.accept))

    def serving_version(self, endpoint: str) -> int | None:
        """The model version whose configuration ``endpoint`` runs (None: not one the platform made).

        Raises
        ------
        VersionUnknownError
            SageMaker refused to describe the endpoint (unknown, throttled, denied), or could not be reached.
        """
        now = self._clock()
        cached = self._versions.get(endpoint)
        if cached is not None and now - cached[0] < self.VERSION_TTL_SECONDS:
            return cached[1]
        sagemaker = self._sagemaker or client("sagemaker")
        try:
            description = sagemaker.describe_endpoint(EndpointName=endpoint)
        except ClientError as error:
            code = error_code(error)
            raise VersionUnknownError(f"endpoint {endpoint} could not be described ({code})") from error
        except BotoCoreError as error:
            raise VersionUnknownError(f"SageMaker could not be reached to describe {endpoint}") from error
        version = version_of(description.get("EndpointConfigName"), endpoint)
        self._versions[endpoint] = (now, version)
        return version


class S3CaptureStore:
    """Capture records as JSON Lines objects in the data bucket, encrypted with the platform's key."""

    def __init__(self, bucket: str, kms_key_arn: str) -> None:
        self.bucket = bucket
        self.kms_key_arn = kms_key_arn

    def write(self, key: str, record: dict[str, Any]) -> None:
        """Store ``record`` at ``key``.

        Raises
        ------
        CaptureNotWrittenError
            S3 refused the write, or could not be reached.
        """
        try:
            client("s3").put_object(
                Bucket=self.bucket,
                Key=key,
                Body=(json.dumps(record) + "\n").encode("utf-8"),
                ContentType="application/jsonlines",
                ServerSideEncryption="aws:kms",
                SSEKMSKeyId=self.kms_key_arn,
            )
        except (ClientError, BotoCoreError) as error:
            raise CaptureNotWrittenError(str(error)) from error
