"""The local cloud refuses endpoint and training requests as SageMaker refuses them, where moto accepts them.

An isolated model on a serverless variant, a volume KMS key on an instance type with local storage, an
operation the endpoint's status does not allow (a Failed endpoint accepts only DeleteEndpoint, and keeps
its name until it is gone), a DeploymentConfig SageMaker refuses, and the account's quotas of endpoint
instances (a blue/green update holds both fleets) and of serverless concurrency.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from domain.deployment.endpoint import VARIANT, model_request
from localcloud import LocalCloud
from localcloud.sagemaker.endpoints.quotas import EndpointQuotas
from tests.integration.localcloud_fixtures.support import (
    SKLEARN_IMAGE,
    create_sagemaker_roles,
    refusal,
    register_model,
)
from tests.trained_model import train_model

pytestmark = pytest.mark.slow

BUCKET = "localcloud-endpoint-rules"
ROLE = "arn:aws:iam::123456789012:role/model"
KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
QUOTAS = EndpointQuotas(instance_types={"ml.m5.large": 3}, serverless_concurrency=8)


@dataclass(frozen=True)
class Account:
    cloud: LocalCloud
    package: str

    @property
    def sagemaker(self) -> Any:
        return self.cloud.client("sagemaker")

    def model(self, name: str, *, isolated: bool = True, data: str = "models/churn/model.tar.gz") -> str:
        request = model_request(name, self.package, ROLE, {}, isolated=isolated)
        if data != "models/churn/model.tar.gz":
            request["Containers"][0]["ModelDataUrl"] = f"s3://{BUCKET}/{data}"
        self.sagemaker.create_model(**request)
        return name

    def config(self, name: str, model: str, *, count: int = 1, concurrency: int | None = None) -> str:
        capacity: dict[str, Any] = (
            {"ServerlessConfig": {"MemorySizeInMB": 1024, "MaxConcurrency": concurrency}}
            if concurrency
            else {"InstanceType": "ml.m5.large", "InitialInstanceCount": count}
        )
        self.sagemaker.create_endpoint_config(
            EndpointConfigName=name,
            ProductionVariants=[{"VariantName": VARIANT, "ModelName": model, **capacity}],
        )
        return name

    def status(self, endpoint: str) -> str:
        return str(self.sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointStatus"])


@pytest.fixture(scope="module")
def account(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Account]:
    model_dir = train_model(tmp_path_factory.mktemp("trained"), rows=600)
    cloud = LocalCloud(work_dir=tmp_path_factory.mktemp("localcloud-rules"), endpoint_quotas=QUOTAS).start()
    create_sagemaker_roles(cloud)
    try:
        (package,) = register_model(cloud, BUCKET, "rules", model_dir)
        yield Account(cloud, package)
    finally:
        cloud.stop()


def _refused(call: Any, **request: Any) -> dict[str, str]:
    _, code, message = refusal(lambda: call(**request))
    return {"Code": code, "Message": message}


def test_a_serverless_variant_of_an_isolated_model_is_refused_and_one_without_isolation_serves(
    account: Account,
) -> None:
    isolated = account.model("serverless-isolated")

    error = _refused(
        account.sagemaker.create_endpoint_config,
        EndpointConfigName="serverless-isolated-config",
        ProductionVariants=[
            {
                "VariantName": VARIANT,
                "ModelName": isolated,
                "ServerlessConfig": {"MemorySizeInMB": 1024, "MaxConcurrency": 1},
            }
        ],
    )

    assert error["Code"] == "ValidationException"
    assert "Network isolation is not supported for serverless endpoints" in error["Message"]
    config = account.config(
        "serverless-open-config", account.model("serverless-open", isolated=False), concurrency=1
    )
    account.sagemaker.create_endpoint(EndpointName="serverless-open", EndpointConfigName=config)
    account.cloud.wait_idle(timeout=60)
    assert account.status("serverless-open") == "InService"
    account.sagemaker.delete_endpoint(EndpointName="serverless-open")
    account.cloud.wait_idle(timeout=60)


@pytest.mark.parametrize("instance_type", ["ml.g4dn.xlarge", "ml.m5d.large", "ml.p4d.24xlarge"])
def test_a_volume_key_with_an_instance_type_that_has_local_storage_is_refused(
    account: Account, instance_type: str
) -> None:
    model = account.model(f"local-storage-{instance_type.replace('.', '-')}")

    endpoint_config = _refused(
        account.sagemaker.create_endpoint_config,
        EndpointConfigName=f"{model}-config",
        KmsKeyId=KMS_KEY,
        ProductionVariants=[
            {
                "VariantName": VARIANT,
                "ModelName": model,
                "InstanceType": instance_type,
                "InitialInstanceCount": 1,
            }
        ],
    )
    training_job = _refused(
        account.sagemaker.create_training_job,
        TrainingJobName=f"{model}-job",
        AlgorithmSpecification={"TrainingImage": SKLEARN_IMAGE, "TrainingInputMode": "File"},
        RoleArn=ROLE,
        OutputDataConfig={"S3OutputPath": f"s3://{BUCKET}/out/"},
        ResourceConfig={
            "InstanceType": instance_type,
            "InstanceCount": 1,
            "VolumeSizeInGB": 30,
            "VolumeKmsKeyId": KMS_KEY,
        },
        StoppingCondition={"MaxRuntimeInSeconds": 60},
    )

    for error, key in ((endpoint_config, "KmsKeyId"), (training_job, "VolumeKmsKeyId")):
        assert error["Code"] == "ValidationException"
        assert f"{key} is not supported with instance type" in error["Message"]
        assert instance_type in error["Message"]
    assert account.sagemaker.list_training_jobs(NameContains=model)["TrainingJobSummaries"] == []


def test_a_failed_endpoint_accepts_only_deletion_and_keeps_its_name_until_it_is_gone(
    account: Account,
) -> None:
    # Given an endpoint that failed (its model's data is missing)
    broken = account.config("failing-config", account.model("failing", data="models/nothing/model.tar.gz"))
    good = account.config("failing-v2-config", account.model("failing-v2"))
    account.sagemaker.create_endpoint(EndpointName="failing", EndpointConfigName=broken)
    arn = account.sagemaker.describe_endpoint(EndpointName="failing")["EndpointArn"]
    account.cloud.wait_idle(timeout=60)
    assert account.status("failing") == "Failed"

    # When it is updated, rescaled, deleted and created again at once
    update = _refused(account.sagemaker.update_endpoint, EndpointName="failing", EndpointConfigName=good)
    rescale = _refused(
        account.sagemaker.update_endpoint_weights_and_capacities,
        EndpointName="failing",
        DesiredWeightsAndCapacities=[{"VariantName": VARIANT, "DesiredWeight": 1.0}],
    )
    account.sagemaker.delete_endpoint(EndpointName="failing")
    deleting = account.status("failing")
    recreate = _refused(account.sagemaker.create_endpoint, EndpointName="failing", EndpointConfigName=good)

    # Then only the deletion is accepted, and the name is reused once the endpoint is gone
    assert update["Message"] == (
        f'Cannot update endpoint "{arn}" in status Failed: DeleteEndpoint is the only operation a failed '
        "endpoint accepts."
    )
    assert "Cannot update weights and capacities of endpoint" in rescale["Message"]
    assert deleting == "Deleting"
    assert recreate["Message"] == f'Cannot create already existing endpoint "{arn}".'
    account.cloud.wait_idle(timeout=60)
    account.sagemaker.create_endpoint(EndpointName="failing", EndpointConfigName=good)
    account.cloud.wait_idle(timeout=60)
    assert account.status("failing") == "InService"
    account.sagemaker.delete_endpoint(EndpointName="failing")
    account.cloud.wait_idle(timeout=60)


def test_an_update_sagemaker_refuses_changes_nothing(account: Account) -> None:
    config = account.config("refusing-config", account.model("refusing"))
    arn = account.sagemaker.create_endpoint(EndpointName="refusing", EndpointConfigName=config)["EndpointArn"]
    creating = _refused(account.sagemaker.delete_endpoint, EndpointName="refusing")  # its server is starting
    assert creating["Message"] == f'Cannot delete in-progress endpoint "{arn}".'
    account.cloud.wait_idle(timeout=60)
    canary = {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {
                "Type": "CANARY",
                "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 10},
                "WaitIntervalInSeconds": 60,
            },
            "TerminationWaitInSeconds": 600,
        }
    }

    error = _refused(
        account.sagemaker.update_endpoint,
        EndpointName="refusing",
        EndpointConfigName=account.config("refusing-v2-config", account.model("refusing-v2")),
        DeploymentConfig=canary,
    )

    assert error["Code"] == "ValidationException"
    assert (
        "CanarySize (1 instance(s)) must be less than or equal to 50% of the variant's total"
        in error["Message"]
    )
    described = account.sagemaker.describe_endpoint(EndpointName="refusing")
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == ("InService", config)
    account.sagemaker.delete_endpoint(EndpointName="refusing")
    account.cloud.wait_idle(timeout=60)


def test_endpoint_instances_and_serverless_concurrency_are_held_to_the_account_s_quotas(
    account: Account,
) -> None:
    # Given a quota of 3 ml.m5.large for endpoint usage, and an endpoint holding 2 of them
    account.cloud.wait_idle(timeout=60)
    pair = account.config("pair-config", account.model("pair"), count=2)
    account.sagemaker.create_endpoint(EndpointName="pair", EndpointConfigName=pair)
    account.cloud.wait_idle(timeout=60)

    # When another endpoint of 2 is created, and the first is updated blue/green to 2 new instances
    second = _refused(account.sagemaker.create_endpoint, EndpointName="pair-2", EndpointConfigName=pair)
    update = _refused(
        account.sagemaker.update_endpoint,
        EndpointName="pair",
        EndpointConfigName=account.config("pair-v2-config", account.model("pair-v2"), count=2),
    )
    # and serverless endpoints ask for more than the account's concurrency of 8 together
    account.sagemaker.create_endpoint(
        EndpointName="busy-1",
        EndpointConfigName=account.config(
            "busy-config", account.model("busy", isolated=False), concurrency=5
        ),
    )
    serverless = _refused(
        account.sagemaker.create_endpoint, EndpointName="busy-2", EndpointConfigName="busy-config"
    )

    # Then each is ResourceLimitExceeded, as SageMaker answers, and nothing was created or changed
    assert second == {
        "Code": "ResourceLimitExceeded",
        "Message": "The account-level service limit 'ml.m5.large for endpoint usage' is 3 Instances, with "
        "current utilization of 2 Instances and a request delta of 2 Instances. Please use AWS Service "
        "Quotas to request an increase for this quota. If AWS Service Quotas is not available, contact AWS "
        "support to request an increase for this quota.",
    }
    assert update["Code"] == "ResourceLimitExceeded"
    assert "current utilization of 2 Instances and a request delta of 2 Instances" in update["Message"]
    assert serverless["Code"] == "ResourceLimitExceeded"
    assert (
        "'Total concurrency across all serverless endpoints' is 8, with current utilization of 5"
        in (serverless["Message"])
    )
    names = {e["EndpointName"] for e in account.sagemaker.list_endpoints()["Endpoints"]}
    assert "pair-2" not in names and "busy-2" not in names
    assert account.sagemaker.describe_endpoint(EndpointName="pair")["EndpointConfigName"] == pair
    # and an update that fits (one instance) goes through, holding both fleets while it runs
    account.sagemaker.update_endpoint(
        EndpointName="pair", EndpointConfigName=account.config("pair-v3-config", account.model("pair-v3"))
    )
    account.cloud.wait_idle(timeout=60)
    assert account.sagemaker.describe_endpoint(EndpointName="pair")["EndpointConfigName"] == "pair-v3-config"


def test_the_adapter_reports_sagemaker_s_answer_and_deletes_until_the_endpoint_is_gone(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    from adapters.aws import client
    from adapters.endpoints import EndpointError, SageMakerEndpoints

    for name, value in account.cloud.env().items():
        monkeypatch.setenv(name, value)
    client.cache_clear()
    endpoints = SageMakerEndpoints()
    isolated = account.model("adapter-isolated")
    broken = account.config("adapter-config", account.model("adapter", data="models/nothing/model.tar.gz"))

    with pytest.raises(EndpointError) as raised:
        endpoints.ensure_endpoint_config(
            {
                "EndpointConfigName": "adapter-serverless",
                "ProductionVariants": [
                    {
                        "VariantName": VARIANT,
                        "ModelName": isolated,
                        "ServerlessConfig": {"MemorySizeInMB": 1024, "MaxConcurrency": 1},
                    }
                ],
            }
        )
    assert str(raised.value).startswith(
        "cannot create endpoint configuration adapter-serverless: ValidationException: Network isolation"
    )
    assert endpoints.deploy("adapter", broken, None) == "created"
    account.cloud.wait_idle(timeout=60)
    assert (endpoints.describe("adapter") or {}).get("EndpointStatus") == "Failed"
    endpoints.delete("adapter")
    assert (endpoints.describe("adapter") or {}).get("EndpointStatus") == "Deleting"
    account.cloud.wait_idle(timeout=60)
    assert endpoints.describe("adapter") is None
    endpoints.delete("adapter")  # a retried step: already gone
    client.cache_clear()
