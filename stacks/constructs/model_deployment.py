"""Serving: every approved model version goes live on its dataset's endpoint, safely, one at a time.

``ModelDeployment`` composes the parts of a deployment and holds what they share:

- the role SageMaker serves with, and the functions of the workflow's steps, ``Prepare`` and
  ``Finish``, with their grants;
- ``EndpointAlarms`` (``endpoint_alarms.py``): each endpoint's rollback alarms;
- ``DeploymentWorkflow`` (``deployment_workflow.py``): the state machine that runs one deployment;
- ``DeploymentTrigger`` (``deployment_trigger.py``): the approval rule and the function that starts it.

The endpoint's name is stable per dataset (``<project>-<dataset>``) and a stack output: apps invoke
that name whatever version it serves. The deployments table (each endpoint's lock and record of
deployments) is state: the foundation owns it, and this construct is given it.
"""

from __future__ import annotations

import json

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from domain import names
from domain.declared import SERVING_FILE
from domain.deployment.serving_config import ServingConfig
from domain.names import alarm_names, capture_prefix, endpoint_name
from stacks.config import DeploymentInfraConfig
from stacks.constructs.deployment_trigger import DeploymentTrigger
from stacks.constructs.deployment_workflow import DeploymentWorkflow
from stacks.constructs.endpoint_alarms import EndpointAlarms
from stacks.constructs.nag import acknowledge, cdk_grant_reasons
from stacks.constructs.platform_function import Invocation, PlatformFunction
from stacks.constructs.training_job import RUNS_PREFIX, grant_container_basics


