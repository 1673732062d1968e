"""A signed request, as boto3 sends it, read back as the boto3 call it is (localcloud.iam.wire).

Each request is built by a real boto3 client and caught by botocore's ``before-send`` event before it
leaves, so nothing goes on the network.
"""

from __future__ import annotations

import io
import time
from typing import Any
from urllib.parse import unquote, urlsplit

import boto3
import pytest
from botocore import UNSIGNED, xform_name
from botocore.awsrequest import AWSPreparedRequest
from botocore.config import Config
from botocore.session import get_session
from werkzeug.wrappers import Request

from localcloud.iam.actions import OPERATIONS, required
from localcloud.iam.wire import UnknownOperationError, WireRequest, needs_body, parse, read_body

REGION, ACCOUNT = "us-east-1", "123456789012"
SM = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/mlops-training"
MACHINE = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:mlops-training"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:mlops-alerts"
STACK = "MlopsFoundation"
OBJECT = {"Bucket": "mlops-data", "Key": "incoming/churn/2026-01-01.csv"}
MULTIPART = {**OBJECT, "UploadId": "upload-1"}
SOURCE = {"Bucket": "mlops-staging", "Key": "runs/1/model.tar.gz"}
TABLE = {"TableName": "mlops-runs", "Key": {"run_id": {"S": "run-1"}}}

