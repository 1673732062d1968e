"""Functions, training jobs and models act as their roles in a local cloud that enforces IAM.

Each test creates the role it needs (trusting the service, allowed one prefix of a bucket) and checks
both sides: what the role allows works, and what it does not is denied as AWS denies it, with the
denial where AWS reports it (a function's log group, a job's or an endpoint's ``FailureReason``).
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from domain.deployment.endpoint import model_request
from localcloud import LocalCloud
from tests.iam_roles import LAMBDA_LOGS, create_role
from tests.integration.localcloud_fixtures.support import SKLEARN_IMAGE, eventually, register_model
from tests.integration.localcloud_fixtures.training_support import (
    SOURCE_KEY,
    sourcedir_archive,
    training_job_request,
)
from tests.trained_model import churn_snapshot, train_model

pytestmark = pytest.mark.slow

BUCKET = "localcloud-iam-roles"
LAMBDA = "lambda.amazonaws.com"
SAGEMAKER = "sagemaker.amazonaws.com"
# Reads the object the event names with the function's own credentials, and says what S3 answered.
READER = """
import boto3

def handler(event, context):
    try:
        body = boto3.client("s3").get_object(Bucket=event["bucket"], Key=event["key"])["Body"].read()
    except Exception as error:
        print(f"read failed: {error}")
        return {"error": str(error)}
    return {"body": body.decode()}
