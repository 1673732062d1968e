"""The serving API (API Gateway → ``lambdas/serving_api`` → a serverless endpoint) in the local cloud.

The platform's own app is synthesized with churn served serverless and a tiny throttle (1 request per
second, bursts of 2), deployed, and given an endpoint ``mlops-churn`` on a real trained model, as the
deployment workflow would create it. An app then calls the stage URL as it would on AWS: SigV4-signed
for ``execute-api`` with the local cloud's credentials.
"""

from __future__ import annotations

import copy
import io
import json
import tarfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import pyarrow as pa
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from domain.deployment.endpoint import VARIANT, endpoint_config_request, model_request
from domain.deployment.serving_config import ServingConfig
from domain.names import endpoint_config_name
from domain.training.registration import INFERENCE_ENVIRONMENT
from examples.churn import request_csv
from localcloud import LocalCloud, merge_outputs
from stacks.app import build_app, cdk_json_context
from tests.iam_roles import create_role
from tests.trained_model import churn_snapshot, train_model
from training.mlops_training.contract_io import Signature, feature_matrix

# moto warns on every read of a stack holding types it skips (the local cloud applies them after it),
# and pytest's per-test warning capture undoes the local cloud's filter.
pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:Tried to parse:UserWarning")]

ENDPOINT = "mlops-churn"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
SERVING = {
    "mode": "serverless",
    "serverless": {"memory_mb": 2048, "max_concurrency": 5},
    "capture_api": {"rate_per_second": 1, "burst": 2},
}


@dataclass(frozen=True)
class ServingApi:
    """The deployed platform with an endpoint in service, and the local URL of churn's invocations."""

    cloud: LocalCloud
    outputs: dict[str, str]
    url: str
    model_dir: Path

    def resource(self, resource_type: str, logical_prefix: str) -> str:
        """The physical id of a resource of that type, in any stack of the app, its logical id so prefixed."""
        cloudformation = self.cloud.client("cloudformation")
        return next(
            str(r["PhysicalResourceId"])
            for stack in self.cloud.deployed_stacks
            for r in cloudformation.list_stack_resources(StackName=stack)["StackResourceSummaries"]
            if r["ResourceType"] == resource_type and r["LogicalResourceId"].startswith(logical_prefix)
        )

    def post(
        self, body: bytes, *, secret: str | None = "testing", url: str | None = None
    ) -> requests.Response:
        """POST ``body`` as CSV, signed with the local cloud's key (and ``secret``), or unsigned (None)."""
        target = url or self.url
        headers = {"Content-Type": "text/csv", "Accept": "application/json"}
        if secret is not None:
            request = AWSRequest(method="POST", url=target, data=body, headers=headers)
            SigV4Auth(Credentials("testing", secret), "execute-api", self.cloud.region).add_auth(request)
            headers = dict(request.headers)
        return requests.post(target, data=body, headers=headers, timeout=60)

    def post_patiently(self, body: bytes) -> requests.Response:
        """``post``, waiting out the throttle as a well-behaved client does (429: retry a second later)."""
        for _ in range(5):
            response = self.post(body)
            if response.status_code != 429:
                return response
            time.sleep(1.0)
        return response


@pytest.fixture(scope="module")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    context = copy.deepcopy(cdk_json_context())
    context["mlops"]["datasets"]["churn"]["serving"] = SERVING
    outdir = tmp_path_factory.mktemp("serving-api.out")
    build_app(context, outdir=str(outdir)).synth()
    return outdir


@pytest.fixture(scope="module")  # moto's state is per process: one local cloud at a time
def api(assembly: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServingApi]:
    model_dir = train_model(tmp_path_factory.mktemp("trained"), rows=500)  # what is served, not how well
    with LocalCloud(work_dir=tmp_path_factory.mktemp("localcloud-api")) as cloud:
        outputs = merge_outputs(cloud.deploy(assembly))
        _serve(cloud, outputs["DataBucketName"], model_dir)
        cloud.wait_idle(timeout=60)
        url = cloud.local_url(outputs["ServingApiUrl"]) + "churn/invocations"
        yield ServingApi(cloud, outputs, url, model_dir)


