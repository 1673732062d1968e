"""localcloud.iam.wire on the requests that need care: signatures, S3 keys and copies, the query
protocol, bodies, the WSGI environ, and every operation of the rest services.
"""

from __future__ import annotations

import io
import time
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import boto3
import pytest
from botocore import xform_name
from botocore.awsrequest import AWSPreparedRequest
from botocore.config import Config
from botocore.model import ListShape, MapShape, Shape, StructureShape
from werkzeug.wrappers import Request

from localcloud.iam.actions import required
from localcloud.iam.wire import UnknownOperationError, WireRequest, credential, parse, read_body, unflatten
from tests.unit.test_iam_wire import EXAMPLES, MULTIPART, OBJECT
from tests.wire_requests import ACCOUNT, REGION, capture, client, sent, signed, wire


@pytest.mark.parametrize("signature", ["s3v4", "s3"], ids=["sigv4", "sigv2"])
def test_a_presigned_url_is_read_from_its_query_string(signature: str) -> None:
    client = boto3.client(
        "s3",
        endpoint_url="http://127.0.0.1:9",
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(signature_version=signature),
    )
    split = urlsplit(client.generate_presigned_url("get_object", Params=OBJECT, ExpiresIn=60))

    parsed = parse(WireRequest("GET", split.path, split.query, {}))

    assert parsed is not None
    assert (parsed.access_key, parsed.region, parsed.operation) == ("testing", REGION, "get_object")
    assert parsed.params == OBJECT


def test_a_role_session_key_is_read_like_the_administrators() -> None:
    sagemaker = client("sagemaker", key="ASIAEXAMPLESESSION01", token="session-token")

    parsed = parse(wire(sent(sagemaker, "describe_endpoint", {"EndpointName": "churn"})))

    assert parsed is not None
    assert parsed.access_key == "ASIAEXAMPLESESSION01"


def test_an_unsigned_request_is_not_an_api_call() -> None:
    request = sent(client("s3", signed=False), "get_object", OBJECT)

    assert parse(wire(request)) is None


def test_an_unknown_target_is_named() -> None:
    request = signed("sagemaker", headers={"x-amz-target": "SageMaker.SummonModel"}, body=b"{}")

    with pytest.raises(UnknownOperationError, match=r"SageMaker\.SummonModel"):
        parse(request)


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]"], ids=["malformed", "a list"])
def test_a_json_body_that_is_no_object_is_refused_with_its_operation(body: bytes) -> None:
    request = signed("sagemaker", headers={"x-amz-target": "SageMaker.DescribeEndpoint"}, body=body)

    with pytest.raises(UnknownOperationError, match=r"SageMaker\.DescribeEndpoint.*not a JSON object"):
        parse(request)


def test_a_service_the_local_cloud_does_not_read_is_named() -> None:
    with pytest.raises(UnknownOperationError, match=r"'ec2'.*add the service"):
        parse(signed("ec2", body=b"Action=DescribeInstances"))


@pytest.mark.parametrize(
    "key",
    ["runs/2026 01/model.tar.gz", "données/été/ü ñ 模型.csv", "a+b%20c/~x=y&z", "deep/a/b/c/d/"],
)
def test_an_s3_key_comes_back_as_given(key: str) -> None:
    parsed = parse(wire(sent(client("s3"), "put_object", {"Bucket": "mlops-data", "Key": key, "Body": b"x"})))

    assert parsed is not None
    assert (parsed.params["Bucket"], parsed.params["Key"]) == ("mlops-data", key)


@pytest.mark.parametrize(
    "source",
    [
        {"Bucket": "mlops-staging", "Key": "runs/1/é model.tar.gz", "VersionId": "v7"},
        "mlops-staging/runs/1/é model.tar.gz?versionId=v7",
    ],
    ids=["dict", "string"],
)
def test_a_copy_source_with_a_version_reads_as_boto3s_dict(source: Any) -> None:
    params = {"Bucket": "mlops-models", "Key": "churn.tar.gz", "CopySource": source}

    parsed = parse(wire(sent(client("s3"), "copy_object", params)))

    assert parsed is not None
    assert parsed.operation == "copy_object"
    assert parsed.params["CopySource"] == {
        "Bucket": "mlops-staging",
        "Key": "runs/1/é model.tar.gz",
        "VersionId": "v7",
    }
    needed = required("s3", "copy_object", parsed.params, region=REGION, account=ACCOUNT)
    assert needed[0].action == "s3:GetObjectVersion"