"""


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    cloud = LocalCloud(work_dir=tmp_path_factory.mktemp("localcloud-iam-roles"), enforce_iam=True).start()
    try:
        s3 = cloud.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="allowed/a.txt", Body=b"readable")
        s3.put_object(Bucket=BUCKET, Key="private/b.txt", Body=b"secret")
        s3.put_object(Bucket=BUCKET, Key=SOURCE_KEY, Body=sourcedir_archive())
        s3.put_object(Bucket=BUCKET, Key="data/train/part-1.csv", Body=b"age,churn\n31,0\n45,1\n")
        s3.put_object(Bucket=BUCKET, Key="models/churn/model.tar.gz", Body=b"not read: the role is denied")
        yield cloud
    finally:
        cloud.stop()


def allowed_only_role(cloud: LocalCloud, name: str, *, trusts: str) -> str:
    """A role ``trusts`` may assume, allowed to read the objects under allowed/ and nothing else (and to
    write a function's logs)."""
    read = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/allowed/*"}
    return create_role(cloud.client("iam"), name, trusts=trusts, statements=[read, LAMBDA_LOGS])


def reader_code() -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("index.py", READER)
    return archive.getvalue()


def create_reader(cloud: LocalCloud, name: str, role: str) -> None:
    cloud.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="index.handler",
        Code={"ZipFile": reader_code()},
        Timeout=30,
    )


def read_as(cloud: LocalCloud, function: str, key: str) -> dict[str, Any]:
    event = json.dumps({"bucket": BUCKET, "key": key}).encode()
    response = cloud.client("lambda").invoke(FunctionName=function, Payload=event)
    result: dict[str, Any] = json.loads(response["Payload"].read())
    return result


def log_messages(cloud: LocalCloud, group: str) -> list[str]:
    events = cloud.client("logs").filter_log_events(logGroupName=group)["events"]
    return [str(event["message"]) for event in events]


def test_a_function_reads_what_its_role_allows_and_is_denied_the_rest_in_its_logs(cloud: LocalCloud) -> None:
    # Given a function whose role may read allowed/ only
    role = allowed_only_role(cloud, "reader-role", trusts=LAMBDA)
    create_reader(cloud, "reader", role)

    # When it reads under allowed/ and under private/
    allowed = read_as(cloud, "reader", "allowed/a.txt")
    denied = read_as(cloud, "reader", "private/b.txt")

    # Then the first read works and the second is S3's AccessDenied, naming the function's role session
    assert allowed == {"body": "readable"}
    session = "arn:aws:sts::123456789012:assumed-role/reader-role/reader"
    assert "AccessDenied" in denied["error"]
    assert f"User: {session} is not authorized to perform: s3:GetObject" in denied["error"]
    assert f"arn:aws:s3:::{BUCKET}/private/b.txt" in denied["error"]
    # and the denial is in the function's log group, between its invocation's START and END
    messages = log_messages(cloud, "/aws/lambda/reader")
    (denial,) = [m for m in messages if m.startswith("[ERROR]") and "AccessDenied: " in m]
    assert f"User: {session} is not authorized to perform: s3:GetObject" in denial
    start = max(i for i, m in enumerate(messages) if m.startswith("START ") and i < messages.index(denial))
    assert any(m.startswith("END ") for m in messages[start : messages.index(denial) + 2])


def test_a_function_whose_role_does_not_trust_lambda_is_refused_at_create(cloud: LocalCloud) -> None:
    # Given a role that only SageMaker may assume
    role = create_role(cloud.client("iam"), "not-for-lambda", trusts=SAGEMAKER, statements=[])

    # When a function is created with it, then Lambda refuses it as it does on AWS
    with pytest.raises(ClientError) as refused:
        create_reader(cloud, "untrusted", role)
    error = refused.value.response["Error"]
    assert error["Code"] == "InvalidParameterValueException"
    assert error["Message"] == "The role defined for the function cannot be assumed by Lambda."
    # and so is an update of an existing function to that role
    trusted = create_role(cloud.client("iam"), "for-lambda", trusts=LAMBDA, statements=[])
    create_reader(cloud, "updated", trusted)
    with pytest.raises(ClientError) as updated:
        cloud.client("lambda").update_function_configuration(FunctionName="updated", Role=role)
    assert updated.value.response["Error"]["Code"] == "InvalidParameterValueException"


def training_role(cloud: LocalCloud, name: str, readable: str) -> str:
    """A training role that may list the bucket, read ``readable`` and the code, and write models/."""
    return create_role(
        cloud.client("iam"),
        name,
        trusts=SAGEMAKER,
        statements=[
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{BUCKET}"},
            {
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": [f"arn:aws:s3:::{BUCKET}/{readable}", f"arn:aws:s3:::{BUCKET}/{SOURCE_KEY}"],
            },
            {"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{BUCKET}/models/*"},
        ],
    )


def train(cloud: LocalCloud, name: str, role: str) -> dict[str, Any]:
    request = training_job_request(name, bucket=BUCKET, hyperparameters={"mode": "fit"}, RoleArn=role)
    cloud.client("sagemaker").create_training_job(**request)
    cloud.wait_idle(timeout=60)
    return dict(cloud.client("sagemaker").describe_training_job(TrainingJobName=name))


def test_a_training_job_runs_as_its_role_and_fails_when_it_may_not_read_its_channel(
    cloud: LocalCloud,
) -> None:
    # Given one role that may read the job's channel and one that may read another prefix only
    allowed = training_role(cloud, "training-allowed", "data/train/*")
    denied = training_role(cloud, "training-denied", "data/other/*")

    # When a job runs with each
    completed = train(cloud, "as-allowed", allowed)
    failed = train(cloud, "as-denied", denied)

    # Then the first completes (its channel read and its model written as its role)
    assert completed["TrainingJobStatus"] == "Completed", completed.get("FailureReason")
    # and the second fails as SageMaker fails it, with S3's denial of the job's role session
    assert failed["TrainingJobStatus"] == "Failed"
    reason = failed["FailureReason"]
    assert reason.startswith(
        f"ClientError: Data download failed:Unable to download object s3://{BUCKET}/data/train/part-1.csv "
        "(AccessDenied: User: arn:aws:sts::123456789012:assumed-role/training-denied/SageMaker is not "
        "authorized to perform: s3:GetObject"
    ), reason


def test_a_training_job_whose_role_does_not_trust_sagemaker_is_refused(cloud: LocalCloud) -> None:
    role = create_role(cloud.client("iam"), "training-for-lambda", trusts=LAMBDA, statements=[])

    with pytest.raises(ClientError) as refused:
        request = training_job_request("untrusted", bucket=BUCKET, hyperparameters={}, RoleArn=role)
        cloud.client("sagemaker").create_training_job(**request)

    error = refused.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert error["Message"] == (
        f"Could not assume role {role}. Please ensure that the role exists and allows principal "
        "'sagemaker.amazonaws.com' to assume the role."
    )


def create_endpoint(cloud: LocalCloud, name: str, role: str) -> dict[str, Any]:
    sagemaker = cloud.client("sagemaker")
    sagemaker.create_model(
        ModelName=name,
        ExecutionRoleArn=role,
        PrimaryContainer={"Image": SKLEARN_IMAGE, "ModelDataUrl": f"s3://{BUCKET}/models/churn/model.tar.gz"},
    )
    variant = {
        "VariantName": "v",
        "ModelName": name,
        "InstanceType": "ml.m5.large",
        "InitialInstanceCount": 1,
    }
    sagemaker.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[variant])
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)
    return dict(eventually(lambda: _settled(sagemaker.describe_endpoint(EndpointName=name)), timeout=60))


def _settled(described: dict[str, Any]) -> dict[str, Any] | None:
    return described if described["EndpointStatus"] not in ("Creating", "Updating") else None


def test_an_endpoint_fails_when_its_model_role_may_not_read_the_model_data(cloud: LocalCloud) -> None:
    # Given a model whose role may read allowed/ only
    role = allowed_only_role(cloud, "model-denied", trusts=SAGEMAKER)

    # When an endpoint serves it, then the endpoint fails as SageMaker fails it
    described = create_endpoint(cloud, "denied-model", role)

    assert described["EndpointStatus"] == "Failed"
    assert described["FailureReason"] == (
        f"Failed to download model data(bucket: {BUCKET}, key: models/churn/model.tar.gz). Please ensure "
        "that there is an object located at the URL and that the role passed to CreateModel has permissions "
        "to download the model."
    )
    (denial,) = [d for d in cloud.iam.enforcer.denials() if d.resource.endswith("models/churn/model.tar.gz")]
    assert denial.principal == "arn:aws:sts::123456789012:assumed-role/model-denied/SageMaker"


def test_a_model_whose_role_does_not_trust_sagemaker_is_refused(cloud: LocalCloud) -> None:
    role = create_role(cloud.client("iam"), "model-for-lambda", trusts=LAMBDA, statements=[])

    with pytest.raises(ClientError) as refused:
        cloud.client("sagemaker").create_model(
            ModelName="untrusted", ExecutionRoleArn=role, PrimaryContainer={"Image": SKLEARN_IMAGE}
        )

    error = refused.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert error["Message"].startswith(f"Could not assume role {role}. Please ensure that the role exists")


def test_a_capture_write_the_model_role_may_not_make_is_logged_and_never_fails_the_invocation(
    cloud: LocalCloud, tmp_path_factory: pytest.TempPathFactory, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a real model whose role may read its data but not write the capture prefix
    bucket = "localcloud-iam-models"
    (package,) = register_model(cloud, bucket, "iam-churn", train_model(tmp_path_factory.mktemp("trained")))
    read = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/models/*"}
    role = create_role(cloud.client("iam"), "model-no-capture", trusts=SAGEMAKER, statements=[read])
    sagemaker = cloud.client("sagemaker")
    sagemaker.create_model(**model_request("captured", package, role, {}, isolated=True))
    variant = {
        "VariantName": "v",
        "ModelName": "captured",
        "InstanceType": "ml.m5.large",
        "InitialInstanceCount": 1,
    }
    capture = {
        "EnableCapture": True,
        "InitialSamplingPercentage": 100,
        "DestinationS3Uri": f"s3://{bucket}/capture",
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
    }
    sagemaker.create_endpoint_config(
        EndpointConfigName="captured", ProductionVariants=[variant], DataCaptureConfig=capture
    )
    sagemaker.create_endpoint(EndpointName="captured", EndpointConfigName="captured")
    described = eventually(lambda: _settled(sagemaker.describe_endpoint(EndpointName="captured")), timeout=60)
    assert described["EndpointStatus"] == "InService", described.get("FailureReason")

    # When it is invoked
    rows = json.dumps(churn_snapshot(150, seed=5).slice(0, 2).to_pylist(), default=str).encode()
    answer = cloud.client("sagemaker-runtime").invoke_endpoint(
        EndpointName="captured", Body=rows, ContentType="application/json", Accept="application/json"
    )
    cloud.wait_idle(timeout=30)

    # Then it answered, the capture was refused (logged, nothing written) as the model's role session
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert "Contents" not in cloud.client("s3").list_objects_v2(Bucket=bucket, Prefix="capture/")
    (refusal,) = [
        r.getMessage() for r in caplog.records if "data capture of endpoint captured" in r.getMessage()
    ]
    assert "assumed-role/model-no-capture/SageMaker is not authorized to perform: s3:PutObject" in refusal
