"""A tiny CDK app that the local cloud's integration tests deploy: one of each resource type it handles.

Two stacks, so that deploying exercises dependency order and cross-stack references: ``Data`` holds
the stateful resources (KMS key, versioned bucket that tells EventBridge about new objects, DynamoDB
table, SNS topic, custom event bus); ``Functions`` holds small Lambda functions (each a folder with its
own ``handler.py``), a dependency layer, the EventBridge rules that target them, an alarm, a state
machine, and a custom resource whose provider is one of the functions.

Synthesize with ``CDK_OUTDIR=<dir> python app.py``.
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

HERE = Path(__file__).resolve().parent
FUNCTIONS = HERE / "functions"
INCOMING_PREFIX = "incoming/"
BUS_NAME = "localcloud-fixture-bus"
ECHO_DETAIL_TYPE = "fixture.echo"
FAIL_DETAIL_TYPE = "fixture.fail"
SLEEP_DETAIL_TYPE = "fixture.sleep"
GREETING_PARAMETER = "/localcloud-fixture/greeting"
RUNTIME = lambda_.Runtime.PYTHON_3_12


class DataStack(cdk.Stack):
    """The stateful resources: key, bucket, table, topic, bus."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(self, "Key", enable_key_rotation=True, removal_policy=cdk.RemovalPolicy.DESTROY)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            event_bridge_enabled=True,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=self.key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        self.topic = sns.Topic(self, "Topic", master_key=self.key, enforce_ssl=True)
        self.bus = events.EventBus(self, "Bus", event_bus_name=BUS_NAME)
        cdk.CfnOutput(self, "BucketName", value=self.bucket.bucket_name)
        cdk.CfnOutput(self, "TableName", value=self.table.table_name)
        cdk.CfnOutput(self, "TopicArn", value=self.topic.topic_arn)
        cdk.CfnOutput(self, "BusName", value=self.bus.event_bus_name)
        cdk.CfnOutput(self, "KeyArn", value=self.key.key_arn)


class FunctionsStack(cdk.Stack):
    """Three functions and the rules that deliver to them; an alarm, a state machine, a custom resource."""

    def __init__(self, scope: Construct, construct_id: str, *, data: DataStack) -> None:
        super().__init__(scope, construct_id)
        layer = lambda_.LayerVersion(
            self,
            "Dependencies",
            code=lambda_.Code.from_asset(str(HERE / "layer")),
            compatible_runtimes=[RUNTIME],
        )
        recorder = self._function(
            "Recorder",
            "recorder",
            timeout_seconds=10,
            layers=[layer],
            environment={"TABLE_NAME": data.table.table_name, "GREETING": "hello from the recorder"},
            log_group=logs.LogGroup(
                self,
                "RecorderLogs",
                retention=logs.RetentionDays.ONE_WEEK,
                removal_policy=cdk.RemovalPolicy.DESTROY,
            ),
        )
        data.table.grant_read_write_data(recorder)
        failing = self._function(
            "Failing", "failing", timeout_seconds=5, environment={"FAILURE_MESSAGE": "the fixture fails"}
        )
        sleeper = self._function("Sleeper", "sleeper", timeout_seconds=1, environment={})
        # Asynchronous invocations that fail for good: a record to a function and the event to a queue; a
        # timed-out one's record to a queue.
        dead_letters, failures = sqs.Queue(self, "DoomedDeadLetters"), sqs.Queue(self, "DrowsyFailures")
        doomed = self._function(
            "Doomed",
            "failing",
            timeout_seconds=5,
            environment={"FAILURE_MESSAGE": "the doomed fixture fails"},
            on_failure=destinations.LambdaDestination(recorder),
            dead_letter_queue=dead_letters,
        )
        drowsy = self._function(
            "Drowsy",
            "sleeper",
            timeout_seconds=1,
            environment={},
            on_failure=destinations.SqsDestination(failures),
        )
        cdk.CfnOutput(self, "DoomedName", value=doomed.function_name)
        cdk.CfnOutput(self, "DoomedArn", value=doomed.function_arn)
        cdk.CfnOutput(self, "DoomedDeadLettersUrl", value=dead_letters.queue_url)
        cdk.CfnOutput(self, "DrowsyName", value=drowsy.function_name)
        cdk.CfnOutput(self, "DrowsyFailuresUrl", value=failures.queue_url)

        events.Rule(
            self,
            "UploadsToRecorder",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={
                    "bucket": {"name": [data.bucket.bucket_name]},
                    "object": {"key": [{"prefix": INCOMING_PREFIX}]},
                },
            ),
            targets=[targets.LambdaFunction(recorder)],
        )
        for rule_id, detail_type, function in (
            ("EchoToRecorder", ECHO_DETAIL_TYPE, recorder),
            ("FailToFailing", FAIL_DETAIL_TYPE, failing),
            ("SleepToSleeper", SLEEP_DETAIL_TYPE, sleeper),
        ):
            events.Rule(
                self,
                rule_id,
                event_bus=data.bus,
                event_pattern=events.EventPattern(detail_type=[detail_type]),
                targets=[targets.LambdaFunction(function)],
            )
        cloudwatch.Alarm(
            self,
            "RecorderErrors",
            metric=recorder.metric_errors(period=cdk.Duration.minutes(1)),
            threshold=1,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        machine = sfn.StateMachine(
            self,
            "Machine",
            definition_body=sfn.DefinitionBody.from_chainable(sfn.Pass(self, "Echo", result_path="$.echoed")),
        )
        provider = self._function("Provider", "provider", timeout_seconds=30, environment={})
        greeting = cdk.CustomResource(
            self,
            "Greeting",
            service_token=provider.function_arn,
            properties={"ParameterName": GREETING_PARAMETER, "Greeting": "hello from a custom resource"},
        )
        provider.add_to_role_policy(
            iam.PolicyStatement(
                actions=["ssm:PutParameter", "ssm:DeleteParameter"],
                resources=[
                    self.format_arn(service="ssm", resource="parameter", resource_name=GREETING_PARAMETER[1:])
                ],
            )
        )
        cdk.CfnOutput(self, "GreetingOutput", value=greeting.get_att_string("Greeting"))
        cdk.CfnOutput(self, "MachineArn", value=machine.state_machine_arn)
        cdk.CfnOutput(self, "RecorderName", value=recorder.function_name)
        cdk.CfnOutput(self, "FailingName", value=failing.function_name)
        cdk.CfnOutput(self, "SleeperName", value=sleeper.function_name)

    def _function(
        self,
        construct_id: str,
        folder: str,
        *,
        timeout_seconds: int,
        environment: dict[str, str],
        **kwargs: object,
    ) -> lambda_.Function:
        return lambda_.Function(
            self,
            construct_id,
            runtime=RUNTIME,
            handler="handler.handler",
            code=lambda_.Code.from_asset(str(FUNCTIONS / folder), exclude=["__pycache__", "*.pyc"]),
            timeout=cdk.Duration.seconds(timeout_seconds),
            memory_size=256,
            environment=environment,
            **kwargs,  # type: ignore[arg-type]
        )


def build(app: cdk.App) -> None:
    """Add the fixture's stacks to ``app``."""
    data = DataStack(app, "LocalCloudFixtureData")
    FunctionsStack(app, "LocalCloudFixtureFunctions", data=data)


if __name__ == "__main__":
    fixture_app = cdk.App()
    build(fixture_app)
    fixture_app.synth()
