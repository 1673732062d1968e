"""The SageMaker training job of the pipeline: its image, source code, role and Step Functions task."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from stacks.config import TrainingInfraConfig
from stacks.constructs.lambda_packaging import PROJECT_ROOT, training_source_bundling
from stacks.constructs.nag import acknowledge, cdk_grant_reasons, wildcard_reason

# Where each run's channels and outputs live (written by the prepare step, read by the job).
SPLITS_PATTERN = "datasets/*/splits/*"
RUNS_PREFIX = "runs/"
CHANNELS = ("train", "validation", "test", "config", "champion")
# A network-isolated container downloads nothing itself: its code arrives as this input channel, and
# sagemaker_submit_directory names the archive's path inside the container (as the SageMaker SDK does).
CODE_CHANNEL = "code"
CONTAINER_CHANNELS_DIR = "/opt/ml/input/data"
# SageMaker's scikit-learn image (training and serving); each region publishes it from an account of its own.
IMAGE_REPOSITORY = "sagemaker-scikit-learn"


@cache
def scikit_learn_images(version: str) -> dict[str, str]:
    """The SageMaker scikit-learn container's URI in every region, from the SageMaker SDK's table.

    Resolved offline at synth; the stack picks its region's entry with a CloudFormation mapping, so
    environment-agnostic stacks need no lookup either.
    """
    import json

    from sagemaker.core import image_uris

    table = json.loads(
        (Path(image_uris.__file__).parent / "image_uri_config" / "sklearn.json").read_text(encoding="utf-8")
    )
    regions = sorted(table["training"]["versions"][version]["registries"])
    return {
        region: image_uris.retrieve("sklearn", region, version=version, image_scope="training")
        for region in regions
    }


def supported_regions(version: str) -> list[str]:
    """The regions where SageMaker publishes the scikit-learn image ``version``: where the platform runs."""
    return sorted(scikit_learn_images(version))


def grant_container_basics(role: iam.Role, *, image_repository_arn: str, log_groups: str) -> None:
    """What SageMaker needs to run the scikit-learn container with ``role``: the image, logs, metrics.

    The ECR login token and metric writes exist on "*" only (metrics are held to SageMaker's namespaces
    by a condition); everything else is named.
    """
    log_group_arn = cdk.Stack.of(role).format_arn(
        service="logs",
        resource="log-group",
        resource_name=log_groups,
        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
    )
    role.add_to_principal_policy(iam.PolicyStatement(actions=["ecr:GetAuthorizationToken"], resources=["*"]))
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
            resources=[image_repository_arn],
        )
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=[
                "logs:CreateLogGroup",
                "logs:CreateLogStream",
                "logs:PutLogEvents",
                "logs:DescribeLogStreams",
            ],
            resources=[log_group_arn],
        )
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["cloudwatch:PutMetricData"],
            resources=["*"],
            conditions={"StringLike": {"cloudwatch:namespace": ["/aws/sagemaker/*", "AWS/SageMaker"]}},
        )
    )
    acknowledge(
        role,
        resources={
            "*": wildcard_reason(["ecr:GetAuthorizationToken", "cloudwatch:PutMetricData"]),
            log_group_arn: "SageMaker names the container's log groups per job or endpoint.",
        },
    )


class ScikitLearnImage(Construct):
    """SageMaker's scikit-learn image in the stack's region: its URI and its ECR repository's ARN.

    A stack that needs the image builds its own (a mapping of another stack cannot be referred to).

    Attributes
    ----------
    uri, repository_arn
        The image's URI (training jobs run it), its repository's ARN (roles pull from it).
    """

    def __init__(self, scope: Construct, construct_id: str, *, version: str) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        images = scikit_learn_images(version)
        mapping = cdk.CfnMapping(
            self,
            "Regions",
            # With a concrete region (the CDK CLI's), the lookup is made at synth and the mapping left out.
            lazy=True,
            mapping={region: {"uri": uri, "account": uri.split(".", 1)[0]} for region, uri in images.items()},
        )
        self.uri = mapping.find_in_map(stack.region, "uri")
        self.repository_arn = stack.format_arn(
            service="ecr",
            account=mapping.find_in_map(stack.region, "account"),
            resource="repository",
            resource_name=IMAGE_REPOSITORY,
        )


class _CreateTrainingJob(tasks.SageMakerCreateTrainingJob):
    """CDK's typed task, plus managed spot training, which its props lack.

    The spot fields go into the rendered state's ``Parameters``, as the CreateTrainingJob API names them:
    ``EnableManagedSpotTraining`` and ``StoppingCondition.MaxWaitTimeInSeconds``.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, spot_max_wait: cdk.Duration | None, **props: Any
    ) -> None:
        super().__init__(scope, construct_id, **props)
        self._spot_max_wait = spot_max_wait

    def to_state_json(self, query_language: sfn.QueryLanguage | None = None) -> dict[str, Any]:
        """The task's state, with the spot fields when spot training is on."""
        state = dict(super().to_state_json(query_language))
        if self._spot_max_wait is not None:
            parameters = dict(state["Parameters"])
            parameters["EnableManagedSpotTraining"] = True
            parameters["StoppingCondition"] = {
                **parameters["StoppingCondition"],
                "MaxWaitTimeInSeconds": self._spot_max_wait.to_seconds(),
            }
            state["Parameters"] = parameters
        return state