def test_put_object_and_upload_part_share_a_uri_and_are_told_apart_by_their_members() -> None:
    s3 = client("s3")
    put = parse(wire(sent(s3, "put_object", {**OBJECT, "Body": b"x"})))
    part = parse(wire(sent(s3, "upload_part", {**MULTIPART, "PartNumber": 3, "Body": b"x"})))

    assert put is not None and part is not None
    assert (put.operation, part.operation) == ("put_object", "upload_part")
    assert (part.params["PartNumber"], part.params["UploadId"]) == (3, "upload-1")


def test_a_bucket_path_with_a_trailing_slash_lists_the_bucket() -> None:
    request = signed("s3", method="GET", path="/mlops-data/", query_string="list-type=2&prefix=in%2F")

    parsed = parse(request)

    assert parsed is not None
    assert (parsed.operation, parsed.params) == ("list_objects_v2", {"Bucket": "mlops-data", "Prefix": "in/"})


def test_the_query_protocol_reads_lists_maps_and_nested_members() -> None:
    sns = parse(wire(sent(client("sns"), "publish", EXAMPLES[("sns", "publish")])))
    sts = parse(wire(sent(client("sts"), "get_caller_identity", {})))
    form = (
        "Action=PutMetricData&Version=2010-08-01&Namespace=MLOps%2FDrift"
        "&MetricData.member.1.MetricName=psi&MetricData.member.1.Value=0.3"
        "&MetricData.member.1.Dimensions.member.1.Name=Model&MetricData.member.1.Dimensions.member.1.Value=churn"
        "&MetricData.member.2.MetricName=rows&MetricData.member.2.Value=10"
    )
    content_type = {"content-type": "application/x-www-form-urlencoded; charset=utf-8"}
    cloudwatch = parse(signed("monitoring", headers=content_type, body=form.encode()))

    assert sns is not None and sts is not None and cloudwatch is not None
    assert sns.params == EXAMPLES[("sns", "publish")]
    assert (sts.service, sts.operation, sts.params) == ("sts", "get_caller_identity", {})
    assert (cloudwatch.service, cloudwatch.operation) == ("cloudwatch", "put_metric_data")
    assert cloudwatch.params == {
        "Namespace": "MLOps/Drift",
        "MetricData": [
            {"MetricName": "psi", "Value": "0.3", "Dimensions": [{"Name": "Model", "Value": "churn"}]},
            {"MetricName": "rows", "Value": "10"},
        ],
    }


def test_a_form_that_names_a_scalar_as_a_structure_too_keeps_the_scalar() -> None:
    assert unflatten([("Action", "Publish"), ("TopicArn", "t"), ("TopicArn.Name", "x")]) == {"TopicArn": "t"}


def test_a_json_service_is_also_read_in_the_query_protocol_older_clients_use() -> None:
    url = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/mlops-dlq"
    form = f"Action=SetQueueAttributes&QueueUrl={quote(url, safe='')}&Attribute.1.Name=Policy"
    content_type = {"content-type": "application/x-www-form-urlencoded"}

    parsed = parse(signed("sqs", headers=content_type, body=form.encode()))

    assert parsed is not None
    assert (parsed.service, parsed.operation) == ("sqs", "set_queue_attributes")
    needed = required("sqs", "set_queue_attributes", parsed.params, region=REGION, account=ACCOUNT)
    assert [r.resource for r in needed] == [f"arn:aws:sqs:{REGION}:{ACCOUNT}:mlops-dlq"]


