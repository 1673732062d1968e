"""Continuous training: every accepted dataset version is split, trained, evaluated, gated, registered.

A Step Functions state machine written with CDK's typed tasks. The retraining policy
(``stacks/constructs/retraining_policy.py``) starts it, with an execution name derived from the dataset
version and the trigger, so a duplicate event cannot start a second run. Every outcome is a record: a
registered model package, a gate decision that rejected the challenger, or a failure with its cause;
each is announced on the alert topic.
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from domain import names
from domain.data.contract import DatasetContract
from domain.declared import CONTRACTS_FILE, TRAINING_FILE
from domain.training.config import TrainingConfig
from stacks.config import TrainingInfraConfig
from stacks.constructs.lambda_packaging import generated_json
from stacks.constructs.nag import acknowledge, cdk_grant_reasons
from stacks.constructs.platform_function import Invocation, PlatformFunction
from stacks.constructs.training_job import RUNS_PREFIX, TrainingJob
from stacks.constructs.workflow import announcement, lambda_step, logged_state_machine

STEP_RESULTS = ("prepare", "training", "gate")  # the results of the steps before Register
_SAGEMAKER_TRANSIENT = ["SageMaker.AmazonSageMakerException", "SageMaker.ResourceLimitExceededException"]


class TrainingPipeline(Construct):
    """The training pipeline and the functions it runs."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        project: str,
        contracts: dict[str, DatasetContract],
        training: dict[str, TrainingConfig],
        settings: TrainingInfraConfig,
        data_bucket: s3.IBucket,
        alerts: sns.ITopic,
        key: kms.IKey,
        architecture: lambda_.Architecture,
        log_retention: logs.RetentionDays,
        team_code: Path | None,
    ) -> None:
        super().__init__(scope, construct_id)
        generated = {
            CONTRACTS_FILE: generated_json(contracts),
            TRAINING_FILE: generated_json(training),
        }
        group_prefix = names.group_prefix(project)
        # Each function is given the variables its handler's Settings reads, and no others.
        bucket = {"DATA_BUCKET": data_bucket.bucket_name}

        def function(
            name: str, folder: str, description: str, environment: dict[str, str], **extra: object
        ) -> PlatformFunction:
            return PlatformFunction(
                self,
                name,
                folder=folder,
                description=description,
                key=key,
                architecture=architecture,
                log_retention=log_retention,
                generated_files=generated,
                environment=environment,
                **extra,  # type: ignore[arg-type]
            )

        self.job = TrainingJob(
            self, "Job", data_bucket=data_bucket, key=key, settings=settings, team_code=team_code
        )
        self.prepare = function(
            "PrepareFunction",
            "training_prepare",
            "Splits a dataset version and lays out a run's channels.",
            bucket | {"MODEL_PACKAGE_GROUP_PREFIX": group_prefix},
            memory_mb=1769,
            timeout=cdk.Duration.minutes(15),
            # Holds the three split files only (the snapshot is read by ranges, domain.training.prepare):
            # at most about half of what validation's storage holds, so the largest there is fits.
            ephemeral_storage_gb=10,
            invocation=_step("Split"),
            wildcard_only_actions=("sagemaker:ListModelPackages",),  # the champion: approved versions
        )
        self.gate = function(
            "GateFunction",
            "training_gate",
            "Judges a trained challenger; records the decision.",
            bucket,
            invocation=_step("Gate"),
        )
        self.register = function(
            "RegisterFunction",
            "model_registration",
            "Registers an approved model version.",
            bucket
            | {
                "MODEL_PACKAGE_GROUP_PREFIX": group_prefix,
                "INFERENCE_IMAGE_URI": self.job.image_uri,
                "CODE_VERSION": self.job.source.asset_hash,
            },
            invocation=_step("Register"),
            wildcard_only_actions=("sagemaker:ListModelPackages",),  # a retry finds the version it registered
        )

        snapshots, splits, runs = "datasets/*", "datasets/*/splits/*", f"{RUNS_PREFIX}*"
        imports = f"{names.IMPORTS_PREFIX}*"
        data_bucket.grant_read(self.prepare.function, snapshots)
        data_bucket.grant_read(self.prepare.function, imports)  # an import run copies its model's file
        data_bucket.grant_put(self.prepare.function, splits)
        data_bucket.grant_read_write(self.prepare.function, runs)
        data_bucket.grant_read_write(self.gate.function, runs)
        data_bucket.grant_read(self.register.function, runs)
        registry = self._registry_arns(group_prefix)
        # DescribeModelPackage acts on a model package only (its one resource type), so the champion's
        # lookup is granted on this platform's packages, not on its groups and cards too.
        packages = [registry["model-package"]]
        self.prepare.function.add_to_role_policy(
            iam.PolicyStatement(actions=["sagemaker:DescribeModelPackage"], resources=packages)
        )
        self.register.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=[
                    "sagemaker:CreateModelPackageGroup",
                    "sagemaker:DescribeModelPackageGroup",
                    "sagemaker:CreateModelPackage",
                    "sagemaker:DescribeModelPackage",
                    "sagemaker:CreateModelCard",
                    "sagemaker:DescribeModelCard",
                ],
                resources=list(registry.values()),
            )
        )
        grants = cdk_grant_reasons("encrypted buckets and logs")
        scratch = {"s3:DeleteObject*": "Run folders are scratch: a retried step replaces its own files."}
        run_files = {
            data_bucket.arn_for_objects(runs): "A run's channels and evaluation: runs/<dataset>/<run>/."
        }
        own_registry = dict.fromkeys(
            registry.values(), "Model package groups, packages and cards of this platform only."
        )
        self.prepare.acknowledge(
            resources={
                data_bucket.arn_for_objects(snapshots): "The split step reads snapshots: keys are data.",
                data_bucket.arn_for_objects(splits): "Splits are written per dataset version.",
                data_bucket.arn_for_objects(imports): "An import run reads imports/<dataset>/<sha256>.skops.",
                **run_files,
                **dict.fromkeys(packages, "Model packages of this platform only (the champion's lookup)."),
            },
            actions=grants | scratch,
        )
        self.gate.acknowledge(resources=run_files, actions=grants | scratch)
        self.register.acknowledge(resources=run_files | own_registry, actions=grants)

        self.state_machine = self._state_machine(alerts, key, log_retention, settings)

    def _registry_arns(self, group_prefix: str) -> dict[str, str]:
        """This platform's model package groups, packages and cards, by resource type."""
        stack = cdk.Stack.of(self)
        return {
            kind: stack.format_arn(service="sagemaker", resource=kind, resource_name=f"{group_prefix}*")
            for kind in ("model-package-group", "model-package", "model-card")
        }

    def _state_machine(
        self,
        alerts: sns.ITopic,
        key: kms.IKey,
        log_retention: logs.RetentionDays,
        settings: TrainingInfraConfig,
    ) -> sfn.StateMachine:
        failed = sfn.Fail(self, "Failed", error="TrainingRunFailed", cause_path="$.error.Cause")

        def announce(name: str, subject: str, then: sfn.State, **fields: str) -> sfn.Chain:
            """Publish the run's name and the named fields of the run document on the alert topic."""
            message = {"run": sfn.JsonPath.string_at("$.run_name")} | {
                key: sfn.JsonPath.string_at(path) for key, path in fields.items()
            }
            return announcement(
                self,
                name,
                topic=alerts,
                subject=subject,
                message=sfn.TaskInput.from_object(message),
                then=then,
            )

        alert_failure = announce(
            "AlertFailure", "Training run failed", failed, error="$.error.Error", cause="$.error.Cause"
        )

        def caught_step(name: str, handler: PlatformFunction, result_path: str) -> tasks.LambdaInvoke:
            step = lambda_step(self, name, handler.function, result_path=result_path)
            step.add_catch(alert_failure, result_path="$.error")
            return step

        prepare = caught_step("Split", self.prepare, "$.prepare")
        train = self.job.task(self, "Train")
        train.add_retry(
            errors=_SAGEMAKER_TRANSIENT, interval=cdk.Duration.seconds(30), max_attempts=3, backoff_rate=2
        )
        train.add_catch(alert_failure, result_path="$.error")
        gate = caught_step("Gate", self.gate, "$.gate")
        register = lambda_step(
            self,
            "Register",
            self.register.function,
            # The run document as it stands, plus the execution's ARN for the lineage (ASL cannot merge
            # "$" with a context field, so the fields are named one by one): the run is the execution
            # input whole, whose keys vary with the kind of run (domain.training.steps.RegisterInput).
            payload=sfn.TaskInput.from_object(
                {
                    "run": sfn.JsonPath.object_at("$$.Execution.Input"),
                    **{field: sfn.JsonPath.object_at(f"$.{field}") for field in STEP_RESULTS},
                    "execution_arn": sfn.JsonPath.string_at("$$.Execution.Id"),
                }
            ),
            result_path="$.registration",
        )
        register.add_catch(alert_failure, result_path="$.error")
        announce_registered = announce(
            "AnnounceRegistered",
            "Model version registered",
            sfn.Succeed(self, "Registered"),
            gate="$.gate.summary",
            model_package="$.registration.model_package_arn",
        )
        announce_rejected = announce(
            "AnnounceRejected",
            "Challenger rejected by the gate",
            sfn.Succeed(self, "Rejected"),
            gate="$.gate.summary",
            decision="$.gate.gate_uri",
        )
        decide = (
            sfn.Choice(self, "Approved?")
            .when(
                sfn.Condition.boolean_equals("$.gate.approved", True),
                register.next(announce_registered),
            )
            .otherwise(announce_rejected)
        )
        definition = prepare.next(train).next(gate).next(decide)
        machine = logged_state_machine(
            self,
            definition,
            key=key,
            log_retention=log_retention,
            timeout=cdk.Duration.minutes(settings.pipeline_timeout_minutes),
            invokes=[self.prepare.function, self.gate.function, self.register.function],
            publishes_to=[alerts],
            wildcard_only_actions=("sagemaker:ListTags",),
        )
        # CDK's `.sync` task grants create, describe and stop on training jobs by a name pattern.
        jobs = cdk.Stack.of(self).format_arn(service="sagemaker", resource="training-job", resource_name="*")
        acknowledge(machine.role, resources={jobs: "Training job names are derived per run at run time."})
        return machine


def _step(task: str) -> Invocation:
    """How the state machine's ``task`` invokes its function (``_state_machine``'s ``caught_step``)."""
    return Invocation.synchronous(
        f"the training state machine's {task} task, which retries a Lambda throttle and catches every "
        "other error into the run's failure alert"
    )