class TrainingJob(Construct):
    """The training job's definition, shared by every run: role, code asset and the `.sync` task.

    The job is network-isolated: it reads only its channels (the run's splits, configuration and
    champion) and writes only its output prefix, both under the data bucket. ``team_code`` is the team
    code folder (``Platform.team_code``) the source archive carries, with its wheels; None when every
    dataset trains a built-in family.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        data_bucket: s3.IBucket,
        key: kms.IKey,
        settings: TrainingInfraConfig,
        team_code: Path | None,
    ) -> None:
        super().__init__(scope, construct_id)
        image = ScikitLearnImage(self, "Image", version=settings.image_version)
        self.image_uri = image.uri
        self.image_repository_arn = image.repository_arn
        self.source = s3_assets.Asset(
            self,
            "Source",
            path=str(PROJECT_ROOT / "training"),
            # Hashed on the archive itself: spec/, the team's code and the wheels change it as training/ does.
            asset_hash_type=cdk.AssetHashType.OUTPUT,
            bundling=training_source_bundling(team_code),
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description="Training jobs: read the run's channels, write the run's output; nothing else.",
        )
        reads = {
            SPLITS_PATTERN: "The job reads its run's splits: datasets/<name>/splits/<run>/.",
            f"{RUNS_PREFIX}*/config/*": "The job reads its run's configuration channel.",
            f"{RUNS_PREFIX}*/champion/*": "The job reads its run's champion channel.",
        }
        writes = {f"{RUNS_PREFIX}*/training/*": "The job writes its run's model archive only."}
        for pattern in reads:
            data_bucket.grant_read(self.role, pattern)
        for pattern in writes:
            data_bucket.grant_put(self.role, pattern)
        # The source archive itself, not the whole CDK assets bucket (Asset.grant_read's scope): that bucket
        # holds every asset of every app deployed to the account. SageMaker lists an S3Prefix channel
        # before it downloads it (CreateTrainingJob's execution role permissions: s3:ListBucket on the
        # input bucket, https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-roles.html); the
        # listing is held to the archive's own key.
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"],
                resources=[self.source.bucket.arn_for_objects(self.source.s3_object_key)],
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[self.source.bucket.bucket_arn],
                conditions={"StringEquals": {"s3:prefix": [self.source.s3_object_key]}},
            )
        )
        key.grant_encrypt_decrypt(self.role)
        grant_container_basics(
            self.role,
            image_repository_arn=self.image_repository_arn,
            log_groups="/aws/sagemaker/TrainingJobs*",
        )
        acknowledge(
            self.role,
            resources={data_bucket.arn_for_objects(p): r for p, r in (reads | writes).items()},
            actions=cdk_grant_reasons("the job's channels, model archive and volume"),
        )
        self._settings = settings
        self._key = key

    @property
    def code_path(self) -> str:
        """Where the source archive lands in the container: SageMaker keeps an object's base name."""
        return f"{CONTAINER_CHANNELS_DIR}/{CODE_CHANNEL}/{self.source.s3_object_key.rsplit('/', 1)[-1]}"

    def _code_channel(self) -> tasks.Channel:
        return tasks.Channel(
            channel_name=CODE_CHANNEL,
            data_source=tasks.DataSource(
                s3_data_source=tasks.S3DataSource(
                    s3_location=tasks.S3Location.from_bucket(self.source.bucket, self.source.s3_object_key),
                    s3_data_type=tasks.S3DataType.S3_PREFIX,
                )
            ),
        )

    def task(self, scope: Construct, construct_id: str) -> tasks.SageMakerCreateTrainingJob:
        """The `.sync` task: runs the job named by the prepare step on the channels it wrote."""
        settings = self._settings
        channels = [
            tasks.Channel(
                channel_name=name,
                data_source=tasks.DataSource(
                    s3_data_source=tasks.S3DataSource(
                        s3_location=tasks.S3Location.from_json_expression(f"$.prepare.{name}_uri"),
                        s3_data_type=tasks.S3DataType.S3_PREFIX,
                    )
                ),
            )
            for name in CHANNELS
        ]
        channels.append(self._code_channel())
        max_runtime = cdk.Duration.minutes(settings.max_runtime_minutes)
        return _CreateTrainingJob(
            scope,
            construct_id,
            spot_max_wait=(
                cdk.Duration.minutes(settings.spot_max_wait_minutes) if settings.managed_spot else None
            ),
            training_job_name=sfn.JsonPath.string_at("$.prepare.training_job_name"),
            algorithm_specification=tasks.AlgorithmSpecification(
                training_image=tasks.DockerImage.from_registry(self.image_uri),
                training_input_mode=tasks.InputMode.FILE,
            ),
            input_data_config=channels,
            output_data_config=tasks.OutputDataConfig(
                s3_output_location=tasks.S3Location.from_json_expression("$.prepare.output_uri"),
                encryption_key=self._key,
            ),
            resource_config=tasks.ResourceConfig(
                instance_count=1,
                instance_type=ec2.InstanceType(settings.instance_type.removeprefix("ml.")),
                volume_size=cdk.Size.gibibytes(settings.volume_size_gb),
                # Instance store (ml.m5d, ml.g4dn...) is encrypted by the instance; SageMaker refuses a key.
                volume_encryption_key=None if settings.local_storage else self._key,
            ),
            stopping_condition=tasks.StoppingCondition(max_runtime=max_runtime),
            hyperparameters={
                "sagemaker_program": "train.py",
                "sagemaker_submit_directory": self.code_path,
                "dataset": sfn.JsonPath.string_at("$.dataset"),
                "dataset_version": sfn.JsonPath.string_at("$.dataset_version"),
                "run_id": sfn.JsonPath.string_at("$.run_name"),
                "code_version": self.source.asset_hash,
            },
            enable_network_isolation=True,
            # The task would add its own grants for the channels' dynamic locations: S3 on "*". The role
            # has what the job needs, granted above.
            role=self.role.without_policy_updates(),
            integration_pattern=sfn.IntegrationPattern.RUN_JOB,
            result_path="$.training",
            result_selector={
                "job_name.$": "$.TrainingJobName",
                "model_artifacts.$": "$.ModelArtifacts.S3ModelArtifacts",
            },
        )
