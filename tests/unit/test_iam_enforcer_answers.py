"""A refused request is answered so that botocore raises what AWS's SDK raises: the code and the message."""

from __future__ import annotations

from typing import Any

import pytest
from botocore import parsers
from botocore.session import get_session

from localcloud.iam.answers import Refusal, refusal

MESSAGE = "User: arn:aws:sts::1:assumed-role/r/s is not authorized to perform: x:Y on resource: <a & b>"
INVALID_TOKEN = "The security token included in the request is invalid."


def parsed_error(service: str, operation: str, kind: Refusal, message: str) -> tuple[int, dict[str, Any]]:
    """The error botocore reads from the answer, as a client of ``service`` calling ``operation``."""
    answer = refusal(service, kind, message)
    model = get_session().get_service_model(service)
    response = {
        "status_code": answer.status_code,
        "headers": {k.lower(): v for k, v in answer.headers.items()},
        "body": answer.get_data(),
    }
    parser = parsers.create_parser(model.protocol)
    parsed = parser.parse(response, model.operation_model(operation).output_shape)
    return answer.status_code, parsed["Error"]


@pytest.mark.parametrize(
    ("service", "operation", "status", "code"),
    [
        ("s3", "GetObject", 403, "AccessDenied"),
        ("sns", "Publish", 403, "AuthorizationError"),
        ("sts", "GetCallerIdentity", 403, "AccessDenied"),
        ("sagemaker", "CreateModel", 400, "AccessDeniedException"),
        ("dynamodb", "GetItem", 400, "AccessDeniedException"),
        ("kms", "Decrypt", 400, "AccessDeniedException"),
        # SQS and CloudWatch answer JSON / CBOR now, with the query code their SDKs raised before.
        ("sqs", "SendMessage", 400, "AccessDenied"),
        ("cloudwatch", "PutMetricData", 400, "AccessDenied"),
        ("lambda", "Invoke", 403, "AccessDeniedException"),
        ("sagemaker-runtime", "InvokeEndpoint", 403, "AccessDeniedException"),
    ],
)
def test_a_denial_is_the_services_access_denied(service: str, operation: str, status: int, code: str) -> None:
    assert parsed_error(service, operation, "denied", MESSAGE) == (
        status,
        {"Code": code, "Message": MESSAGE, **_extra(service)},
    )


@pytest.mark.parametrize(
    ("service", "operation", "code", "message"),
    [
        (
            "s3",
            "GetObject",
            "InvalidAccessKeyId",
            "The AWS Access Key Id you provided does not exist in our records.",
        ),
        ("sts", "GetCallerIdentity", "InvalidClientTokenId", INVALID_TOKEN),
        ("sagemaker", "DescribeEndpoint", "UnrecognizedClientException", INVALID_TOKEN),
        ("sqs", "ReceiveMessage", "InvalidClientTokenId", INVALID_TOKEN),
        ("lambda", "Invoke", "UnrecognizedClientException", INVALID_TOKEN),
    ],
)
def test_an_unknown_key_is_refused_as_aws_refuses_it(
    service: str, operation: str, code: str, message: str
) -> None:
    status, error = parsed_error(service, operation, "unknown_key", INVALID_TOKEN)

    assert (status, error["Code"], error["Message"]) == (
        403 if service in {"s3", "sts", "lambda"} else 400,
        code,
        message,
    )


def test_an_operation_enforcement_cannot_decide_is_a_server_error_naming_it() -> None:
    message = "s3.delete_bucket: no IAM mapping; add it to localcloud/iam/operations.py"

    status, error = parsed_error("s3", "DeleteBucket", "gap", message)

    assert (status, error["Message"]) == (500, message)


def _extra(service: str) -> dict[str, str]:
    # botocore keeps the JSON code of a query-compatible service beside the query code it raises.
    if service in {"sqs", "cloudwatch"}:
        return {"QueryErrorCode": "AccessDeniedException", "Type": "Sender"}
    if service in {"sns", "sts"}:
        return {"Type": "Sender"}
    return {}
