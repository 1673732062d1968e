"""The synthesized templates' own policies, evaluated for a few real calls of the platform's roles.

The templates are read as CloudFormation would deploy them into a fake account: ``Ref``, ``Fn::GetAtt``,
``Fn::ImportValue``, ``Fn::Join``, ``Fn::Sub`` and ``Fn::FindInMap`` resolved to concrete names and ARNs.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from localcloud.iam import Policy, Request, ResourcePolicy, evaluate, parse_policy
from tests.conftest import CloudAssembly

pytestmark = pytest.mark.slow  # the app is synthesized once per session

ACCOUNT = "123456789012"
REGION = "us-east-1"
PSEUDO = {
    "AWS::AccountId": ACCOUNT,
    "AWS::Region": REGION,
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "stack",
}
# How a resource type's Ref and Arn read: (service, ARN resource part, Ref is the ARN).
ARNS = {
    "AWS::S3::Bucket": ("s3", "{name}", False),
    "AWS::IAM::Role": ("iam", "role/{name}", False),
    "AWS::KMS::Key": ("kms", "key/{name}", False),
    "AWS::SQS::Queue": ("sqs", "{name}", False),
    "AWS::SNS::Topic": ("sns", "{name}", True),
    "AWS::Lambda::Function": ("lambda", "function:{name}", False),
    "AWS::StepFunctions::StateMachine": ("states", "stateMachine:{name}", True),
    "AWS::Logs::LogGroup": ("logs", "log-group:{name}:*", False),
    "AWS::DynamoDB::Table": ("dynamodb", "table/{name}", False),
    "AWS::Events::EventBus": ("events", "event-bus/{name}", False),
}
NAMES = (
    "BucketName",
    "RoleName",
    "FunctionName",
    "TableName",
    "StateMachineName",
    "TopicName",
    "QueueName",
    "Name",
)


class Resolver:
    """The templates of one app, their intrinsic functions resolved as CloudFormation would."""

    def __init__(self, templates: dict[str, dict[str, Any]]) -> None:
        self.templates = templates
        self.exports: dict[str, Any] = {}
        for name, template in templates.items():
            for output in template.get("Outputs", {}).values():
                if "Export" in output:
                    self.exports[output["Export"]["Name"]] = (name, output["Value"])

    def name(self, stack: str, logical_id: str) -> str:
        resource = self.templates[stack]["Resources"][logical_id]
        given = next((resource["Properties"][n] for n in NAMES if n in resource.get("Properties", {})), None)
        if isinstance(given, str | dict):
            return str(self.resolve(stack, given))
        return logical_id.lower() if resource["Type"] == "AWS::S3::Bucket" else logical_id

    def arn(self, stack: str, logical_id: str) -> str:
        kind = self.templates[stack]["Resources"][logical_id]["Type"]
        service, part, _ = ARNS[kind]
        region = "" if service in ("s3", "iam") else REGION
        account = "" if service == "s3" else ACCOUNT
        return f"arn:aws:{service}:{region}:{account}:{part.format(name=self.name(stack, logical_id))}"

    def resolve(self, stack: str, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(stack, v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) != 1 or not next(iter(value)).startswith(("Fn::", "Ref")):
            return {k: self.resolve(stack, v) for k, v in value.items()}
        function, argument = next(iter(value.items()))
        if function == "Ref":
            if argument in PSEUDO:
                return PSEUDO[argument]
            kind = self.templates[stack]["Resources"][argument]["Type"]
            return (
                self.arn(stack, argument)
                if ARNS.get(kind, ("", "", False))[2]
                else self.name(stack, argument)
            )
        if function == "Fn::GetAtt":
            return self.arn(stack, argument[0])
        if function == "Fn::ImportValue":
            exporter, exported = self.exports[self.resolve(stack, argument)]
            return self.resolve(exporter, exported)
        if function == "Fn::Join":
            return argument[0].join(self.resolve(stack, v) for v in argument[1])
        if function == "Fn::Sub":
            return re.sub(r"\$\{([^}]+)\}", lambda m: str(self.resolve(stack, {"Ref": m.group(1)})), argument)
        if function == "Fn::FindInMap":
            table, first, second = (self.resolve(stack, a) for a in argument)
            return self.templates[stack]["Mappings"][table].get(first, {}).get(second, ACCOUNT)
        raise AssertionError(f"{function} is not resolved by this test")

    def role_policies(self, stack: str, role_id: str) -> list[Policy]:
        """The identity policies of a role: its inline ``Policies`` and every ``AWS::IAM::Policy`` on it."""
        resources = self.templates[stack]["Resources"]
        documents = [p["PolicyDocument"] for p in resources[role_id]["Properties"].get("Policies", [])]
        documents += [
            r["Properties"]["PolicyDocument"]
            for r in resources.values()
            if r["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in r["Properties"].get("Roles", [])
        ]
        return [
            parse_policy(self.resolve(stack, d), name=f"{role_id} policy {i}")
            for i, d in enumerate(documents)
        ]

    def one(self, stack: str, kind: str, words: str) -> str:
        """The logical id of the only resource of ``kind`` whose id contains ``words``."""
        (found,) = [
            i for i, r in self.templates[stack]["Resources"].items() if r["Type"] == kind and words in i
        ]
        return found


@pytest.fixture(scope="module")
def app(cloud_assembly: CloudAssembly) -> Resolver:
    return Resolver(cloud_assembly.templates)


def session(app: Resolver, stack: str, role_id: str) -> str:
    return f"arn:aws:sts::{ACCOUNT}:assumed-role/{app.name(stack, role_id)}/session"


def data_object(app: Resolver, key: str) -> str:
    bucket = app.one("mlops-foundation", "AWS::S3::Bucket", "DataBucket")
    return f"{app.arn('mlops-foundation', bucket)}/{key}"


def bucket_policy(app: Resolver) -> ResourcePolicy:
    policy_id = app.one("mlops-foundation", "AWS::S3::BucketPolicy", "DataBucketPolicy")
    document = app.resolve("mlops-foundation", app.templates["mlops-foundation"]["Resources"][policy_id])
    return ResourcePolicy(parse_policy(document["Properties"]["PolicyDocument"], name="data bucket policy"))


def key_policy(app: Resolver) -> ResourcePolicy:
    key_id = app.one("mlops-foundation", "AWS::KMS::Key", "EncryptionKey")
    document = app.resolve("mlops-foundation", app.templates["mlops-foundation"]["Resources"][key_id])
    return ResourcePolicy(
        parse_policy(document["Properties"]["KeyPolicy"], name="key policy"), True, "key policy"
    )


HTTPS = {"aws:SecureTransport": "true"}


def test_the_validation_function_may_read_uploads_and_decrypt_them(app: Resolver) -> None:
    role = app.one("mlops-validation", "AWS::IAM::Role", "ValidationHandlerRole")
    caller, policies = session(app, "mlops-validation", role), app.role_policies("mlops-validation", role)
    upload = data_object(app, "incoming/churn/2026-01-01.csv")
    read = evaluate(Request(caller, "s3:GetObject", upload, HTTPS), policies, bucket_policy(app))
    assert read.allowed, read.message
    key = app.arn("mlops-foundation", app.one("mlops-foundation", "AWS::KMS::Key", "EncryptionKey"))
    decrypt = evaluate(Request(caller, "kms:Decrypt", key, HTTPS), policies, key_policy(app))
    assert decrypt.allowed, decrypt.message


def test_the_bucket_refuses_the_validation_function_over_plain_http(app: Resolver) -> None:
    role = app.one("mlops-validation", "AWS::IAM::Role", "ValidationHandlerRole")
    caller, policies = session(app, "mlops-validation", role), app.role_policies("mlops-validation", role)
    upload = data_object(app, "incoming/churn/2026-01-01.csv")
    decision = evaluate(
        Request(caller, "s3:GetObject", upload, {"aws:SecureTransport": "false"}),
        policies,
        bucket_policy(app),
    )
    assert (decision.outcome, decision.policy_kind) == ("explicit_deny", "resource-based")


def test_the_validation_function_may_not_start_executions(app: Resolver) -> None:
    role = app.one("mlops-validation", "AWS::IAM::Role", "ValidationHandlerRole")
    caller, policies = session(app, "mlops-validation", role), app.role_policies("mlops-validation", role)
    machine = app.arn(
        "mlops-training", app.one("mlops-training", "AWS::StepFunctions::StateMachine", "StateMachine")
    )
    decision = evaluate(Request(caller, "states:StartExecution", machine, HTTPS), policies)
    assert decision.outcome == "implicit_deny"
    assert decision.message == (
        f"User: {caller} is not authorized to perform: states:StartExecution on resource: {machine}"
        " because no identity-based policy allows the states:StartExecution action"
    )


def test_the_training_job_role_reads_its_splits_but_not_uploads(app: Resolver) -> None:
    role = app.one("mlops-training", "AWS::IAM::Role", "TrainingJobRole")
    caller, policies = session(app, "mlops-training", role), app.role_policies("mlops-training", role)
    split = data_object(app, "datasets/churn/v1/splits/train.csv")
    assert evaluate(Request(caller, "s3:GetObject", split, HTTPS), policies, bucket_policy(app)).allowed
    upload = data_object(app, "incoming/churn/2026-01-01.csv")
    decision = evaluate(Request(caller, "s3:GetObject", upload, HTTPS), policies, bucket_policy(app))
    assert (decision.outcome, decision.reason) == ("implicit_deny", "no identity-based policy allows")


@pytest.mark.parametrize(
    ("stack", "words"),
    [
        ("mlops-training", "TrainingPrepareFunctionRole"),
        ("mlops-training", "TrainingRegisterFunctionRole"),
        ("mlops-serving", "DeploymentPrepareFunctionRole"),  # a newer approved version supersedes
    ],
)
def test_the_registry_readers_may_list_model_packages_which_aws_decides_on_every_resource(
    app: Resolver, stack: str, words: str
) -> None:
    # ListModelPackages names no package (its resource type is optional): AWS authorizes it on "*".
    role = app.one(stack, "AWS::IAM::Role", words)
    caller, policies = session(app, stack, role), app.role_policies(stack, role)
    listing = evaluate(Request(caller, "sagemaker:ListModelPackages", "*", HTTPS), policies)
    assert listing.allowed, listing.message
    ours = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/mlops-churn/1"
    assert evaluate(Request(caller, "sagemaker:DescribeModelPackage", ours, HTTPS), policies).allowed
    theirs = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/other-churn/1"
    decision = evaluate(Request(caller, "sagemaker:DescribeModelPackage", theirs, HTTPS), policies)
    assert decision.outcome == "implicit_deny"


def test_the_prepare_function_describes_model_packages_and_nothing_else_of_the_registry(
    app: Resolver,
) -> None:
    # DescribeModelPackage acts on a model package only: the champion's lookup needs no group or card.
    role = app.one("mlops-training", "AWS::IAM::Role", "TrainingPrepareFunctionRole")
    caller, policies = session(app, "mlops-training", role), app.role_policies("mlops-training", role)
    registry = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}"
    package = evaluate(
        Request(caller, "sagemaker:DescribeModelPackage", f"{registry}:model-package/mlops-churn/1", HTTPS),
        policies,
    )
    assert package.allowed, package.message
    for other in ("model-package-group/mlops-churn", "model-card/mlops-churn-1"):
        decision = evaluate(
            Request(caller, "sagemaker:DescribeModelPackage", f"{registry}:{other}", HTTPS), policies
        )
        assert decision.outcome == "implicit_deny", other
