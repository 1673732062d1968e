"""Least privilege, proven per role: each role of the deployed platform does its job and nothing next to it.

Every call is made as the role, through the enforcing local cloud, with the credentials the service that
uses the role gets (Lambda for a function, SageMaker for a training job or a model, Step Functions for a
state machine). The platform deployed here serves churn through the serving API and has a second dataset,
retention, that the API does not serve. (The file is not named test_least_privilege.py: tests/infra has
a module of that name, and pytest imports both by their base name.)
"""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from examples.churn import generate
from tests.conftest import CloudAssembly
from tests.e2e.conftest import QUICK_DEPLOYMENTS, DataPlane, deployed_platform
from tests.e2e.role_calls import (
    DENIAL_CODES,
    SAGEMAKER,
    Call,
    Deployed,
    RoleCase,
    attempt,
    by_arn,
    denial_message,
    describe_endpoint,
    describe_execution,
    get,
    invoke,
    invoke_endpoint,
    listing,
    put,
    query,
    role_key,
    start,
)

pytestmark = pytest.mark.slow

UPLOAD = "incoming/churn/seed.csv"
SPLIT = "datasets/churn/v-least-privilege/splits/train.csv"
RUN_CONFIG = "runs/churn-least-privilege/config/run.json"
MODEL = "runs/churn-least-privilege/training/model.tar.gz"
CAPTURE = "capture/churn/v1/mlops-churn/AllTraffic/2026/12/06/17/00-00-000-least-privilege.jsonl"
BASELINE = "runs/churn/churn-least-privilege/evaluation/drift_baseline.json"
FEEDBACK = "feedback/churn/labels.csv"
IMPORTED = "imports/churn/" + "5a" * 32 + ".skops"  # where `mlops models import` puts a model's file
# written by the administrator before the roles read them
SEEDED = (UPLOAD, SPLIT, RUN_CONFIG, MODEL, CAPTURE, BASELINE, FEEDBACK, IMPORTED)


PUBLISH_ALERT = Call(
    "sns",
    "publish",
    {"TopicArn": "{alertsTopicArn}", "Message": "least-privilege probe"},
    "sns:Publish",
    "{alertsTopicArn}",
)
PUT_EVENT = Call(
    "events",
    "put_events",
    {
        "Entries": [
            {
                "Source": "mlops.probe",
                "DetailType": "probe",
                "Detail": "{{}}",
                "EventBusName": "{eventBusName}",
            }
        ]
    },
    "events:PutEvents",
    "arn:aws:events:{region}:{account}:event-bus/{eventBusName}",
)
APPROVE = Call(
    "sagemaker",
    "update_model_package",
    {"ModelPackageArn": SAGEMAKER + "model-package/mlops-churn/1", "ModelApprovalStatus": "Approved"},
    "sagemaker:UpdateModelPackage",
    SAGEMAKER + "model-package/mlops-churn/1",
)
LIST_VERSIONS = Call(
    "sagemaker",
    "list_model_packages",
    {"ModelPackageGroupName": "mlops-churn"},
    "sagemaker:ListModelPackages",
    "*",
)
CREATE_GROUP = Call(
    "sagemaker",
    "create_model_package_group",
    {"ModelPackageGroupName": "mlops-least-privilege"},
    "sagemaker:CreateModelPackageGroup",
    SAGEMAKER + "model-package-group/mlops-least-privilege",
)
DELETE_ENDPOINT = Call(
    "sagemaker",
    "delete_endpoint",
    {"EndpointName": "mlops-churn"},
    "sagemaker:DeleteEndpoint",
    SAGEMAKER + "endpoint/mlops-churn",
)
DESCRIBE_TRAINING = Call(
    "sagemaker",
    "describe_training_job",
    {"TrainingJobName": "mlops-least-privilege"},
    "sagemaker:DescribeTrainingJob",
    SAGEMAKER + "training-job/mlops-least-privilege",
    answers="ValidationException",
)
DESCRIBE_LOG_GROUPS = Call("logs", "describe_log_groups", {}, "logs:DescribeLogGroups", "*")
DESCRIBE_PACKAGE = by_arn(
    "sagemaker",
    "describe_model_package",
    "ModelPackageName",
    SAGEMAKER + "model-package/mlops-churn/1",
    "sagemaker:DescribeModelPackage",
    answers="ValidationException",  # none registered here: allowed, it is not found
)

