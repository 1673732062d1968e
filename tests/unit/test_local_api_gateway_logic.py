"""The local cloud's API Gateway logic that needs no server: signatures, buckets, routes, proxy answers."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from localcloud.apigateway.callers import Caller
from localcloud.apigateway.proxy import IncomingRequest, MalformedAnswerError, proxy_answer, proxy_event
from localcloud.apigateway.routing import find_route
from localcloud.apigateway.sigv4 import Refusal, SignedRequest, authenticate
from localcloud.apigateway.throttling import Limits, Throttle, TokenBucket, method_limits

HOST = "127.0.0.1:4566"
PATH = "/restapis/abc123/v1/_user_request_/churn/invocations"
CALLER = Caller("AKIDEXAMPLE", "123456789012", "arn:aws:iam::123456789012:user/app", "AIDAEXAMPLE")


def _signed(
    secret: str = "secret", *, service: str = "execute-api", body: bytes = b"a,b\n1,2\n"
) -> SignedRequest:
    request = AWSRequest(
        method="POST", url=f"http://{HOST}{PATH}?x=1", data=body, headers={"Content-Type": "text/csv"}
    )
    SigV4Auth(Credentials("AKIDEXAMPLE", secret), service, "us-east-1").add_auth(request)
    headers = {name.lower(): value for name, value in request.headers.items()}
    return SignedRequest("POST", HOST, f"{PATH}?x=1", headers, body)


def _find(access_key: str) -> tuple[Caller, str] | None:
    return (CALLER, "secret") if access_key == "AKIDEXAMPLE" else None


def test_a_request_signed_with_the_key_s_secret_is_its_caller_s() -> None:
    assert authenticate(_signed(), region="us-east-1", find_caller=_find) == CALLER


@pytest.mark.parametrize(
    ("make_request", "error_type", "message_start"),
    [
        (
            lambda: SignedRequest("POST", HOST, PATH, {}, b""),
            "MissingAuthenticationTokenException",
            "Missing Auth",
        ),
        (
            lambda: _signed("wrong"),
            "InvalidSignatureException",
            "The request signature we calculated does not match",
        ),
        (
            lambda: _signed(service="s3"),
            "InvalidSignatureException",
            "Credential should be scoped to correct service",
        ),
    ],
    ids=["unsigned", "wrong secret", "wrong service"],
)
def test_unsigned_and_badly_signed_requests_are_refused(
    make_request: Callable[[], SignedRequest], error_type: str, message_start: str
) -> None:
    # Signed when the test runs, not when it is collected: a signature expires after five minutes.
    refusal = authenticate(make_request(), region="us-east-1", find_caller=_find)

    assert isinstance(refusal, Refusal)
    assert refusal.error_type == error_type and refusal.message.startswith(message_start)


def test_a_changed_body_breaks_the_signature() -> None:
    signed = _signed()
    tampered = SignedRequest(signed.method, signed.host, signed.raw_path, signed.headers, b"a,b\n6,6\n")

    refusal = authenticate(tampered, region="us-east-1", find_caller=_find)

    assert isinstance(refusal, Refusal) and refusal.error_type == "InvalidSignatureException"


def test_an_unknown_key_an_old_signature_and_another_region_are_refused() -> None:
    later = datetime.now(UTC) + timedelta(minutes=6)

    unknown = authenticate(_signed(), region="us-east-1", find_caller=lambda key: None)
    expired = authenticate(_signed(), region="us-east-1", find_caller=_find, now=later)
    elsewhere = authenticate(_signed(), region="eu-west-1", find_caller=_find)

    assert unknown == Refusal(
        "UnrecognizedClientException", "The security token included in the request is invalid."
    )
    assert isinstance(expired, Refusal) and expired.message.startswith("Signature expired:")
    assert isinstance(elsewhere, Refusal) and "valid region" in elsewhere.message


def test_a_token_bucket_serves_the_burst_then_the_rate() -> None:
    bucket = TokenBucket(Limits(rate=1.0, burst=2), now=0.0)

    assert [bucket.take(0.0), bucket.take(0.0), bucket.take(0.0)] == [True, True, False]
    assert [bucket.take(0.5), bucket.take(1.0), bucket.take(1.0)] == [False, True, False]
    assert bucket.take(10.0) and bucket.take(10.0) and not bucket.take(10.0)  # never more than the burst


def test_a_method_s_own_setting_wins_over_the_stage_s_then_the_account_s() -> None:
    settings = {
        "*/*": {"throttlingRateLimit": 100.0, "throttlingBurstLimit": 50},
        "~1churn~1invocations/POST": {"throttlingRateLimit": 1.0, "throttlingBurstLimit": 2},
    }

    assert method_limits(settings, "/churn/invocations", "POST") == Limits(1.0, 2)
    assert method_limits(settings, "/other", "GET") == Limits(100.0, 50)
    assert method_limits({}, "/other", "GET") == Limits(10000.0, 5000)


def test_each_method_has_a_bucket_of_its_own() -> None:
    throttle = Throttle(clock=lambda: 0.0)
    settings = {"*/*": {"throttlingRateLimit": 1.0, "throttlingBurstLimit": 1}}

    assert throttle.allow("api", "v1", settings, "/a", "POST")
    assert not throttle.allow("api", "v1", settings, "/a", "POST")
    assert throttle.allow("api", "v1", settings, "/b", "POST")


def _api(*paths_and_methods: tuple[str, list[str]]) -> Any:
    resources = {
        str(index): SimpleNamespace(
            id=str(index),
            get_path=lambda path=path: path,
            resource_methods={m: SimpleNamespace(http_method=m) for m in methods},
        )
        for index, (path, methods) in enumerate(paths_and_methods)
    }
    return SimpleNamespace(resources=resources)


def test_literal_parts_win_over_parameters_and_parameters_over_greedy_paths() -> None:
    api = _api(("/", []), ("/items/{id}", ["GET"]), ("/items/new", ["GET"]), ("/{proxy+}", ["ANY"]))

    literal, parameter, greedy = (
        find_route(api, path, "GET") for path in ("/items/new", "/items/42", "/files/a/b")
    )

    assert literal is not None and (literal.resource_path, literal.path_parameters) == ("/items/new", {})
    assert parameter is not None and parameter.path_parameters == {"id": "42"}
    assert greedy is not None and (greedy.resource_path, greedy.method.http_method) == ("/{proxy+}", "ANY")
    assert greedy.path_parameters == {"proxy": "files/a/b"}


def test_a_path_or_method_the_api_lacks_has_no_route() -> None:
    api = _api(("/", []), ("/churn/invocations", ["POST"]))

    assert find_route(api, "/churn/invocations", "GET") is None
    assert find_route(api, "/churn", "POST") is None


def test_the_event_is_api_gateway_s_rest_proxy_event_with_the_caller() -> None:
    request = invocation(
        headers=[("Content-Type", "text/csv"), ("X-Many", "1"), ("X-Many", "2")],
        query=[("a", "1"), ("a", "2")],
        body=b"x,y\n",
        user_agent="app/1.0",
    )
    api = SimpleNamespace(id="abc123", binaryMediaTypes=[])
    stage = SimpleNamespace(name="v1", deployment_id="d1")

    event = proxy_event(
        request,
        api=api,
        account_id="123456789012",
        region="us-east-1",
        stage=stage,
        request_id="id",
        caller=CALLER,
    )

    assert event["headers"] == {"Content-Type": "text/csv", "X-Many": "2"}
    assert event["multiValueHeaders"]["X-Many"] == ["1", "2"]
    assert (event["queryStringParameters"], event["multiValueQueryStringParameters"]) == (
        {"a": "2"},
        {"a": ["1", "2"]},
    )
    assert (event["pathParameters"], event["stageVariables"]) == (None, None)
    assert (event["body"], event["isBase64Encoded"]) == ("x,y\n", False)
    context = event["requestContext"]
    assert (context["path"], context["stage"], context["requestId"]) == ("/v1/churn/invocations", "v1", "id")
    assert context["identity"]["userArn"] == CALLER.user_arn
    assert context["identity"]["caller"] == context["identity"]["user"] == CALLER.user_id
    binary = proxy_event(
        request,
        api=SimpleNamespace(id="abc123", binaryMediaTypes=["text~1*"]),
        account_id="123456789012",
        region="us-east-1",
        stage=stage,
        request_id="id",
        caller=None,
    )
    assert (binary["body"], binary["isBase64Encoded"]) == (base64.b64encode(b"x,y\n").decode(), True)
    assert binary["requestContext"]["identity"]["userArn"] is None


@pytest.mark.parametrize(
    ("binary_media_types", "body", "is_base64"),
    [
        # a binary media type: the bytes, base64-encoded, exactly as sent
        (["text~1csv"], base64.b64encode(b"caf\xe9,\xff\xfe\x00\n").decode(), True),
        # any other type is text to API Gateway: decoded as UTF-8, U+FFFD for what is not
        ([], "caf\ufffd,\ufffd\ufffd\x00\n", False),
    ],
    ids=["binary media type", "text"],
)
def test_a_body_that_is_not_utf8_reaches_the_function_as_api_gateway_passes_it(
    binary_media_types: list[str], body: str, is_base64: bool
) -> None:
    request = invocation(
        headers=[("Content-Type", "text/csv")], query=[], body=b"caf\xe9,\xff\xfe\x00\n", user_agent=None
    )

    event = proxy_event(
        request,
        api=SimpleNamespace(id="abc123", binaryMediaTypes=binary_media_types),
        account_id="123456789012",
        region="us-east-1",
        stage=SimpleNamespace(name="v1", deployment_id="d1"),
        request_id="id",
        caller=None,
    )

    assert (event["body"], event["isBase64Encoded"]) == (body, is_base64)


def test_a_proxy_answer_becomes_the_http_answer() -> None:
    answer = proxy_answer(
        {
            "statusCode": 201,
            "headers": {"X-One": "a", "X-Both": "single"},
            "multiValueHeaders": {"X-Both": ["m1", "m2"]},
            "body": base64.b64encode(b"\x00\x01").decode(),
            "isBase64Encoded": True,
        }
    )

    assert answer.status == 201
    assert answer.body == b"\x00\x01"
    assert sorted(answer.headers) == [
        ("Content-Type", "application/json"),
        ("X-Both", "m1"),
        ("X-Both", "m2"),
        ("X-One", "a"),
    ]


@pytest.mark.parametrize(
    "result", [None, "ok", {"body": "no status"}, {"statusCode": 200, "body": {"not": "a string"}}]
)
def test_a_malformed_proxy_answer_is_refused(result: Any) -> None:
    with pytest.raises(MalformedAnswerError):
        proxy_answer(result)


def invocation(
    *, headers: list[tuple[str, str]], query: list[tuple[str, str]], body: bytes, user_agent: str | None
) -> IncomingRequest:
    """A POST to churn's invocations resource from loopback."""
    return IncomingRequest(
        http_method="POST",
        path="/churn/invocations",
        resource_path="/churn/invocations",
        resource_id="r1",
        path_parameters={},
        headers=headers,
        query=query,
        body=body,
        source_ip="127.0.0.1",
        user_agent=user_agent,
        protocol="HTTP/1.1",
    )
