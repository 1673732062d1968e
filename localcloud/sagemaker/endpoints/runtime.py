"""``sagemaker-runtime`` ``InvokeEndpoint``, answered by the endpoint's fleet instead of moto's ``b"body"``.

The request goes to the blue or the green fleet by the traffic split, then to a variant by weight (or
to ``TargetVariant``), and to its model server's ``/invocations``, with the body as it was sent (one that
is not UTF-8 included: ``request_bodies`` keeps moto from decoding it). As SageMaker answers:

- the model's 2xx: ``Body``, ``ContentType``, ``InvokedProductionVariant``;
- the model's 4xx or 5xx: ``ModelError`` (HTTP 424) with ``OriginalStatusCode``, ``OriginalMessage`` (the
  model's body), ``LogStreamArn`` (the endpoint's log group) and ``Received client error (400) from
  primary with message "..."`` (``server error`` for a 5xx);
- a model that does not answer in 60 s: ``ModelError`` ("Your invocation timed out ...");
- an endpoint that does not exist or is not ``InService``/``Updating``: ``ValidationError`` ("Endpoint
  <name> of account <account> not found.");
- an ``InferenceId`` (header ``X-Amzn-SageMaker-Inference-Id``) outside SageMaker's rule (1 to 64
  characters of its pattern: ``domain.deployment.inference_id``): ``ValidationError`` in AWS's words,
  before any model is asked (botocore checks only the length's minimum, so the rest reaches here).

Each served invocation adds to the endpoint's CloudWatch metrics and, when sampled, to its data capture
(see ``metrics`` and ``capture``).
"""

from __future__ import annotations

import json
import time
from typing import Any

from moto.core.common_types import TYPE_RESPONSE
from moto.sagemaker.models import FakeEndpoint
from moto.sagemakerruntime.responses import SageMakerRuntimeResponse

from domain.deployment.inference_id import (
    INFERENCE_ID_HEADER,
    INFERENCE_ID_PATTERN,
    MAX_INFERENCE_ID_LENGTH,
    matches_inference_id_pattern,
)
from localcloud.errors import constraint_failure, validation_errors
from localcloud.patches import Patch
from localcloud.sagemaker.endpoints.capture import CapturedInvocation, capture_record, dumps
from localcloud.sagemaker.endpoints.fleet import log_group
from localcloud.sagemaker.endpoints.manager import EndpointManager, NotServingError, Served
from localcloud.sagemaker.endpoints.metrics import InvocationMetrics
from localcloud.sagemaker.endpoints.telemetry import Telemetry
from localcloud.sagemaker.serving import Invocation, ModelServerError

DEFAULT_CONTENT_TYPE = "application/octet-stream"
_TIMED_OUT = (
    "Your invocation timed out while waiting for a response from container primary. Review the latency "
    "metrics for each container in Amazon CloudWatch, resolve the issue, and try again."
)


def patches(manager: EndpointManager, telemetry: Telemetry) -> list[Patch]:
    """The replacement of moto's ``InvokeEndpoint``."""

    def invoke_endpoint(response: SageMakerRuntimeResponse) -> TYPE_RESPONSE:
        return invoke(response, manager, telemetry)

    return [Patch(SageMakerRuntimeResponse, "invoke_endpoint", invoke_endpoint)]