# One realistic call per wire operation of the table.
EXAMPLES: dict[tuple[str, str], dict[str, Any]] = {
    ("s3", "get_object"): OBJECT,
    ("s3", "head_object"): {**OBJECT, "VersionId": "v3"},
    ("s3", "put_object"): {**OBJECT, "Body": b"a,b\n1,2\n", "ServerSideEncryption": "aws:kms"},
    ("s3", "create_multipart_upload"): OBJECT,
    ("s3", "upload_part"): {**MULTIPART, "PartNumber": 2, "Body": b"part"},
    ("s3", "complete_multipart_upload"): {
        **MULTIPART,
        "MultipartUpload": {"Parts": [{"ETag": '"e1"', "PartNumber": 1}]},
    },
    ("s3", "abort_multipart_upload"): MULTIPART,
    ("s3", "copy_object"): {"Bucket": "mlops-models", "Key": "churn/model.tar.gz", "CopySource": SOURCE},
    ("s3", "upload_part_copy"): {
        "Bucket": "mlops-models",
        "Key": "churn/model.tar.gz",
        "CopySource": {**SOURCE, "VersionId": "v7"},
        "PartNumber": 1,
        "UploadId": "upload-2",
    },
    ("s3", "list_objects_v2"): {"Bucket": "mlops-data", "Prefix": "incoming/"},
    ("s3", "list_object_versions"): {"Bucket": "mlops-data", "Prefix": "incoming/"},
    ("s3", "create_bucket"): {"Bucket": "mlops-data"},
    ("s3", "put_bucket_policy"): {
        "Bucket": "mlops-data",
        "Policy": '{"Version": "2012-10-17", "Statement": []}',
    },
    ("s3", "put_bucket_encryption"): {
        "Bucket": "mlops-data",
        "ServerSideEncryptionConfiguration": {
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]
        },
    },
    ("s3", "put_bucket_logging"): {"Bucket": "mlops-data", "BucketLoggingStatus": {}},
    ("s3", "put_bucket_versioning"): {
        "Bucket": "mlops-data",
        "VersioningConfiguration": {"Status": "Enabled"},
    },
    ("s3", "put_public_access_block"): {
        "Bucket": "mlops-data",
        "PublicAccessBlockConfiguration": {"BlockPublicAcls": True},
    },
    ("s3", "get_bucket_notification_configuration"): {"Bucket": "mlops-data"},
    ("s3", "put_bucket_notification_configuration"): {
        "Bucket": "mlops-data",
        "NotificationConfiguration": {"EventBridgeConfiguration": {}},
    },
    ("s3", "list_buckets"): {},
    ("dynamodb", "get_item"): TABLE,
    ("dynamodb", "put_item"): {"TableName": "mlops-runs", "Item": TABLE["Key"]},
    ("dynamodb", "update_item"): {**TABLE, "UpdateExpression": "SET #s = :s"},
    ("dynamodb", "delete_item"): TABLE,
    ("dynamodb", "query"): {
        "TableName": "mlops-runs",
        "IndexName": "by-status",
        "KeyConditionExpression": "#s = :s",
        "ExpressionAttributeNames": {"#s": "status"},
        "ExpressionAttributeValues": {":s": {"S": "running"}},
    },
    ("dynamodb", "update_continuous_backups"): {
        "TableName": "mlops-runs",
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
    },
    ("sagemaker", "create_model_package_group"): {"ModelPackageGroupName": "churn"},
    ("sagemaker", "describe_model_package_group"): {"ModelPackageGroupName": "churn"},
    ("sagemaker", "list_model_package_groups"): {},
    ("sagemaker", "create_model_package"): {
        "ModelPackageGroupName": "churn",
        "ModelApprovalStatus": "PendingManualApproval",
    },
    ("sagemaker", "list_model_packages"): {"ModelPackageGroupName": "churn"},
    ("sagemaker", "describe_model_package"): {"ModelPackageName": f"{SM}:model-package/churn/3"},
    ("sagemaker", "update_model_package"): {
        "ModelPackageArn": f"{SM}:model-package/churn/3",
        "ModelApprovalStatus": "Approved",
    },
    ("sagemaker", "create_model_card"): {
        "ModelCardName": "churn-3",
        "Content": "{}",
        "ModelCardStatus": "Draft",
    },
    ("sagemaker", "create_model"): {"ModelName": "churn-3", "ExecutionRoleArn": ROLE},
    ("sagemaker", "create_endpoint_config"): {
        "EndpointConfigName": "churn-3",
        "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": "churn-3"}],
    },
    ("sagemaker", "describe_endpoint_config"): {"EndpointConfigName": "churn-3"},
    ("sagemaker", "create_endpoint"): {"EndpointName": "churn", "EndpointConfigName": "churn-3"},
    ("sagemaker", "update_endpoint"): {"EndpointName": "churn", "EndpointConfigName": "churn-4"},
    ("sagemaker", "describe_endpoint"): {"EndpointName": "churn"},
    ("sagemaker", "delete_endpoint"): {"EndpointName": "churn"},
    ("sagemaker", "list_endpoints"): {"NameContains": "churn"},
    ("sagemaker", "create_training_job"): {
        "TrainingJobName": "churn-run-1",
        "RoleArn": ROLE,
        "AlgorithmSpecification": {"TrainingImage": "img", "TrainingInputMode": "File"},
        "OutputDataConfig": {"S3OutputPath": "s3://mlops-models/runs/1/"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
    },
    ("sagemaker", "describe_training_job"): {"TrainingJobName": "churn-run-1"},
    ("sagemaker", "stop_training_job"): {"TrainingJobName": "churn-run-1"},
    ("sagemaker-runtime", "invoke_endpoint"): {
        "EndpointName": "churn",
        "Body": b'{"instances": [[1, 2]]}',
        "ContentType": "application/json",
    },
    ("stepfunctions", "start_execution"): {"stateMachineArn": MACHINE, "input": "{}"},
    ("stepfunctions", "describe_execution"): {
        "executionArn": f"{MACHINE.replace('stateMachine', 'execution')}:e1"
    },
    ("stepfunctions", "list_executions"): {"stateMachineArn": MACHINE},
    ("stepfunctions", "list_state_machines"): {},
    ("stepfunctions", "create_state_machine"): {
        "name": "mlops-training",
        "definition": "{}",
        "roleArn": ROLE,
    },
    ("stepfunctions", "update_state_machine"): {"stateMachineArn": MACHINE, "roleArn": ROLE},
    ("sns", "publish"): {
        "TopicArn": TOPIC,
        "Message": "drift",
        "MessageAttributes": {"severity": {"DataType": "String", "StringValue": "high"}},
    },
    ("sns", "set_topic_attributes"): {
        "TopicArn": TOPIC,
        "AttributeName": "KmsMasterKeyId",
        "AttributeValue": "k",
    },
    ("sqs", "set_queue_attributes"): {
        "QueueUrl": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/mlops-dlq",
        "Attributes": {"MessageRetentionPeriod": "1209600"},
    },
    ("events", "put_events"): {
        "Entries": [
            {"EventBusName": "mlops-bus", "Source": "mlops", "DetailType": "x", "Detail": "{}"},
            {"EventBusName": "default", "Source": "mlops", "DetailType": "y", "Detail": "{}"},
        ]
    },
    ("cloudwatch", "describe_alarms"): {"AlarmNames": ["churn-latency", "churn-errors"]},
    ("cloudwatch", "put_metric_alarm"): {
        "AlarmName": "churn-latency",
        "EvaluationPeriods": 1,
        "ComparisonOperator": "GreaterThanThreshold",
        "Threshold": 1.0,
    },
    ("cloudformation", "create_stack"): {"StackName": STACK, "TemplateBody": "{}"},
    ("cloudformation", "update_stack"): {"StackName": STACK, "TemplateBody": "{}"},
    ("cloudformation", "delete_stack"): {"StackName": STACK},
    ("cloudformation", "describe_stacks"): {"StackName": STACK},
    ("cloudformation", "describe_stack_events"): {"StackName": STACK},
    ("cloudformation", "list_stack_resources"): {"StackName": STACK},
    ("cloudformation", "update_termination_protection"): {
        "StackName": STACK,
        "EnableTerminationProtection": True,
    },
    ("ssm", "put_parameter"): {"Name": "/cdk-bootstrap/hnb659fds/version", "Value": "21", "Type": "String"},
    ("lambda", "update_function_configuration"): {"FunctionName": "mlops-validation", "Role": ROLE},
    ("lambda", "invoke"): {
        "FunctionName": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:mlops-validation",
        "Payload": b"{}",
    },
    ("logs", "create_log_group"): {"logGroupName": "/aws/lambda/mlops-validation"},
    ("logs", "put_retention_policy"): {"logGroupName": "/aws/lambda/mlops-validation", "retentionInDays": 30},
    ("logs", "delete_retention_policy"): {"logGroupName": "/aws/lambda/mlops-validation"},
    ("logs", "describe_log_groups"): {"logGroupNamePrefix": "/aws/lambda/"},
    ("apigateway", "update_account"): {
        "patchOperations": [{"op": "replace", "path": "/cloudwatchRoleArn", "value": ROLE}]
    },
    ("sts", "get_caller_identity"): {},
}


