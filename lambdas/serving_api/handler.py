"""Serving API: the invocation path of serverless endpoints, which captures what SageMaker cannot.

API Gateway (IAM-authenticated, throttled) → this function → ``InvokeEndpoint`` on the dataset's
serverless endpoint. Thin by design: Powertools wiring, the typed proxy event, one use case
(``domain.deployment.invocation.serve``: the answer as the model gave it, a sample captured in
SageMaker's format) and the AWS adapters it runs against; what it reports becomes logs and metrics here.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from adapters.environment import from_environment
from adapters.serving import S3CaptureStore, SageMakerRuntime, invocation_of, proxy_response
from domain.declared import declared_serving
from domain.deployment.invocation import serve

logger = Logger()
tracer = Tracer(patch_modules=["boto3"])  # traces AWS calls; nothing else here speaks HTTP
metrics = Metrics()
HERE = Path(__file__).parent  # serving.json was generated here at synth


class Settings(BaseModel):
    """The function's environment, set by the CDK construct ``ServingApi``."""

    project: str
    data_bucket: str
    kms_key_arn: str


@cache
def settings() -> Settings:
    """The environment, read once per execution environment."""
    return from_environment(Settings)


@cache
def adapters() -> tuple[SageMakerRuntime, S3CaptureStore]:
    """The AWS adapters, created on first use and reused by later invocations."""
    config = settings()
    return SageMakerRuntime(), S3CaptureStore(config.data_bucket, config.kms_key_arn)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_source(data_class=APIGatewayProxyEvent)
def handler(event: APIGatewayProxyEvent, context: LambdaContext) -> dict[str, Any]:
    """Invoke the dataset's serverless endpoint with the request; capture a sample; answer."""
    invocation = invocation_of(event)
    runtime, captures = adapters()
    served = serve(
        invocation,
        project=settings().project,
        serving=declared_serving(HERE),
        runtime=runtime,
        captures=captures,
    )
    if served.endpoint is None:
        metrics.add_metric(name="UnknownDatasetRequests", unit=MetricUnit.Count, value=1)
        return proxy_response(served.answer)
    logger.append_keys(endpoint=served.endpoint, caller=event.request_context.identity.user_arn)
    metrics.add_dimension(name="dataset", value=invocation.dataset)
    metrics.add_metric(name="Invocations", unit=MetricUnit.Count, value=1)
    if served.answer.status >= 400:
        metrics.add_metric(
            name=f"Invocation{served.answer.status // 100}XXErrors", unit=MetricUnit.Count, value=1
        )
    if served.refusal is not None:
        logger.warning(
            "invocation refused", extra={"code": served.refusal.code, "error": str(served.refusal)}
        )
    if served.capture_error is not None:
        logger.error(
            "capture not written", extra={"error": str(served.capture_error)}, exc_info=served.capture_error
        )
        metrics.add_metric(name="CaptureFailed", unit=MetricUnit.Count, value=1)
    return proxy_response(served.answer)