def invoke(
    response: SageMakerRuntimeResponse, manager: EndpointManager, telemetry: Telemetry
) -> TYPE_RESPONSE:
    """Answer one ``InvokeEndpoint`` request."""
    started = time.perf_counter()
    account_id, region = response.current_account, response.region
    name = str(response._get_params().get("EndpointName") or response.path.split("/")[2])
    body = (
        response.raw_body if isinstance(response.raw_body, bytes) else str(response.raw_body or "").encode()
    )
    content_type = response.headers.get("Content-Type") or DEFAULT_CONTENT_TYPE
    accept = response.headers.get("Accept")
    target = response.headers.get("X-Amzn-SageMaker-Target-Variant")
    inference_id = response.headers.get(INFERENCE_ID_HEADER)
    failures = [] if inference_id is None else inference_id_failures(inference_id)
    if failures:
        return _error(400, "ValidationError", validation_errors(failures))
    arn = FakeEndpoint.arn_formatter(name, account_id, region)
    try:
        with manager.serving(arn, target) as served:
            model_started = time.perf_counter()
            answer: Invocation | None = None
            failure = ""
            try:
                answer = served.variant.server.invoke(body, content_type, accept)
            except TimeoutError:
                failure = _TIMED_OUT
            except (ModelServerError, OSError) as error:
                failure = f"The model server of production variant {served.variant.spec.name} failed: {error}"
            model_us = int((time.perf_counter() - model_started) * 1e6)
    except NotServingError:
        return _error(400, "ValidationError", f"Endpoint {name} of account {account_id} not found.")
    except LookupError:
        return _error(400, "ValidationError", f"Variant {target} not found for endpoint {name}.")
    total_us = int((time.perf_counter() - started) * 1e6)
    telemetry.metrics.add(
        InvocationMetrics(
            account_id=account_id,
            region=region,
            endpoint=name,
            variant=served.variant.spec.name,
            status=answer.status if answer is not None else None,
            model_latency_us=model_us,
            overhead_latency_us=max(0, total_us - model_us),
        )
    )
    if answer is not None:
        _capture(telemetry, served, name, region, body, content_type, answer, inference_id)
    if answer is None:
        return _error(424, "ModelError", failure, LogStreamArn=_log_arn(account_id, region, name))
    if answer.status >= 400:
        return _model_error(answer, account_id=account_id, region=region, name=name)
    headers = {
        "Content-Type": answer.content_type,
        "x-Amzn-Invoked-Production-Variant": served.variant.spec.name,
    }
    return 200, headers, answer.body


def _capture(
    telemetry: Telemetry,
    served: Served,
    name: str,
    region: str,
    body: bytes,
    content_type: str,
    answer: Invocation,
    inference_id: str | None,
) -> None:
    settings, sampler = served.fleet.spec.capture, served.fleet.sampler
    if settings is None or sampler is None or not sampler.sample():
        return
    at = telemetry.now()
    record = capture_record(
        settings,
        request=body,
        request_type=content_type,
        response=answer.body,
        response_type=answer.content_type,
        at=at,
        inference_id=inference_id,
    )
    telemetry.captures.add(
        CapturedInvocation(
            settings=settings,
            endpoint=name,
            variant=served.variant.spec.name,
            region=region,
            at=at,
            line=dumps(record),
            s3=served.variant.s3,
        )
    )


def inference_id_failures(value: str) -> list[str]:
    """What SageMaker says of an ``InferenceId`` it refuses (each broken constraint); empty when taken."""
    failures = []
    if not value:
        failures.append(
            constraint_failure(value, "inferenceId", "Member must have length greater than or equal to 1")
        )
    if len(value) > MAX_INFERENCE_ID_LENGTH:
        failures.append(
            constraint_failure(
                value,
                "inferenceId",
                f"Member must have length less than or equal to {MAX_INFERENCE_ID_LENGTH}",
            )
        )
    if not matches_inference_id_pattern(value):
        failures.append(
            constraint_failure(
                value,
                "inferenceId",
                f"Member must satisfy regular expression pattern: {INFERENCE_ID_PATTERN}",
            )
        )
    return failures


def _model_error(answer: Invocation, *, account_id: str, region: str, name: str) -> TYPE_RESPONSE:
    kind = "client" if answer.status < 500 else "server"
    original = answer.body.decode("utf-8", errors="replace")
    console = (
        f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
        f"#logEventViewer:group={log_group(name)}"
    )
    message = (
        f'Received {kind} error ({answer.status}) from primary with message "{original}". '
        f"See {console} in account {account_id} for more information."
    )
    return _error(
        424,
        "ModelError",
        message,
        OriginalStatusCode=answer.status,
        OriginalMessage=original,
        LogStreamArn=_log_arn(account_id, region, name),
    )


def _log_arn(account_id: str, region: str, name: str) -> str:
    return f"arn:aws:logs:{region}:{account_id}:log-group:{log_group(name)}"


def _error(status: int, code: str, message: str, **members: Any) -> TYPE_RESPONSE:
    body = json.dumps({"Message": message, **members})
    # moto takes the status from the headers' "status", whatever the tuple says.
    return status, {"status": str(status), "Content-Type": "application/json", "x-amzn-ErrorType": code}, body