class _CapturedError(Exception):
    """Raised by the before-send handler: the request boto3 would have sent."""

    def __init__(self, request: AWSPreparedRequest) -> None:
        super().__init__(request.url)
        self.request = request


def _capture(request: AWSPreparedRequest, **_: Any) -> None:
    raise _CapturedError(request)


def _client(service: str, *, key: str = "testing", token: str | None = None, signed: bool = True) -> Any:
    client = boto3.client(
        service,
        endpoint_url="http://127.0.0.1:9",
        region_name=REGION,
        aws_access_key_id=key,
        aws_secret_access_key="testing",
        aws_session_token=token,
        config=Config(retries={"max_attempts": 0}, **({} if signed else {"signature_version": UNSIGNED})),
    )
    client.meta.events.register("before-send", _capture)
    return client


def _sent(client: Any, operation: str, params: dict[str, Any]) -> AWSPreparedRequest:
    with pytest.raises(_CapturedError) as caught:
        getattr(client, operation)(**params)
    return caught.value.request


def _wire(request: AWSPreparedRequest) -> WireRequest:
    """The request as the server receives it; its body only when the parser asks for it, as the front does."""
    url = urlsplit(request.url)
    headers = {k.lower(): v.decode() if isinstance(v, bytes) else str(v) for k, v in request.headers.items()}
    wire = WireRequest(request.method, url.path or "/", url.query, headers)
    if not needs_body(wire):
        return wire
    body = request.body
    data = body.read() if hasattr(body, "read") else body.encode() if isinstance(body, str) else body or b""
    return WireRequest(wire.method, wire.path, wire.query_string, headers, bytes(data))


def _wire_operations() -> set[tuple[str, str]]:
    session = get_session()
    return {
        (service, operation)
        for service, operation in OPERATIONS
        if operation in {xform_name(name) for name in session.get_service_model(service).operation_names}
    }


def test_every_wire_operation_of_the_table_has_an_example() -> None:
    # The transfer methods (upload_file, download_file, copy) are no wire operations: the calls they make are.
    assert sorted(_wire_operations() ^ set(EXAMPLES)) == []
    assert {op for _, op in set(OPERATIONS) - _wire_operations()} == {"upload_file", "download_file", "copy"}


@pytest.mark.parametrize("call", sorted(EXAMPLES), ids="{0[0]}.{0[1]}".format)
def test_a_request_reads_back_as_its_call_and_needs_what_the_call_needs(call: tuple[str, str]) -> None:
    service, operation = call
    params = EXAMPLES[call]

    parsed = parse(_wire(_sent(_client(service), operation, params)))

    assert parsed is not None
    assert (parsed.service, parsed.operation, parsed.access_key, parsed.region) == (
        service,
        operation,
        "testing",
        REGION,
    )
    expected = required(service, operation, params, region=REGION, account=ACCOUNT)
    assert required(service, operation, parsed.params, region=REGION, account=ACCOUNT) == expected


