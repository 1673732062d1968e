"""A network-isolated model's server reaches nothing, and still serves; a model without isolation reaches out.

SageMaker runs the container of a model created with ``EnableNetworkIsolation`` without network: no S3,
no AWS API, nothing. Locally its model server runs under the network guard, which refuses its code's
connections and DNS lookups while the server keeps listening on loopback for the endpoint's requests.
Each endpoint here serves inference code that, on every request, opens a connection to the address in
the request (the local cloud's own port).
"""

from __future__ import annotations

import io
import json
import tarfile
import textwrap
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from domain.deployment.endpoint import VARIANT
from localcloud import LocalCloud
from tests.integration.localcloud_fixtures.support import create_sagemaker_roles
from tests.integration.localcloud_fixtures.training_support import TRAINING_IMAGE

pytestmark = pytest.mark.slow

BUCKET = "localcloud-model-isolation"
ROLE = "arn:aws:iam::123456789012:role/model"
AWS_HOST = "s3.us-east-1.amazonaws.com"

INFERENCE = """
import json
import os
import socket


def model_fn(model_dir):
    return "reacher"


def transform_fn(model, body, content_type, accept):
    request = json.loads(body)
    seen = {"endpoint_url": os.environ.get("AWS_ENDPOINT_URL")}
    try:
        socket.create_connection((request["host"], request["port"]), timeout=5).close()
        seen["connect"] = None
    except OSError as error:
        seen["connect"] = str(error)
    if request.get("lookup"):
        try:
            socket.getaddrinfo(request["lookup"], 443)
            seen["lookup"] = None
        except OSError as error:
            seen["lookup"] = str(error)
    return json.dumps(seen), "application/json"
"""


def _model_archive() -> bytes:
    """A model.tar.gz whose code (code/inference.py) is all the model there is."""
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        data = textwrap.dedent(INFERENCE).encode("utf-8")
        member = tarfile.TarInfo("code/inference.py")
        member.size = len(data)
        tar.addfile(member, io.BytesIO(data))
    return archive.getvalue()


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    started = LocalCloud(work_dir=tmp_path_factory.mktemp("localcloud-model-isolation")).start()
    create_sagemaker_roles(started)
    try:
        started.client("s3").create_bucket(Bucket=BUCKET)
        started.client("s3").put_object(Bucket=BUCKET, Key="reacher/model.tar.gz", Body=_model_archive())
        for name, isolated in (("isolated", True), ("open", False)):
            _serve(started, name, isolated=isolated)
        started.wait_idle(timeout=120)
        yield started
    finally:
        started.stop()


def _serve(cloud: LocalCloud, name: str, *, isolated: bool) -> None:
    """An endpoint of one instance serving the model, created as the deployment workflow creates one."""
    sagemaker = cloud.client("sagemaker")
    sagemaker.create_model(
        ModelName=name,
        ExecutionRoleArn=ROLE,
        EnableNetworkIsolation=isolated,
        PrimaryContainer={
            "Image": TRAINING_IMAGE,  # the scikit-learn framework image serves models too
            "ModelDataUrl": f"s3://{BUCKET}/reacher/model.tar.gz",
            "Environment": {
                "SAGEMAKER_PROGRAM": "inference.py",
                "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",
            },
        },
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName=f"{name}-config",
        ProductionVariants=[
            {
                "VariantName": VARIANT,
                "ModelName": name,
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 1,
            }
        ],
    )
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-config")


def _invoke(cloud: LocalCloud, endpoint: str, lookup: str | None = None) -> dict[str, Any]:
    """What the endpoint's code saw trying to reach the local cloud's port (and to look up ``lookup``)."""
    assert cloud.client("sagemaker").describe_endpoint(EndpointName=endpoint)["EndpointStatus"] == "InService"
    address = urlsplit(cloud.endpoint_url)
    request = {"host": address.hostname, "port": address.port, "lookup": lookup}
    response = cloud.client("sagemaker-runtime").invoke_endpoint(
        EndpointName=endpoint, Body=json.dumps(request).encode(), ContentType="application/json"
    )
    return dict(json.loads(response["Body"].read()))


def test_an_isolated_models_code_reaches_nothing_while_its_endpoint_answers(cloud: LocalCloud) -> None:
    # Given an endpoint of a model created with EnableNetworkIsolation (as the platform creates them)
    # When a request makes its code connect to the local cloud's port and look up an AWS host name
    seen = _invoke(cloud, "isolated", lookup=AWS_HOST)

    # Then the endpoint answered, and from inside its container the connection failed as in an isolated
    # container: no network; the name was not even looked up; nothing pointed it at the local cloud
    assert "Network is unreachable" in str(seen["connect"])
    assert "Temporary failure in name resolution" in str(seen["lookup"])
    assert seen["endpoint_url"] is None


def test_a_model_without_isolation_reaches_the_local_cloud(cloud: LocalCloud) -> None:
    # Given an endpoint of the same model created without network isolation
    # When a request makes its code connect to the local cloud's port
    seen = _invoke(cloud, "open")

    # Then it got through, and the local cloud's endpoint is in its environment
    assert seen["connect"] is None
    assert seen["endpoint_url"] == cloud.endpoint_url