def test_a_chunked_body_is_read_once_and_left_for_the_next_reader() -> None:
    environ = {
        "REQUEST_METHOD": "POST",
        "wsgi.input": io.BytesIO(b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"),
        "HTTP_TRANSFER_ENCODING": "chunked",
    }

    assert read_body(environ) == b"hello world"
    assert Request(environ).get_data() == b"hello world"


def test_a_sized_body_is_read_to_its_length_and_left_for_the_next_reader() -> None:
    environ = {"REQUEST_METHOD": "POST", "wsgi.input": io.BytesIO(b"{}trailing"), "CONTENT_LENGTH": "2"}

    assert read_body(environ) == b"{}"
    assert Request(environ).get_data() == b"{}"


def _environ(request: AWSPreparedRequest, *, raw: bool) -> dict[str, Any]:
    url = urlsplit(request.url)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": request.method,
        "PATH_INFO": unquote(url.path).encode().decode("latin-1"),
        "QUERY_STRING": url.query,
        "wsgi.input": io.BytesIO(),
    }
    if raw:
        environ["RAW_URI"] = f"{url.path}?{url.query}" if url.query else url.path
    for name, value in request.headers.items():
        text = value.decode() if isinstance(value, bytes) else str(value)
        key = name.upper().replace("-", "_")
        environ[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"] = text
    return environ


@pytest.mark.parametrize("raw", [True, False], ids=["raw-uri", "path-info"])
def test_from_environ_keeps_the_path_as_sent_and_never_reads_an_s3_body(raw: bool) -> None:
    key = "données/ü ñ/a+b.csv"
    request = sent(client("s3"), "put_object", {"Bucket": "mlops-data", "Key": key, "Body": b"x"})
    reads: list[int] = []

    wire = WireRequest.from_environ(_environ(request, raw=raw), read_body=lambda: reads.append(1) or b"x")
    parsed = parse(wire)

    assert reads == []
    assert parsed is not None
    assert (parsed.operation, parsed.params["Key"]) == ("put_object", key)


def test_from_environ_reads_a_json_body_once() -> None:
    request = sent(client("sagemaker"), "describe_endpoint", {"EndpointName": "churn"})
    body = bytes(request.body)
    reads: list[int] = []

    wire = WireRequest.from_environ(_environ(request, raw=True), read_body=lambda: reads.append(1) or body)
    parsed = parse(wire)

    assert reads == [1]
    assert parsed is not None
    assert parsed.params == {"EndpointName": "churn"}


def test_parsing_is_cheap_enough_for_every_request() -> None:
    # The service models and compiled URI routes are built once; after that a request costs well under a ms.
    requests = [
        wire(sent(client(service), operation, EXAMPLES[(service, operation)]))
        for service, operation in [("s3", "upload_part_copy"), ("s3", "get_object"), ("lambda", "invoke")]
    ]
    for request in requests:
        parse(request)

    started = time.perf_counter()
    for _ in range(300):
        for request in requests:
            parse(request)
    elapsed = time.perf_counter() - started

    assert elapsed < 1.0, f"900 parses took {elapsed:.2f}s"


def _value(shape: Shape) -> Any:
    """A value of a shape that botocore serializes (required members only, the first of an enum)."""
    kind = shape.type_name
    if isinstance(shape, StructureShape):
        return {
            name: _value(member) for name, member in shape.members.items() if name in shape.required_members
        }
    if isinstance(shape, ListShape):
        return [_value(shape.member)]
    if isinstance(shape, MapShape):
        return {"k": _value(shape.value)}
    simple = {
        "integer": 1,
        "long": 1,
        "float": 1.0,
        "double": 1.0,
        "boolean": True,
        "blob": b"x",
        "timestamp": 0,
    }
    return simple.get(kind, (getattr(shape, "enum", None) or ["v"])[0])


REST_SERVICES = ("s3", "lambda", "apigateway", "sagemaker-runtime")


@pytest.mark.parametrize("service", REST_SERVICES)
def test_every_operation_of_a_rest_service_reads_back_as_itself(service: str) -> None:
    # Operations that share a URI (S3's PutObject, CopyObject, UploadPart, UploadPartCopy; ListObjects and
    # ListObjectsV2) are where the routes' order of preference matters: all of them, not only the table's.
    made = boto3.client(
        service,
        endpoint_url="http://127.0.0.1:9",
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(parameter_validation=False, retries={"max_attempts": 0}),
    )
    made.meta.events.register("before-send", capture)
    model = made.meta.service_model
    wrong = []
    for name in model.operation_names:
        operation = model.operation_model(name)
        params = _value(operation.input_shape) if operation.input_shape else {}
        request = wire(sent(made, xform_name(name), params))
        scope = credential(request)
        if scope is None or scope[2] != (model.signing_name or model.endpoint_prefix):
            # Signed for another endpoint (S3 Express's control plane, S3 Object Lambda): not addressed here.
            with pytest.raises(UnknownOperationError):
                parse(request)
            continue
        parsed = parse(request)
        assert parsed is not None
        if parsed.operation == xform_name(name):
            continue
        # A deprecated operation is its successor on the wire (GetBucketLifecycle, ...Configuration).
        successor = model.operation_model(
            next(o for o in model.operation_names if xform_name(o) == parsed.operation)
        )
        if not (operation.deprecated and successor.name.startswith(name) and not successor.deprecated):
            wrong.append(f"{name} -> {parsed.operation}")
    assert wrong == []