def _signed(service: str, scope: str, **extra: Any) -> WireRequest:
    """A hand-built request signed for ``scope`` (what a client other than boto3 would send)."""
    authorization = f"AWS4-HMAC-SHA256 Credential=testing/20260101/{REGION}/{scope}/aws4_request, Signature=0"
    fields: dict[str, Any] = {"method": "POST", "path": "/", "query_string": "", "body": b""}
    headers = {"authorization": authorization, **extra.pop("headers", {})}
    return WireRequest(headers=headers, **(fields | extra))


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
    client = _client("sagemaker", key="ASIAEXAMPLESESSION01", token="session-token")

    parsed = parse(_wire(_sent(client, "describe_endpoint", {"EndpointName": "churn"})))

    assert parsed is not None
    assert parsed.access_key == "ASIAEXAMPLESESSION01"


def test_an_unsigned_request_is_not_an_api_call() -> None:
    request = _sent(_client("s3", signed=False), "get_object", OBJECT)

    assert parse(_wire(request)) is None


def test_an_unknown_target_is_named() -> None:
    request = _signed("sagemaker", "sagemaker", headers={"x-amz-target": "SageMaker.SummonModel"}, body=b"{}")

    with pytest.raises(UnknownOperationError, match=r"SageMaker\.SummonModel"):
        parse(request)


def test_a_service_the_local_cloud_does_not_read_is_named() -> None:
    with pytest.raises(UnknownOperationError, match=r"'ec2'.*add the service"):
        parse(_signed("ec2", "ec2", body=b"Action=DescribeInstances"))


@pytest.mark.parametrize(
    "key",
    ["runs/2026 01/model.tar.gz", "données/été/ü ñ 模型.csv", "a+b%20c/~x=y&z", "deep/a/b/c/d/"],
)
def test_an_s3_key_comes_back_as_given(key: str) -> None:
    parsed = parse(
        _wire(_sent(_client("s3"), "put_object", {"Bucket": "mlops-data", "Key": key, "Body": b"x"}))
    )

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

    parsed = parse(_wire(_sent(_client("s3"), "copy_object", params)))

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
    client = _client("s3")
    put = parse(_wire(_sent(client, "put_object", {**OBJECT, "Body": b"x"})))
    part = parse(_wire(_sent(client, "upload_part", {**MULTIPART, "PartNumber": 3, "Body": b"x"})))

    assert put is not None and part is not None
    assert (put.operation, part.operation) == ("put_object", "upload_part")
    assert (part.params["PartNumber"], part.params["UploadId"]) == (3, "upload-1")


def test_the_query_protocol_reads_lists_maps_and_nested_members() -> None:
    sns = parse(_wire(_sent(_client("sns"), "publish", EXAMPLES[("sns", "publish")])))
    sts = parse(_wire(_sent(_client("sts"), "get_caller_identity", {})))
    form = (
        "Action=PutMetricData&Version=2010-08-01&Namespace=MLOps%2FDrift"
        "&MetricData.member.1.MetricName=psi&MetricData.member.1.Value=0.3"
        "&MetricData.member.1.Dimensions.member.1.Name=Model&MetricData.member.1.Dimensions.member.1.Value=churn"
        "&MetricData.member.2.MetricName=rows&MetricData.member.2.Value=10"
    )
    content_type = {"content-type": "application/x-www-form-urlencoded; charset=utf-8"}
    cloudwatch = parse(_signed("cloudwatch", "monitoring", headers=content_type, body=form.encode()))

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
    request = _sent(_client("s3"), "put_object", {"Bucket": "mlops-data", "Key": key, "Body": b"x"})
    reads: list[int] = []

    wire = WireRequest.from_environ(_environ(request, raw=raw), read_body=lambda: reads.append(1) or b"x")
    parsed = parse(wire)

    assert reads == []
    assert parsed is not None
    assert (parsed.operation, parsed.params["Key"]) == ("put_object", key)


def test_from_environ_reads_a_json_body_once() -> None:
    request = _sent(_client("sagemaker"), "describe_endpoint", {"EndpointName": "churn"})
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
        _wire(_sent(_client(service), operation, EXAMPLES[(service, operation)]))
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
