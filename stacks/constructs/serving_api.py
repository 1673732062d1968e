"""The invocation API of serverless endpoints: IAM-authenticated, throttled, and capturing.

SageMaker Serverless Inference has no data capture. Datasets served serverless get ``POST
/<dataset>/invocations`` on one REST API: SigV4-signed requests only (``AWS_IAM``), throttled per
dataset (``serving.capture_api``), answered by ``lambdas/serving_api`` which invokes the endpoint and
writes a sample of requests and answers where real-time endpoints' captures go (under the model version
the endpoint runs, which it learns with ``DescribeEndpoint``). Callers get the
managed policy ``InvokePolicyArn`` (a stack output) attached to their role.
"""

from __future__ import annotations

import json

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from domain.declared import SERVING_FILE
from domain.deployment.serving_config import ServingConfig
from domain.names import capture_prefix, endpoint_name
from stacks.constructs.nag import acknowledge_rule, cdk_grant_reasons, finding
from stacks.constructs.platform_function import Invocation, PlatformFunction
from stacks.constructs.scanners import justify

STAGE = "v1"


class ServingApi(Construct):
    """``POST /<dataset>/invocations`` for every serverless dataset."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        project: str,
        serving: dict[str, ServingConfig],
        data_bucket: s3.IBucket,
        key: kms.IKey,
        architecture: lambda_.Architecture,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.datasets = sorted(name for name, config in serving.items() if config.mode == "serverless")
        self.handler = PlatformFunction(
            self,
            "Function",
            folder="serving_api",
            description="Invokes serverless endpoints and captures a sample of requests and answers.",
            key=key,
            architecture=architecture,
            log_retention=log_retention,
            generated_files={
                SERVING_FILE: json.dumps({n: c.model_dump(mode="json") for n, c in serving.items()})
            },
            environment={
                "PROJECT": project,
                "DATA_BUCKET": data_bucket.bucket_name,
                "KMS_KEY_ARN": key.key_arn,
            },
            invocation=Invocation.synchronous(
                "API Gateway's proxy integration of POST /<dataset>/invocations, which returns every "
                "error and throttle to the calling app as an HTTP error"
            ),
        )
        function = self.handler.function
        # DescribeEndpoint: the version each endpoint runs, whose prefix its captures go under.
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["sagemaker:InvokeEndpoint", "sagemaker:DescribeEndpoint"],
                resources=[
                    stack.format_arn(
                        service="sagemaker", resource="endpoint", resource_name=endpoint_name(project, d)
                    )
                    for d in self.datasets
                ],
            )
        )
        captures = [f"{capture_prefix(dataset)}*" for dataset in self.datasets]
        for prefix in captures:
            data_bucket.grant_put(function, prefix)
        key.grant_encrypt(function)
        grants = cdk_grant_reasons("encrypted captures")
        self.handler.acknowledge(
            resources={
                data_bucket.arn_for_objects(p): "Its captured requests and answers." for p in captures
            },
            actions={k: v for k, v in grants.items() if k.startswith(("s3:Abort", "kms:"))},
        )
        access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=log_retention,
            encryption_key=key,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        method_options = {
            f"/{dataset}/invocations/POST": apigateway.MethodDeploymentOptions(
                throttling_rate_limit=serving[dataset].capture_api.rate_per_second,
                throttling_burst_limit=serving[dataset].capture_api.burst,
            )
            for dataset in self.datasets
        }
        self.api = apigateway.RestApi(
            self,
            "Api",
            rest_api_name=f"{project}-serving",
            description="Invocations of the platform's serverless endpoints (captured for drift monitoring).",
            endpoint_types=[apigateway.EndpointType.REGIONAL],
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=cdk.RemovalPolicy.DESTROY,
            deploy_options=apigateway.StageOptions(
                stage_name=STAGE,
                tracing_enabled=True,
                metrics_enabled=True,
                logging_level=apigateway.MethodLoggingLevel.INFO,
                data_trace_enabled=False,  # requests carry customer data: not in execution logs
                access_log_destination=apigateway.LogGroupLogDestination(access_logs),
                access_log_format=apigateway.AccessLogFormat.json_with_standard_fields(
                    caller=True,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
                method_options=method_options,
            ),
        )
        justify(
            self.api.deployment_stage,
            "CKV_AWS_120",
            "No cache: the stage serves only POST /<dataset>/invocations, and each is a prediction that "
            "must reach the model in service (and may be sampled for drift capture); a cached answer "
            "would come from a previous model version after a deployment.",
        )
        # The payload itself is checked by the model's own code against the dataset's contract (4xx answers).
        validator = self.api.add_request_validator(
            "Validator", validate_request_body=True, validate_request_parameters=True
        )
        integration = apigateway.LambdaIntegration(function, proxy=True)
        methods = []
        for dataset in self.datasets:
            resource = self.api.root.add_resource(dataset).add_resource("invocations")
            methods.append(
                resource.add_method(
                    "POST",
                    integration,
                    authorization_type=apigateway.AuthorizationType.IAM,
                    request_validator=validator,
                )
            )
        self.invoke_policy = iam.ManagedPolicy(
            self,
            "InvokePolicy",
            description="Lets an app invoke the platform's serverless endpoints through the serving API.",
            statements=[
                iam.PolicyStatement(
                    actions=["execute-api:Invoke"],
                    resources=[
                        self.api.arn_for_execute_api("POST", f"/{d}/invocations", STAGE)
                        for d in self.datasets
                    ],
                )
            ],
        )
        acknowledge_rule(
            self.api.deployment_stage,
            "AwsSolutions-APIG3",
            "Every method is IAM-authenticated and throttled; attach the account's WAF web ACL to the "
            "stage where policy requires one.",
        )
        for method in methods:
            acknowledge_rule(
                method, "AwsSolutions-COG4", "Callers are AWS principals (apps, services): IAM, not Cognito."
            )
        # cloud_watch_role: the account's API Gateway logging role, with AWS's managed policy for it.
        push_logs = iam.ManagedPolicy.from_aws_managed_policy_name(
            "service-role/AmazonAPIGatewayPushToCloudWatchLogs"
        ).managed_policy_arn
        acknowledge_rule(
            self.api.node.find_child("CloudWatchRole"),
            f"AwsSolutions-IAM4[{finding(self.api, push_logs, kind='Policy')}]",
            "API Gateway's account-level logging role: AWS's managed policy for that role, which API Gateway "
            "uses to write execution and access logs of every API in the account and region.",
        )
