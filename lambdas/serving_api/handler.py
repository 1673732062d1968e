"""Serving API: the invocation path of serverless endpoints, which captures what SageMaker cannot.

API Gateway (IAM-authenticated, throttled) → this function → ``InvokeEndpoint`` on the dataset's
serverless endpoint; the answer goes back as the model gave it (a model's 4xx keeps its status and
message), and a sample of requests with their answers is written to the dataset's capture prefix in
SageMaker's data-capture format, where the drift monitor reads real-time endpoints' captures too.
A capture that cannot be written is logged and counted; it never fails the request.
"""

from __future__ import annotations

import base64
import json
import random
import uuid
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel

from adapters.aws import client, error_code
from adapters.environment import from_environment
from domain.capture import capture_key, capture_record
from domain.declared import declared_serving
from domain.deployment import VARIANT, capture_prefix, endpoint_name

logger = Logger()
tracer = Tracer(patch_modules=["boto3"])  # traces AWS calls; nothing else here speaks HTTP
metrics = Metrics()
HERE = Path(__file__).parent  # serving.json was generated here at synth
_STATUS = {"ValidationError": 404, "ThrottlingException": 429, "ServiceUnavailable": 503}


class Settings(BaseModel):
    """The function's environment, set by the CDK construct ``ServingApi``."""

    project: str
    data_bucket: str
    kms_key_arn: str


@cache
def settings() -> Settings:
    """The environment, read once per execution environment."""
    return from_environment(Settings)


def _answer(status: int, body: str | bytes, content_type: str = "application/json") -> dict[str, Any]:
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    return {"statusCode": status, "headers": {"Content-Type": content_type}, "body": text}


def _error(status: int, message: str) -> dict[str, Any]:
    return _answer(status, json.dumps({"error": message}))


def _capture(dataset: str, endpoint: str, request: bytes, request_type: str, answer: dict[str, Any]) -> None:
    at = datetime.now(UTC)
    unique = str(uuid.uuid4())
    record = capture_record(
        request=request,
        request_type=request_type,
        response=str(answer["body"]).encode("utf-8"),
        response_type=answer["headers"]["Content-Type"],
        event_id=unique,
        at=at,
    )
    config = settings()
    try:
        client("s3").put_object(
            Bucket=config.data_bucket,
            Key=capture_key(capture_prefix(dataset), endpoint, VARIANT, at, unique),
            Body=(json.dumps(record) + "\n").encode("utf-8"),
            ContentType="application/jsonlines",
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=config.kms_key_arn,
        )
    except (ClientError, BotoCoreError) as error:
        logger.exception("capture not written", extra={"error": str(error)})
        metrics.add_metric(name="CaptureFailed", unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_source(data_class=APIGatewayProxyEvent)
def handler(event: APIGatewayProxyEvent, context: LambdaContext) -> dict[str, Any]:
    """Invoke the dataset's serverless endpoint with the request; capture a sample; answer."""
    dataset = event.resource.strip("/").split("/")[0]  # the API's resources are /<dataset>/invocations
    serving = declared_serving(HERE).get(dataset)
    if serving is None or serving.mode != "serverless":
        metrics.add_metric(name="UnknownDatasetRequests", unit=MetricUnit.Count, value=1)
        return _error(404, f"{dataset!r} is not a dataset served by this API")
    endpoint = endpoint_name(settings().project, dataset)
    logger.append_keys(endpoint=endpoint, caller=event.request_context.identity.user_arn)
    metrics.add_dimension(name="dataset", value=dataset)
    body = event.body or ""
    request = base64.b64decode(body) if event.is_base64_encoded else body.encode("utf-8")
    request_type = event.headers.get("content-type") or event.headers.get("Content-Type") or "text/csv"
    accept = event.headers.get("accept") or event.headers.get("Accept") or "application/json"
    try:
        response = client("sagemaker-runtime").invoke_endpoint(
            EndpointName=endpoint, ContentType=request_type, Accept=accept, Body=request
        )
        answer = _answer(200, response["Body"].read(), response.get("ContentType", accept))
    except ClientError as error:
        code = error_code(error)
        if code == "ModelError":
            original = error.response.get("OriginalStatusCode") or 500
            answer = _answer(int(original), str(error.response.get("OriginalMessage") or ""))
        else:
            logger.warning("invocation refused", extra={"code": code, "error": str(error)})
            answer = _error(_STATUS.get(code, 502), error.response.get("Error", {}).get("Message", code))
    metrics.add_metric(name="Invocations", unit=MetricUnit.Count, value=1)
    if answer["statusCode"] >= 400:
        metrics.add_metric(
            name=f"Invocation{answer['statusCode'] // 100}XXErrors", unit=MetricUnit.Count, value=1
        )
    if random.random() * 100 < serving.capture_percent:  # sampling, not security
        _capture(dataset, endpoint, request, request_type, answer)
    return answer