def _serve(cloud: LocalCloud, bucket: str, model_dir: Path) -> None:
    """A model package of the trained model, and the serverless endpoint the deployment makes of it."""
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        for path in sorted(model_dir.rglob("*")):
            tar.add(path, arcname=path.relative_to(model_dir).as_posix(), recursive=False)
    cloud.client("s3").put_object(Bucket=bucket, Key="models/churn/model.tar.gz", Body=archive.getvalue())
    sagemaker = cloud.client("sagemaker")
    sagemaker.create_model_package_group(ModelPackageGroupName=ENDPOINT)
    package = sagemaker.create_model_package(
        ModelPackageGroupName=ENDPOINT,
        # Not approved: an approval would start the platform's deployment workflow (not tested here).
        ModelApprovalStatus="PendingManualApproval",
        InferenceSpecification={
            "Containers": [
                {
                    "Image": IMAGE,
                    "ModelDataUrl": f"s3://{bucket}/models/churn/model.tar.gz",
                    "Environment": dict(INFERENCE_ENVIRONMENT),
                }
            ],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["application/json"],
        },
    )["ModelPackageArn"]
    serving = ServingConfig.model_validate(SERVING)
    isolated = serving.mode == "realtime"  # as the deployment workflow creates it
    # The model's role reads its artifact, as the deployment workflow's model role does.
    role = create_role(
        cloud.client("iam"),
        "model",
        trusts="sagemaker.amazonaws.com",
        statements=[
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/models/*"},
            {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"},
        ],
    )
    sagemaker.create_model(**model_request(f"{ENDPOINT}-v1", package, role, {}, isolated=isolated))
    # named as the deployment names version 1's configuration, which the serving function reads back
    config = endpoint_config_request(
        endpoint_config_name(ENDPOINT, 1, "api-gateway-test"), f"{ENDPOINT}-v1", serving, kms_key="",
        capture_uri="",
    )  # fmt: skip
    sagemaker.create_endpoint_config(**config)
    sagemaker.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName=config["EndpointConfigName"])


@pytest.fixture(scope="module")
def rows() -> pa.Table:
    return churn_snapshot(150, seed=5).slice(0, 5)


def _predicted(model_dir: Path, rows: pa.Table) -> list[Any]:
    pipeline = joblib.load(model_dir / "model.joblib")
    signature = Signature.from_dict(json.loads((model_dir / "model_signature.json").read_text()))
    return list(pipeline.predict(feature_matrix(rows, signature.features)).tolist())


def test_the_stage_is_deployed_as_the_template_says(api: ServingApi) -> None:
    # Given the deployed stack, whose URL output CloudFormation renders with the stage's name
    apigateway = api.cloud.client("apigateway")
    api_id = api.outputs["ServingApiUrl"].removeprefix("https://").split(".")[0]
    assert api.outputs["ServingApiUrl"] == f"https://{api_id}.execute-api.us-east-1.amazonaws.com/v1/"

    # When a client reads the API
    stage = apigateway.get_stage(restApiId=api_id, stageName="v1")
    resources = apigateway.get_resources(restApiId=api_id)["items"]
    (invocations,) = [r for r in resources if r["path"] == "/churn/invocations"]
    method = invocations["resourceMethods"]["POST"]

    # Then the stage throttles churn's invocations as configured, and the method is IAM-authorized and
    # integrated with the serving function
    limits = stage["methodSettings"]["~1churn~1invocations/POST"]
    assert (limits["throttlingRateLimit"], limits["throttlingBurstLimit"]) == (1.0, 2)
    assert stage["tracingEnabled"] is True and stage["accessLogSettings"]["destinationArn"]
    assert method["authorizationType"] == "AWS_IAM"
    assert method["methodIntegration"]["type"] == "AWS_PROXY"
    assert "ServingApiFunction" in method["methodIntegration"]["uri"]
    assert method["requestValidatorId"]
    assert api.url == f"{api.cloud.endpoint_url}/restapis/{api_id}/v1/_user_request_/churn/invocations"


def test_a_signed_request_is_answered_by_the_model_and_captured(api: ServingApi, rows: pa.Table) -> None:
    # Given an app holding the local cloud's credentials
    body = request_csv(rows)

    # When it posts rows to churn's invocations, signed for execute-api
    response = api.post_patiently(body)
    api.cloud.wait_idle(timeout=30)

    # Then the serverless endpoint's model answers, through the serving function
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["x-amzn-RequestId"]
    predictions = response.json()["predictions"]
    assert [p["prediction"] for p in predictions] == _predicted(api.model_dir, rows)
    # and the request with its answer is captured where the drift monitor reads real-time captures,
    # under the version the endpoint runs
    bucket = api.outputs["DataBucketName"]
    listed = api.cloud.client("s3").list_objects_v2(
        Bucket=bucket, Prefix=f"capture/churn/v1/{ENDPOINT}/{VARIANT}/"
    )
    records = [
        json.loads(line)
        for item in listed["Contents"]
        for line in api.cloud.client("s3").get_object(Bucket=bucket, Key=item["Key"])["Body"].iter_lines()
    ]
    assert any(r["captureData"]["endpointInput"]["data"] == body.decode() for r in records)
    assert any(json.loads(r["captureData"]["endpointOutput"]["data"]) == response.json() for r in records)


def test_the_function_receives_api_gateway_s_proxy_event_with_the_caller(
    api: ServingApi, rows: pa.Table
) -> None:
    # Given the serving function set to log the events it receives (Powertools' POWERTOOLS_LOGGER_LOG_EVENT)
    lambda_ = api.cloud.client("lambda")
    name = api.resource("AWS::Lambda::Function", "ServingApiFunction")
    configuration = lambda_.get_function_configuration(FunctionName=name)
    variables = configuration["Environment"]["Variables"] | {"POWERTOOLS_LOGGER_LOG_EVENT": "true"}
    lambda_.update_function_configuration(FunctionName=name, Environment={"Variables": variables})

    # When a signed request is served
    body = request_csv(rows)
    assert api.post_patiently(body).status_code == 200
    api.cloud.wait_idle(timeout=30)

    # Then the function received a REST proxy event (format 1.0) naming the authenticated caller
    group = api.resource("AWS::Logs::LogGroup", "ServingApiFunction")
    (event,) = [m["message"] for m in _log_records(api.cloud, group) if isinstance(m.get("message"), dict)]
    api_id = api.url.split("/restapis/")[1].split("/")[0]
    assert (event["resource"], event["path"], event["httpMethod"]) == (
        "/churn/invocations",
        "/churn/invocations",
        "POST",
    )
    assert event["headers"]["Content-Type"] == "text/csv"
    assert event["multiValueHeaders"]["Content-Type"] == ["text/csv"]
    assert (event["body"], event["isBase64Encoded"]) == (body.decode(), False)
    assert event["queryStringParameters"] is None and event["pathParameters"] is None
    context = event["requestContext"]
    assert (context["apiId"], context["stage"], context["accountId"]) == (api_id, "v1", "123456789012")
    assert (context["resourcePath"], context["httpMethod"], context["path"]) == (
        "/churn/invocations",
        "POST",
        "/v1/churn/invocations",
    )
    identity = context["identity"]
    assert identity["userArn"] == "arn:aws:sts::123456789012:user/moto"
    assert (identity["accessKey"], identity["sourceIp"]) == ("testing", "127.0.0.1")


def _log_records(cloud: LocalCloud, group: str) -> list[dict[str, Any]]:
    """The JSON lines a function logged to ``group`` (Powertools' structured logs)."""
    logs = cloud.client("logs")
    streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    messages = [
        event["message"]
        for stream in streams
        for event in logs.get_log_events(logGroupName=group, logStreamName=stream["logStreamName"])["events"]
    ]
    return [json.loads(m) for m in messages if m.startswith("{")]


def test_a_body_that_is_not_utf8_is_refused_by_the_model_with_where_and_how_to_fix_it(
    api: ServingApi, rows: pa.Table
) -> None:
    # Given rows saved as Latin-1: API Gateway reads text/csv (not a binary media type of the API) as
    # UTF-8 text, with U+FFFD for what is not
    header, line = request_csv(rows.slice(0, 1)).split(b"\n", 1)
    body = header + b"\n\xe9" + line

    # When an app posts them
    response = api.post_patiently(body)

    # Then the model's 400 comes back through the serving function, saying where and what to send instead
    assert response.status_code == 400, response.text
    message = response.json()["message"]
    assert message.startswith("the request is not UTF-8 text: line 2, column 1 is U+FFFD")
    assert message.endswith(
        "send CSV or JSON encoded as UTF-8 (re-encode a file saved as Latin-1 or Windows-1252)"
    )


def test_an_unsigned_request_is_missing_its_authentication_token(api: ServingApi, rows: pa.Table) -> None:
    response = api.post(request_csv(rows), secret=None)

    assert response.status_code == 403
    assert response.json() == {"message": "Missing Authentication Token"}
    assert response.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"


def test_a_request_signed_with_the_wrong_secret_is_refused(api: ServingApi, rows: pa.Table) -> None:
    before = len(api.cloud.invocations())

    response = api.post(request_csv(rows), secret="not-the-secret")

    assert response.status_code == 403
    assert response.json()["message"].startswith("The request signature we calculated does not match")
    assert response.headers["x-amzn-ErrorType"] == "InvalidSignatureException"
    assert len(api.cloud.invocations()) == before  # the function never ran


def test_a_path_or_method_the_api_does_not_have_is_missing_its_authentication_token(
    api: ServingApi, rows: pa.Table
) -> None:
    unknown_path = api.post(request_csv(rows), url=api.url.replace("/churn/", "/nope/"))
    unknown_method = requests.get(api.url, timeout=10)

    for response in (unknown_path, unknown_method):
        assert response.status_code == 403
        assert response.json() == {"message": "Missing Authentication Token"}


def test_a_function_that_fails_is_an_internal_server_error(api: ServingApi, rows: pa.Table) -> None:
    # Given the serving function deployed without its settings (it raises before answering)
    lambda_ = api.cloud.client("lambda")
    name = api.resource("AWS::Lambda::Function", "ServingApiFunction")
    variables = lambda_.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
    broken = {k: v for k, v in variables.items() if k != "DATA_BUCKET"}
    lambda_.update_function_configuration(FunctionName=name, Environment={"Variables": broken})
    try:
        # When a signed request reaches it
        response = api.post_patiently(request_csv(rows))
    finally:
        lambda_.update_function_configuration(FunctionName=name, Environment={"Variables": variables})

    # Then API Gateway answers 502, and the invocation is recorded as failed
    assert response.status_code == 502
    assert response.json() == {"message": "Internal server error"}
    assert not api.cloud.invocations(name)[-1].succeeded


def test_a_burst_beyond_the_limit_is_throttled_then_served_again(api: ServingApi, rows: pa.Table) -> None:
    # Given a stage allowing 1 request per second, in bursts of 2
    body = request_csv(rows)

    # When an app sends 6 requests in a row, then one more a second later
    burst = [api.post(body) for _ in range(6)]
    time.sleep(1.1)
    later = api.post(body)

    # Then the requests beyond the burst are throttled as API Gateway throttles, and the bucket refills
    statuses = [response.status_code for response in burst]
    assert statuses.count(429) >= 3 and set(statuses) <= {200, 429}, statuses
    assert all(r.json() == {"message": "Too Many Requests"} for r in burst if r.status_code == 429)
    assert later.status_code == 200
