"""A tiny CDK app for the local cloud's Step Functions and training tests: a training pipeline in miniature.

One stack: a bucket (datasets and models), the fixture's training code as a ``sourcedir.tar.gz`` asset,
a custom event bus, and two state machines. ``Pipeline`` trains with CDK's
``SageMakerCreateTrainingJob`` (``RUN_JOB``, so ``createTrainingJob.sync``), then keeps the model
artifact; a failed job is caught and ends in a ``Fail`` state carrying the job's description as cause.
A rule on the bus starts it for every "Dataset Version Accepted" event, through an input transformer;
another one targets it with a role that may not start it, and a dead-letter queue.
``Probe`` runs one SDK task (``s3:headObject``) whose result holds a timestamp.

Synthesize with ``synthesize(outdir)``; the training code comes from ``training_code/``.
"""

from __future__ import annotations

import os
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from tests.integration.localcloud_fixtures.training_support import TRAINING_IMAGE, sourcedir_archive

STACK = "LocalCloudFixtureTraining"
BUS_NAME = "localcloud-training-bus"
EVENT_SOURCE = "mlops.fixture"
ACCEPTED_DETAIL_TYPE = "Dataset Version Accepted"
UNGRANTED_DETAIL_TYPE = "fixture.ungranted"
DATASET_PREFIX = "datasets/churn/"
METRIC_REGEX = r"validation:accuracy=([0-9.]+)"


class TrainingStack(cdk.Stack):
    """Bucket, code asset, bus, the training pipeline and the SDK probe."""

    def __init__(self, scope: Construct, construct_id: str, *, code_archive: Path) -> None:
        super().__init__(scope, construct_id)
        bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        code = s3_assets.Asset(self, "TrainingCode", path=str(code_archive))
        bus = events.EventBus(self, "Bus", event_bus_name=BUS_NAME)
        train = tasks.SageMakerCreateTrainingJob(
            self,
            "Train",
            integration_pattern=sfn.IntegrationPattern.RUN_JOB,
            training_job_name=sfn.JsonPath.string_at("$.jobName"),
            algorithm_specification=tasks.AlgorithmSpecification(
                training_image=tasks.DockerImage.from_registry(TRAINING_IMAGE),
                training_input_mode=tasks.InputMode.FILE,
                metric_definitions=[tasks.MetricDefinition(name="validation:accuracy", regex=METRIC_REGEX)],
            ),
            input_data_config=[
                tasks.Channel(
                    channel_name="train",
                    data_source=tasks.DataSource(
                        s3_data_source=tasks.S3DataSource(
                            s3_location=tasks.S3Location.from_bucket(bucket, DATASET_PREFIX),
                            s3_data_type=tasks.S3DataType.S3_PREFIX,
                        )
                    ),
                )
            ],
            output_data_config=tasks.OutputDataConfig(
                s3_output_location=tasks.S3Location.from_bucket(bucket, "models")
            ),
            hyperparameters={
                "sagemaker_program": "train.py",
                "sagemaker_submit_directory": code.s3_object_url,
                "mode": sfn.JsonPath.string_at("$.mode"),
                "message": sfn.JsonPath.string_at("$.datasetVersion"),
            },
            stopping_condition=tasks.StoppingCondition(max_runtime=cdk.Duration.seconds(60)),
            result_path="$.training",
        )
        code.grant_read(train)
        trained = sfn.Pass(
            self,
            "Trained",
            parameters={
                "datasetVersion": sfn.JsonPath.string_at("$.datasetVersion"),
                "modelArtifact": sfn.JsonPath.string_at("$.training.ModelArtifacts.S3ModelArtifacts"),
                "status": sfn.JsonPath.string_at("$.training.TrainingJobStatus"),
            },
        )
        failed = sfn.Fail(self, "TrainingFailed", error="TrainingFailed", cause_path="$.failure.Cause")
        train.add_catch(failed, errors=[sfn.Errors.TASKS_FAILED], result_path="$.failure")
        pipeline = sfn.StateMachine(
            self, "Pipeline", definition_body=sfn.DefinitionBody.from_chainable(train.next(trained))
        )
        events.Rule(
            self,
            "DatasetAccepted",
            event_bus=bus,
            event_pattern=events.EventPattern(source=[EVENT_SOURCE], detail_type=[ACCEPTED_DETAIL_TYPE]),
            targets=[
                targets.SfnStateMachine(
                    pipeline,
                    input=events.RuleTargetInput.from_object(
                        {
                            "jobName": events.EventField.from_path("$.detail.jobName"),
                            "datasetVersion": events.EventField.from_path("$.detail.version"),
                            "mode": "fit",
                        }
                    ),
                )
            ],
        )
        ungranted = iam.Role(
            self, "UngrantedRole", assumed_by=iam.ServicePrincipal("events.amazonaws.com")
        ).without_policy_updates()
        dead_letters = sqs.Queue(self, "DeadLetters", enforce_ssl=True)
        events.Rule(
            self,
            "Ungranted",
            event_bus=bus,
            event_pattern=events.EventPattern(detail_type=[UNGRANTED_DETAIL_TYPE]),
            targets=[targets.SfnStateMachine(pipeline, role=ungranted, dead_letter_queue=dead_letters)],
        )
        head = tasks.CallAwsService(
            self,
            "HeadObject",
            service="s3",
            action="headObject",
            # CDK's default action would be "s3:headObject", which IAM does not have: HeadObject is GetObject.
            iam_action="s3:GetObject",
            parameters={"Bucket": bucket.bucket_name, "Key": sfn.JsonPath.string_at("$.key")},
            iam_resources=[bucket.arn_for_objects("*")],
        )
        probe = sfn.StateMachine(self, "Probe", definition_body=sfn.DefinitionBody.from_chainable(head))
        cdk.CfnOutput(self, "BucketName", value=bucket.bucket_name)
        cdk.CfnOutput(self, "BusName", value=bus.event_bus_name)
        cdk.CfnOutput(self, "PipelineArn", value=pipeline.state_machine_arn)
        cdk.CfnOutput(self, "ProbeArn", value=probe.state_machine_arn)
        cdk.CfnOutput(self, "CodeUri", value=code.s3_object_url)
        cdk.CfnOutput(self, "DeadLetterQueueUrl", value=dead_letters.queue_url)


def synthesize(outdir: Path) -> Path:
    """The app's cloud assembly in ``outdir``, synthesized unless it is there already."""
    if (outdir / "manifest.json").is_file():
        return outdir
    os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    outdir.mkdir(parents=True, exist_ok=True)
    archive = outdir.parent / f"{outdir.name}-sourcedir.tar.gz"
    archive.write_bytes(sourcedir_archive())
    app = cdk.App(outdir=str(outdir))
    TrainingStack(app, STACK, code_archive=archive)
    app.synth()
    return outdir