# Per role: calls of its purpose, then calls just outside it. The three: the validation function
# reads incoming/ and writes its dataset version but starts no execution; the training job reads its run's
# channels and writes its output, not uploads nor anything else of its run; the serving API's function
# invokes the endpoint it serves, not another dataset's.
ROLES = (
    RoleCase(
        "mlops-validation/DatasetValidationHandlerRole",
        allowed=(
            get(UPLOAD),
            put("datasets/churn/v-probe/data.parquet"),
            query("catalogTableName"),
            PUT_EVENT,
        ),
        denied=(start("training"), put(UPLOAD), query("deploymentsTableName")),
    ),
    RoleCase(
        "mlops-validation/DatasetValidationFailuresRole",
        allowed=(put("quarantine/churn/v-probe/failure.json"), PUBLISH_ALERT),
        denied=(get(UPLOAD), put("datasets/churn/v-probe/data.parquet"), PUT_EVENT),
    ),
    RoleCase(
        "mlops-training/TrainingJobRole",
        allowed=(get(SPLIT), get(RUN_CONFIG), put(MODEL)),
        denied=(get(UPLOAD), put(RUN_CONFIG), put(SPLIT), put("models/churn/model.tar.gz"), get(IMPORTED)),
    ),
    RoleCase(
        "mlops-training/TrainingPrepareFunctionRole",
        allowed=(get(SPLIT), put(RUN_CONFIG), LIST_VERSIONS, get(IMPORTED)),
        denied=(get(UPLOAD), CREATE_GROUP, start("training"), get(FEEDBACK), put(IMPORTED)),
    ),
    RoleCase(
        "mlops-training/TrainingGateFunctionRole",
        allowed=(get(RUN_CONFIG), put("runs/churn-least-privilege/gate/decision.json")),
        denied=(get(SPLIT), get(UPLOAD), APPROVE),
    ),
    RoleCase(
        "mlops-training/TrainingRegisterFunctionRole",
        allowed=(get(MODEL), CREATE_GROUP),
        denied=(put(MODEL), APPROVE, get(SPLIT)),
    ),
    RoleCase(
        "mlops-training/TrainingStateMachineRole",
        allowed=(PUBLISH_ALERT, DESCRIBE_TRAINING),
        denied=(invoke("DatasetValidationHandlerFunction"), start("deployment"), get(SPLIT)),
    ),
    RoleCase(
        "mlops-training/RetrainingPolicyFunctionRole",
        allowed=(
            describe_execution("training"),
            query("decisionsTableName"),
            query("catalogTableName"),
            listing("labels/churn/"),
            describe_endpoint(),
            PUBLISH_ALERT,
        ),
        denied=(
            start("deployment"),
            put(UPLOAD),
            get(CAPTURE),
            query("deploymentsTableName"),
            listing("incoming/churn/"),
            APPROVE,
        ),
    ),
    RoleCase(
        "mlops-training/RetrainingPolicyScheduleRole",
        allowed=(invoke("RetrainingPolicyFunction"),),
        denied=(invoke("DriftMonitorFunction"), start("training"), PUBLISH_ALERT),
    ),
    RoleCase(
        "mlops-serving/DeploymentModelRole",
        allowed=(get(MODEL), put("capture/churn/probe.jsonl")),
        denied=(get(SPLIT), get(UPLOAD), put(MODEL)),
    ),
    RoleCase(
        "mlops-serving/DeploymentPrepareFunctionRole",
        allowed=(query("deploymentsTableName"), describe_endpoint()),
        denied=(query("catalogTableName"), APPROVE, get(MODEL)),
    ),
    RoleCase(
        "mlops-serving/DeploymentFinishFunctionRole",
        allowed=(query("deploymentsTableName"), describe_endpoint()),
        denied=(DELETE_ENDPOINT, query("catalogTableName"), PUBLISH_ALERT),
    ),
    RoleCase(
        "mlops-serving/DeploymentStateMachineRole",
        allowed=(PUBLISH_ALERT, describe_endpoint()),
        denied=(invoke("TrainingPrepareFunction"), DELETE_ENDPOINT, start("training")),
    ),
    RoleCase(
        "mlops-serving/DeploymentStartRole",
        allowed=(describe_execution("deployment"),),
        denied=(start("training"), APPROVE, get(MODEL)),
    ),
    RoleCase(
        "mlops-serving/ServingApiFunctionRole",
        allowed=(
            invoke_endpoint("churn", answers="ValidationError"),
            describe_endpoint(),
            put("capture/churn/v1/probe.jsonl"),
        ),
        denied=(invoke_endpoint("retention"), put("capture/retention/probe.jsonl"), get(MODEL)),
    ),
    RoleCase(
        "mlops-monitoring/DriftMonitorFunctionRole",
        allowed=(
            listing("capture/churn/v1/"),
            get(CAPTURE),
            get(BASELINE),
            put("monitoring/churn/reports/20261206T180000Z/report.json"),
            DESCRIBE_PACKAGE,
        ),
        denied=(get(UPLOAD), get(MODEL), put(CAPTURE), listing("monitoring/churn/"), PUBLISH_ALERT),
    ),
    RoleCase(
        "mlops-monitoring/FeedbackIngestionFunctionRole",
        allowed=(
            get(FEEDBACK),
            listing("capture/churn/"),
            get(CAPTURE),
            listing("labels/churn/"),
            put("labels/churn/" + "ab" * 32 + "/rows.parquet"),
            listing("quarantine/feedback/churn/" + "ab" * 32 + "/report.json"),
            put("quarantine/feedback/churn/" + "ab" * 32 + "/report.json"),
            PUBLISH_ALERT,
        ),
        denied=(
            put(FEEDBACK),
            get(UPLOAD),
            put(CAPTURE),
            listing("incoming/churn/"),
            put("datasets/churn/" + "ab" * 32 + "/data.parquet"),
            get(MODEL),
            PUT_EVENT,
        ),
    ),
    RoleCase(
        "mlops-monitoring/DriftMonitorScheduleRole",
        allowed=(invoke("DriftMonitorFunction"),),
        denied=(invoke("DatasetValidationHandlerFunction"), get(CAPTURE), PUBLISH_ALERT),
    ),
    RoleCase(
        "mlops-serving/ServingApiCloudWatchRole",
        allowed=(DESCRIBE_LOG_GROUPS,),
        denied=(get(UPLOAD), PUBLISH_ALERT),
    ),
)

