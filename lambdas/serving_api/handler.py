"""Serving API: the invocation path of serverless endpoints, which captures what SageMaker cannot.

API Gateway (IAM-authenticated, throttled) → this function → ``InvokeEndpoint`` on the dataset's
serverless endpoint. Thin by design: the shared wiring, the typed proxy event, one use case
(``domain.deployment.invocation.serve``: the answer as the model gave it, a sample captured in
SageMaker's format) and the AWS adapters it runs against; what it reports becomes logs and metrics
(``adapters.serving.report``).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from adapters.function_settings import ServingApiSettings
from adapters.lambda_function import LambdaContext, LambdaFunction
from adapters.serving import S3CaptureStore, SageMakerRuntime, invocation_of, proxy_response, report
from domain.declared import declared_serving
from domain.deployment.invocation import serve

function = LambdaFunction(ServingApiSettings, __file__)
adapters = function.adapter(lambda s: (SageMakerRuntime(), S3CaptureStore(s.data_bucket, s.kms_key_arn)))


@function.handler(APIGatewayProxyEvent)
def handler(event: APIGatewayProxyEvent, context: LambdaContext) -> dict[str, Any]:
    """Invoke the dataset's serverless endpoint with the request; capture a sample; answer."""
    invocation, (runtime, captures) = invocation_of(event), adapters()
    served = serve(invocation, project=function.settings().project, serving=declared_serving(function.here),
                   runtime=runtime, captures=captures)  # fmt: skip
    report(function, served, invocation.dataset, caller=event.request_context.identity.user_arn)
    return proxy_response(served.answer)