class ModelDeployment(Construct):
    """A deployment per approval: the table, the model role, the step functions; alarms, workflow, trigger.

    Attributes
    ----------
    endpoints
        Per dataset, its endpoint's name.
    table, model_role
        The deployments table (the foundation's); the role SageMaker serves with.
    prepare, finish
        The functions of the workflow's ``Prepare`` and ``Finish`` (and ``RecordFailure``) steps.
    alarms
        Per dataset, its endpoint's rollback alarms (``EndpointAlarms.by_dataset``).
    state_machine
        The deployment workflow (``DeploymentWorkflow``).
    dead_letters, start, trigger
        The trigger's dead-letter queue, start function and approval rule (``DeploymentTrigger``).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        project: str,
        serving: dict[str, ServingConfig],
        settings: DeploymentInfraConfig,
        data_bucket: s3.IBucket,
        table: dynamodb.ITable,
        alerts: sns.ITopic,
        key: kms.IKey,
        image_repository_arn: str,
        architecture: lambda_.Architecture,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        self.project = project
        self.group_prefix = names.group_prefix(project)
        self.endpoints = {dataset: endpoint_name(project, dataset) for dataset in serving}
        self.table = table
        self.model_role = self._model_role(data_bucket, key, serving, image_repository_arn)
        self.alarms = EndpointAlarms(
            self, endpoints=self.endpoints, serving=serving, alerts=alerts
        ).by_dataset

        generated = {SERVING_FILE: json.dumps({n: c.model_dump(mode="json") for n, c in serving.items()})}

        def function(
            name: str,
            folder: str,
            description: str,
            environment: dict[str, str],
            invocation: Invocation,
            wildcard_only_actions: tuple[str, ...] = (),
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
                invocation=invocation,
                wildcard_only_actions=wildcard_only_actions,
            )

        self.prepare = function(
            "PrepareFunction",
            "deployment_prepare",
            "Takes an endpoint and starts serving an approved model version on it.",
            {
                "DATA_BUCKET": data_bucket.bucket_name,
                "DEPLOYMENTS_TABLE": self.table.table_name,
                "MODEL_ROLE_ARN": self.model_role.role_arn,
                "KMS_KEY_ARN": key.key_arn,
            },
            Invocation.synchronous(
                "the deployment state machine's Prepare task, which retries a Lambda throttle and catches "
                "every other error into RecordFailure (the deployment recorded as failed, and alerted)"
            ),
            # A newer approval supersedes this one: Prepare lists the group's approved versions.
            wildcard_only_actions=("sagemaker:ListModelPackages",),
        )
        self.finish = function(
            "FinishFunction",
            "deployment_finish",
            "Records what a deployment did and frees the endpoint.",
            {"DEPLOYMENTS_TABLE": self.table.table_name},
            Invocation.synchronous(
                "the deployment state machine's Finish and RecordFailure tasks, which retry a Lambda "
                "throttle; Finish catches every other error into RecordFailure, and RecordFailure "
                "into an alert"
            ),
        )
        self._grant_steps(key)
        self.state_machine = DeploymentWorkflow(
            self,
            project=project,
            prepare_function=self.prepare,
            finish_function=self.finish,
            alerts=alerts,
            key=key,
            log_retention=log_retention,
            settings=settings,
        ).state_machine
        trigger = DeploymentTrigger(
            self,
            project=project,
            state_machine=self.state_machine,
            key=key,
            architecture=architecture,
            log_retention=log_retention,
            generated_files=generated,
        )
        self.dead_letters = trigger.dead_letters
        self.start = trigger.start
        self.trigger = trigger.rule

    def _arn(self, resource: str, name: str) -> str:
        return cdk.Stack.of(self).format_arn(service="sagemaker", resource=resource, resource_name=name)

    def _model_role(
        self,
        data_bucket: s3.IBucket,
        key: kms.IKey,
        serving: dict[str, ServingConfig],
        image_repository_arn: str,
    ) -> iam.Role:
        """The role SageMaker serves with: reads model archives, writes captured data, pulls the image."""
        role = iam.Role(
            self,
            "ModelRole",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description="Endpoints: read model archives, write captured requests; nothing else.",
        )
        archives = f"{RUNS_PREFIX}*/training/*"
        data_bucket.grant_read(role, archives)
        captures = [f"{capture_prefix(dataset)}*" for dataset in serving]
        for prefix in captures:
            data_bucket.grant_put(role, prefix)
        key.grant_encrypt_decrypt(role)
        role.add_to_policy(
            iam.PolicyStatement(actions=["kms:CreateGrant", "kms:DescribeKey"], resources=[key.key_arn])
        )
        grant_container_basics(
            role, image_repository_arn=image_repository_arn, log_groups="/aws/sagemaker/Endpoints/*"
        )
        acknowledge(
            role,
            resources={
                data_bucket.arn_for_objects(archives): "Endpoints read the model archives of runs.",
                **{
                    data_bucket.arn_for_objects(p): "Endpoints write their captured requests."
                    for p in captures
                },
            },
            actions=cdk_grant_reasons("model archives, captures, endpoint volumes"),
        )
        return role

    def _grant_steps(self, key: kms.IKey) -> None:
        prefix = f"{self.project}-*"
        # What the endpoint runs now (its configuration's name): neither step reads a configuration.
        sagemaker_read = ["sagemaker:DescribeEndpoint"]
        registry = [
            self._arn("model-package", f"{self.group_prefix}*"),
            self._arn("model-package-group", f"{self.group_prefix}*"),
        ]
        serving = [self._arn(kind, prefix) for kind in ("endpoint", "endpoint-config", "model")]
        self.prepare.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=[
                    "sagemaker:CreateModel",
                    "sagemaker:CreateEndpointConfig",
                    "sagemaker:CreateEndpoint",
                    "sagemaker:UpdateEndpoint",
                    "sagemaker:DeleteEndpoint",  # a Failed endpoint accepts nothing else: it is created again
                    *sagemaker_read,
                ],
                resources=serving,
            )
        )
        self.prepare.function.add_to_role_policy(
            iam.PolicyStatement(actions=["sagemaker:DescribeModelPackage"], resources=registry)
        )
        self.prepare.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[self.model_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            )
        )
        self.prepare.function.add_to_role_policy(
            iam.PolicyStatement(actions=["kms:CreateGrant", "kms:DescribeKey"], resources=[key.key_arn])
        )
        self.finish.function.add_to_role_policy(
            iam.PolicyStatement(actions=sagemaker_read, resources=serving)
        )
        self.finish.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["sagemaker:DescribeModelPackage", "sagemaker:UpdateModelPackage"], resources=registry
            )
        )
        # ARNs from the names (known at synth), not the alarms' attributes: no dependency on the alarms.
        alarms = [
            cdk.Stack.of(self).format_arn(
                service="cloudwatch",
                resource="alarm",
                resource_name=name,
                arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
            )
            for endpoint in self.endpoints.values()
            for name in alarm_names(endpoint)
        ]
        for step in (self.prepare, self.finish):
            self.table.grant_read_write_data(step.function)
            # Finish reads which alarm fired. Prepare never reads them, but names them in UpdateEndpoint's
            # AutoRollbackConfiguration, and SageMaker asks that the role may cloudwatch:DescribeAlarms on
            # them (Developer Guide, "Auto-Rollback Configuration and Monitoring"); the local cloud does not
            # check that, so its access report lists the statement as unused.
            if alarms:
                step.function.add_to_role_policy(
                    iam.PolicyStatement(actions=["cloudwatch:DescribeAlarms"], resources=alarms)
                )
            step.acknowledge(
                resources={
                    **dict.fromkeys(serving, "The platform's endpoints, configurations and models only."),
                    **dict.fromkeys(registry, "Model package groups and packages of this platform only."),
                },
                actions=cdk_grant_reasons("the deployments table"),
            )