SERVERLESS_CHURN = {
    "mode": "serverless",
    "serverless": {"memory_mb": 2048, "max_concurrency": 4},
    "capture_api": {"rate_per_second": 50, "burst": 50},
}


@pytest.fixture(scope="class")  # gone before the next test deploys its own (one local cloud at a time)
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    """churn served through the serving API, retention served apart from it; a few objects seeded."""
    from stacks.app import PROJECT_ROOT, build_app, cdk_json_context

    folder = tmp_path_factory.mktemp("least-privilege")
    contract = (PROJECT_ROOT / "contracts" / "churn.yaml").read_text(encoding="utf-8")
    (folder / "retention.yaml").write_text(contract.replace("\nname: churn\n", "\nname: retention\n"))
    context = copy.deepcopy(cdk_json_context())
    datasets = context["mlops"]["datasets"]
    datasets["retention"] = {**copy.deepcopy(datasets["churn"]), "contract": str(folder / "retention.yaml")}
    datasets["churn"]["serving"] = SERVERLESS_CHURN
    context["mlops"]["deployment"] = dict(QUICK_DEPLOYMENTS)
    build_app(context, outdir=str(folder / "cdk.out")).synth()
    with deployed_platform(folder / "cdk.out") as platform:
        assert platform.cloud.iam.enforcer.enabled, "the e2e local cloud must enforce IAM"
        for key in SEEDED:
            platform.client("s3").put_object(Bucket=platform.bucket, Key=key, Body=b"seed")
        yield Deployed(platform.cloud, platform.outputs)


class TestEachRole:
    """The deployed roles, each against its row of ``ROLES``."""

    def test_every_role_of_the_platform_has_its_purpose_and_its_limits_in_the_table(
        self, deployed: Deployed
    ) -> None:
        assert sorted(deployed.roles) == sorted(case.role for case in ROLES), (
            "a role of the deployed platform is not in ROLES (or ROLES names a role that is gone): give "
            "it its allowed and denied calls in tests/e2e/test_roles_least_privilege.py"
        )

    @pytest.mark.parametrize("case", ROLES, ids=lambda case: case.role)
    def test_a_role_may_make_the_calls_of_its_purpose(self, deployed: Deployed, case: RoleCase) -> None:
        for call in case.allowed:
            _, client = deployed.session_arn_and_client(case.role, call.service)
            error = attempt(client, call, deployed)
            code = None if error is None else error.response["Error"]["Code"]
            assert code == call.answers, f"{case.role} was refused {call}: {error}"

    @pytest.mark.parametrize("case", ROLES, ids=lambda case: case.role)
    def test_a_role_is_denied_the_calls_next_to_its_purpose(self, deployed: Deployed, case: RoleCase) -> None:
        for call in case.denied:
            session, client = deployed.session_arn_and_client(case.role, call.service)
            error = attempt(client, call, deployed)
            assert error is not None, f"{case.role} was allowed {call}"
            assert error.response["Error"]["Code"] == DENIAL_CODES[call.service], f"{call}: {error}"
            expected = denial_message(session, deployed.fill(call.action), deployed.fill(call.resource))
            assert error.response["Error"]["Message"] == expected


