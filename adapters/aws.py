"""AWS clients: created lazily, cached, with one retry policy.

Where the SDK points is the SDK's business: ``AWS_ENDPOINT_URL`` (the local cloud) or AWS itself.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from typing import Any

import boto3
from boto3.exceptions import S3UploadFailedError
from botocore.config import Config

RETRIES = Config(
    retries={"mode": "standard", "max_attempts": 5},
    connect_timeout=5,
    read_timeout=60,
    tcp_keepalive=True,
)


@cache
def client(service: str, region: str | None = None) -> Any:
    """A boto3 client for ``service``, shared by everything in this process."""
    return boto3.session.Session().client(service, region_name=region, config=RETRIES)


@cache
def waiting_client(service: str, read_timeout: int) -> Any:
    """A boto3 client for calls that wait up to ``read_timeout`` seconds for their answer (a synchronous
    Lambda invoke), never retried: a retry after a timeout would run the call a second time."""
    once = Config(retries={"mode": "standard", "total_max_attempts": 1}, read_timeout=read_timeout)
    return boto3.session.Session().client(service, config=RETRIES.merge(once))


def error_code(error: Exception) -> str:
    """The AWS error code of a botocore ClientError, or of the one an upload failed on ('' else)."""
    return _error_field(error, "Code")


def error_message(error: Exception) -> str:
    """The AWS error message of a botocore ClientError, without the SDK's sentence around it ('' else)."""
    return _error_field(error, "Message")


def error_cause(error: Exception) -> str:
    """What an adapter's message names as the cause: the AWS error code, else the exception's type."""
    return error_code(error) or type(error).__name__


def _error_field(error: Exception, field: str) -> str:
    if isinstance(error, S3UploadFailedError) and error.__context__ is not None:
        # boto3's upload_file raises its own exception, a sentence around S3's refusal: the ClientError it
        # was handling (AccessDenied, a KMS key it may not use) says what happened.
        error = error.__context__
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get(field, ""))


@cache
def resource(service: str, region: str | None = None) -> Any:
    """A boto3 resource for ``service`` (DynamoDB's converts items to and from Python values)."""
    return boto3.session.Session().resource(service, region_name=region, config=RETRIES)


def forget_clients() -> None:
    """Forget every cached client and resource: the next ones are made for where the SDK points now
    (after ``AWS_ENDPOINT_URL`` or the credentials changed). One place, so that a new cache is not missed."""
    client.cache_clear()
    waiting_client.cache_clear()
    resource.cache_clear()


def from_dynamo(value: Any) -> Any:
    """A DynamoDB item (or value) as plain Python: its Decimals as int, or float when not whole."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_dynamo(v) for v in value]
    return value