def without_incoming_read(assembly: Path, into: Path) -> Path:
    """A copy of ``assembly`` whose validation function's role may not read ``incoming/`` (else the same).

    Only the templates are copied; the assets (the functions' code) are linked, as they are unchanged.
    """
    into.mkdir()
    for entry in assembly.iterdir():
        if entry.suffix == ".json":
            shutil.copy(entry, into / entry.name)
        else:
            (into / entry.name).symlink_to(entry.resolve())
    path = into / "mlops-validation.template.json"
    template = json.loads(path.read_text(encoding="utf-8"))
    removed = 0
    for resource in template["Resources"].values():
        roles = resource.get("Properties", {}).get("Roles", [])
        if (
            resource["Type"] != "AWS::IAM::Policy"
            or role_key("", roles[0]["Ref"]) != "/DatasetValidationHandlerRole"
        ):
            continue
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
            if "s3:GetObject*" in statement["Action"]:
                kept = [r for r in statement["Resource"] if '"/incoming/*"' not in json.dumps(r)]
                removed += len(statement["Resource"]) - len(kept)
                statement["Resource"] = kept
    assert removed == 1, (
        f"expected one read of incoming/ in the validation function's policy, found {removed}"
    )
    path.write_text(json.dumps(template), encoding="utf-8")
    return into


def test_a_validation_function_without_its_read_of_incoming_fails_the_upload_with_the_denial_alerted(
    cloud_assembly: CloudAssembly, tmp_path: Path
) -> None:
    # Given the platform deployed from templates where the validation function may not read incoming/
    assembly = without_incoming_read(cloud_assembly.directory, tmp_path / "cdk.out")
    with deployed_platform(assembly) as platform:
        body = generate(1_100, 41, tmp_path / "good.csv", "csv").read_bytes()
        platform.drain(platform.alerts, wait=0.2)
        # When a good file is uploaded
        platform.upload("incoming/churn/good.csv", body)
        # Then its read is denied as AWS denies it: the function's role session, the action (it reads the
        # version the event named: s3:GetObjectVersion, which s3:GetObject* grants) and the object
        function = platform.client("lambda").get_function_configuration(
            FunctionName=platform.outputs["ValidationFunctionName"]
        )
        role = function["Role"].rsplit("/", 1)[1]
        session = f"arn:aws:sts::{platform.cloud.account_id}:assumed-role/{role}/{function['FunctionName']}"
        upload = f"arn:aws:s3:::{platform.bucket}/incoming/churn/good.csv"
        denial = denial_message(session, "s3:GetObjectVersion", upload)
        # and the failure takes the alert path of any upload that cannot be validated, saying why (beside
        # the monitoring alarms' state changes, which missing data may bring on the same topic)
        subject = "Dataset upload could not be validated: churn"
        (alert,) = [a for a in platform.drain(platform.alerts) if a.get("Subject") == subject]
        assert f"the validation function may not read the upload ({denial})" in alert["Message"]
        # and the function's log group holds the denial, where its author looks first
        events = platform.client("logs").filter_log_events(logGroupName=_log_group(platform, cloud_assembly))
        assert any(f"AccessDenied: {denial}" in event["message"] for event in events["events"])
        # and nothing of a dataset version was written
        assert platform.catalog("churn") == []
        assert platform.keys("datasets/") == []


def _log_group(platform: DataPlane, cloud_assembly: CloudAssembly) -> str:
    """The validation function's log group, as its template names it (LoggingConfig)."""
    resources = cloud_assembly.template("mlops-validation")["Resources"]
    (group,) = [
        resource["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        for resource in resources.values()
        if resource["Type"] == "AWS::Lambda::Function"
        and role_key("", resource["Properties"]["Role"]["Fn::GetAtt"][0]) == "/DatasetValidationHandlerRole"
    ]
    listed = platform.client("cloudformation").list_stack_resources(StackName="mlops-validation")
    (name,) = [
        r["PhysicalResourceId"] for r in listed["StackResourceSummaries"] if r["LogicalResourceId"] == group
    ]
    return str(name)
