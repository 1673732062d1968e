"""The table: each operation the platform calls, the IAM action(s) it needs and the ARN(s) they act on.

Read through :mod:`localcloud.iam.actions`, whose docstring gives the ARN templates' syntax. Keys are
(boto3 service name, method name); a DynamoDB ``Table`` method is keyed under "dynamodb". The S3 transfer
methods (``upload_file``, ``download_file``, ``copy``) are mapped to what every request they make needs.
The local cloud's front decides each request by its wire operation (:mod:`localcloud.iam.wire`), so the
requests those methods and the local cloud's own services send have entries too; ``WIRE_ONLY`` says why
each one that no code calls by name is there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Permission:
    """One IAM action on one resource type, with the template of the resource's ARN.

    ``resource_type`` is the resource type's key in the IAM reference ("" with ``arn`` "*" for an action
    on no resource); ``when`` names a parameter without which the permission is not needed, ``unless`` one
    with which it is not.
    """

    action: str
    resource_type: str
    arn: str
    when: str | None = None
    unless: str | None = None


def _p(action: str, resource_type: str = "", arn: str = "*", **condition: str) -> Permission:
    return Permission(action, resource_type, arn, **condition)


_OBJECT: Final = "arn:aws:s3:::{Bucket}/{Key}"
_BUCKET: Final = "arn:aws:s3:::{Bucket}"
_SM: Final = "arn:aws:sagemaker:{region}:{account}"
_TABLE: Final = "arn:aws:dynamodb:{region}:{account}:table/{TableName}"
# The stack's ARN ends in its id, which a request by name does not give: any id of that name.
_STACK: Final = "arn:aws:cloudformation:{region}:{account}:stack/{StackName}/*"
_QUEUE: Final = "arn:aws:sqs:{region}:{account}:{QueueName}"
_SCHEDULE: Final = "arn:aws:scheduler:{{region}}:{{account}}:schedule/{group}/{{Name}}"
# IAM sees a log group as its ARN with ":*" for the group's actions but tagging, as CloudWatch Logs'
# API reference says of LogGroup's "arn" (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_LogGroup.html).
_LOG_GROUP: Final = "arn:aws:logs:{region}:{account}:log-group:{logGroupName}:*"
_WRITE: Final = (_p("s3:PutObject", "object", _OBJECT),)
# The bucket-level calls: one action on the bucket each, not always named as the operation.
_BUCKET_ACTIONS: Final = {
    "list_objects_v2": "s3:ListBucket",
    "list_object_versions": "s3:ListBucketVersions",
    "create_bucket": "s3:CreateBucket",
    "put_bucket_policy": "s3:PutBucketPolicy",
    "put_bucket_encryption": "s3:PutEncryptionConfiguration",
    "put_bucket_logging": "s3:PutBucketLogging",
    "put_bucket_versioning": "s3:PutBucketVersioning",
    "put_public_access_block": "s3:PutBucketPublicAccessBlock",
    "get_bucket_notification_configuration": "s3:GetBucketNotification",
    "put_bucket_notification_configuration": "s3:PutBucketNotification",
}
# Reading a given version of an object is its own action.
_READ: Final = (
    _p("s3:GetObject", "object", _OBJECT, unless="VersionId"),
    _p("s3:GetObjectVersion", "object", _OBJECT, when="VersionId"),
)


# A server-side copy reads its source (a given version of it is its own action) and writes its target.
_COPY: Final = (
    _p(
        "s3:GetObject",
        "object",
        "arn:aws:s3:::{CopySource.Bucket}/{CopySource.Key}",
        unless="CopySource.VersionId",
    ),
    _p(
        "s3:GetObjectVersion",
        "object",
        "arn:aws:s3:::{CopySource.Bucket}/{CopySource.Key}",
        when="CopySource.VersionId",
    ),
    *_WRITE,
)
_TRAINING_JOB: Final = _SM + ":training-job/{TrainingJobName}"
_CREATE_TRAINING_JOB: Final = _p("sagemaker:CreateTrainingJob", "training-job", _TRAINING_JOB)
_DESCRIBE_TRAINING_JOB: Final = _p("sagemaker:DescribeTrainingJob", "training-job", _TRAINING_JOB)
_STOP_TRAINING_JOB: Final = _p("sagemaker:StopTrainingJob", "training-job", _TRAINING_JOB)
_INVOKE: Final = _p(
    "lambda:InvokeFunction", "function", "arn:aws:lambda:{region}:{account}:function:{FunctionName}"
)


def _passes(parameter: str, *, optional: bool = False) -> Permission:
    """Naming a role for a service to assume needs iam:PassRole on it."""
    return _p("iam:PassRole", "role", "{" + parameter + "}", **({"when": parameter} if optional else {}))


OPERATIONS: Final[dict[tuple[str, str], tuple[Permission, ...]]] = {
    # S3: objects.
    ("s3", "get_object"): _READ,
    ("s3", "head_object"): _READ,
    ("s3", "download_file"): (_p("s3:GetObject", "object", _OBJECT),),
    ("s3", "put_object"): _WRITE,
    ("s3", "upload_file"): _WRITE,
    ("s3", "create_multipart_upload"): _WRITE,
    ("s3", "upload_part"): _WRITE,
    ("s3", "complete_multipart_upload"): _WRITE,
    ("s3", "abort_multipart_upload"): (_p("s3:AbortMultipartUpload", "object", _OBJECT),),
    ("s3", "copy"): (
        _p("s3:GetObject", "object", "arn:aws:s3:::{CopySource.Bucket}/{CopySource.Key}"),
        *_WRITE,
    ),
    ("s3", "copy_object"): _COPY,
    ("s3", "upload_part_copy"): _COPY,
    # S3: buckets.
    **{("s3", operation): (_p(action, "bucket", _BUCKET),) for operation, action in _BUCKET_ACTIONS.items()},
    ("s3", "list_buckets"): (_p("s3:ListAllMyBuckets"),),
    # DynamoDB (the Table resource's methods).
    ("dynamodb", "get_item"): (_p("dynamodb:GetItem", "table", _TABLE),),
    ("dynamodb", "put_item"): (_p("dynamodb:PutItem", "table", _TABLE),),
    ("dynamodb", "update_item"): (_p("dynamodb:UpdateItem", "table", _TABLE),),
    ("dynamodb", "delete_item"): (_p("dynamodb:DeleteItem", "table", _TABLE),),
    ("dynamodb", "query"): (
        _p("dynamodb:Query", "table", _TABLE, unless="IndexName"),
        _p("dynamodb:Query", "index", _TABLE + "/index/{IndexName}", when="IndexName"),
    ),
    # A transaction of puts (the retraining policy's state and decisions) needs PutItem on each table.
    ("dynamodb", "transact_write_items"): (
        _p(
            "dynamodb:PutItem",
            "table",
            "arn:aws:dynamodb:{region}:{account}:table/{TransactItems[].Put.TableName}",
        ),
    ),
    # The retraining decisions of every dataset (mlops pipeline decisions, as the user).
    ("dynamodb", "scan"): (_p("dynamodb:Scan", "table", _TABLE),),
    ("dynamodb", "update_continuous_backups"): (_p("dynamodb:UpdateContinuousBackups", "table", _TABLE),),
    # SageMaker: the registry.
    ("sagemaker", "create_model_package_group"): (
        _p(
            "sagemaker:CreateModelPackageGroup",
            "model-package-group",
            _SM + ":model-package-group/{ModelPackageGroupName}",
        ),
    ),
    ("sagemaker", "describe_model_package_group"): (
        _p(
            "sagemaker:DescribeModelPackageGroup",
            "model-package-group",
            _SM + ":model-package-group/{ModelPackageGroupName}",
        ),
    ),
    ("sagemaker", "list_model_package_groups"): (_p("sagemaker:ListModelPackageGroups"),),
    # A versioned package's ARN is the group's name and a version the service assigns.
    ("sagemaker", "create_model_package"): (
        _p("sagemaker:CreateModelPackage", "model-package", _SM + ":model-package/{ModelPackageGroupName}/*"),
    ),
    ("sagemaker", "list_model_packages"): (_p("sagemaker:ListModelPackages"),),
    ("sagemaker", "describe_model_package"): (
        _p("sagemaker:DescribeModelPackage", "model-package", _SM + ":model-package/{ModelPackageName}"),
    ),
    ("sagemaker", "update_model_package"): (
        _p("sagemaker:UpdateModelPackage", "model-package", "{ModelPackageArn}"),
    ),
    ("sagemaker", "create_model_card"): (
        _p("sagemaker:CreateModelCard", "model-card", _SM + ":model-card/{ModelCardName}"),
    ),
    # SageMaker: models and endpoints.
    ("sagemaker", "create_model"): (
        _p("sagemaker:CreateModel", "model", _SM + ":model/{ModelName}"),
        _passes("ExecutionRoleArn"),
    ),
    ("sagemaker", "create_endpoint_config"): (
        _p(
            "sagemaker:CreateEndpointConfig", "endpoint-config", _SM + ":endpoint-config/{EndpointConfigName}"
        ),
    ),
    ("sagemaker", "describe_endpoint_config"): (
        _p(
            "sagemaker:DescribeEndpointConfig",
            "endpoint-config",
            _SM + ":endpoint-config/{EndpointConfigName}",
        ),
    ),
    ("sagemaker", "create_endpoint"): (
        _p("sagemaker:CreateEndpoint", "endpoint", _SM + ":endpoint/{EndpointName}"),
        _p("sagemaker:CreateEndpoint", "endpoint-config", _SM + ":endpoint-config/{EndpointConfigName}"),
    ),
    ("sagemaker", "update_endpoint"): (
        _p("sagemaker:UpdateEndpoint", "endpoint", _SM + ":endpoint/{EndpointName}"),
        _p("sagemaker:UpdateEndpoint", "endpoint-config", _SM + ":endpoint-config/{EndpointConfigName}"),
    ),
    ("sagemaker", "describe_endpoint"): (
        _p("sagemaker:DescribeEndpoint", "endpoint", _SM + ":endpoint/{EndpointName}"),
    ),
    ("sagemaker", "delete_endpoint"): (
        _p("sagemaker:DeleteEndpoint", "endpoint", _SM + ":endpoint/{EndpointName}"),
    ),
    ("sagemaker", "list_endpoints"): (_p("sagemaker:ListEndpoints"),),
    ("sagemaker-runtime", "invoke_endpoint"): (
        _p("sagemaker:InvokeEndpoint", "endpoint", _SM + ":endpoint/{EndpointName}"),
    ),
    # SageMaker: training jobs (started and watched by the state machines' .sync integration).
    ("sagemaker", "create_training_job"): (_CREATE_TRAINING_JOB, _passes("RoleArn")),
    ("sagemaker", "describe_training_job"): (
        _p("sagemaker:DescribeTrainingJob", "training-job", _TRAINING_JOB),
    ),
    ("sagemaker", "stop_training_job"): (_STOP_TRAINING_JOB,),
    # Step Functions.
    ("stepfunctions", "start_execution"): (_p("states:StartExecution", "statemachine", "{stateMachineArn}"),),
    ("stepfunctions", "describe_execution"): (_p("states:DescribeExecution", "execution", "{executionArn}"),),
    ("stepfunctions", "list_executions"): (_p("states:ListExecutions", "statemachine", "{stateMachineArn}"),),
    ("stepfunctions", "list_state_machines"): (_p("states:ListStateMachines"),),
    ("stepfunctions", "create_state_machine"): (
        _p(
            "states:CreateStateMachine",
            "statemachine",
            "arn:aws:states:{region}:{account}:stateMachine:{name}",
        ),
        _passes("roleArn"),
    ),
    ("stepfunctions", "update_state_machine"): (
        _p("states:UpdateStateMachine", "statemachine", "{stateMachineArn}"),
        _passes("roleArn", optional=True),
    ),
    # EventBridge Scheduler: the retraining policy's one-time deferral (in the default group unless named).
    **{
        ("scheduler", operation): (
            _p(action, "schedule", _SCHEDULE.format(group="{GroupName}"), when="GroupName"),
            _p(action, "schedule", _SCHEDULE.format(group="default"), unless="GroupName"),
            _passes("Target.RoleArn"),
        )
        for operation, action in (
            ("create_schedule", "scheduler:CreateSchedule"),
            ("update_schedule", "scheduler:UpdateSchedule"),
        )
    },
    # Notifications and metrics.
    ("sns", "publish"): (_p("sns:Publish", "topic", "{TopicArn}"),),
    ("sns", "set_topic_attributes"): (_p("sns:SetTopicAttributes", "topic", "{TopicArn}"),),
    # A request by QueueUrl (https://sqs.<region>.amazonaws.com/<account>/<name>) names the queue.
    ("sqs", "set_queue_attributes"): (_p("sqs:SetQueueAttributes", "queue", _QUEUE),),
    ("sqs", "get_queue_url"): (_p("sqs:GetQueueUrl", "queue", _QUEUE),),
    # Sending to a queue with KmsMasterKeyId also needs its key: localcloud.iam.implied says so.
    ("sqs", "send_message"): (_p("sqs:SendMessage", "queue", _QUEUE),),
    ("events", "put_events"): (
        _p(
            "events:PutEvents",
            "event-bus",
            "arn:aws:events:{region}:{account}:event-bus/{Entries[].EventBusName}",
        ),
    ),
    ("cloudwatch", "describe_alarms"): (
        _p(
            "cloudwatch:DescribeAlarms", "alarm", "arn:aws:cloudwatch:{region}:{account}:alarm:{AlarmNames[]}"
        ),
    ),
    ("cloudwatch", "put_metric_alarm"): (
        _p("cloudwatch:PutMetricAlarm", "alarm", "arn:aws:cloudwatch:{region}:{account}:alarm:{AlarmName}"),
    ),
    # The local cloud's deployer (the administrator, as `cdk deploy`).
    ("cloudformation", "create_stack"): (_p("cloudformation:CreateStack", "stack", _STACK),),
    ("cloudformation", "update_stack"): (_p("cloudformation:UpdateStack", "stack", _STACK),),
    ("cloudformation", "delete_stack"): (_p("cloudformation:DeleteStack", "stack", _STACK),),
    ("cloudformation", "describe_stacks"): (
        _p("cloudformation:DescribeStacks", "stack", _STACK, when="StackName"),
        _p("cloudformation:DescribeStacks", unless="StackName"),
    ),
    ("cloudformation", "describe_stack_events"): (_p("cloudformation:DescribeStackEvents", "stack", _STACK),),
    ("cloudformation", "list_stack_resources"): (_p("cloudformation:ListStackResources", "stack", _STACK),),
    ("cloudformation", "update_termination_protection"): (
        _p("cloudformation:UpdateTerminationProtection", "stack", _STACK),
    ),
    ("ssm", "put_parameter"): (
        # A parameter's name starts with "/", which its ARN does not repeat.
        _p("ssm:PutParameter", "parameter", "arn:aws:ssm:{region}:{account}:parameter{Name}"),
    ),
    ("lambda", "update_function_configuration"): (
        _p(
            "lambda:UpdateFunctionConfiguration",
            "function",
            "arn:aws:lambda:{region}:{account}:function:{FunctionName}",
        ),
        _passes("Role", optional=True),
    ),
    ("lambda", "invoke"): (_INVOKE,),
    ("logs", "create_log_group"): (_p("logs:CreateLogGroup", "log-group", _LOG_GROUP),),
    ("logs", "put_retention_policy"): (_p("logs:PutRetentionPolicy", "log-group", _LOG_GROUP),),
    ("logs", "delete_retention_policy"): (_p("logs:DeleteRetentionPolicy", "log-group", _LOG_GROUP),),
    ("logs", "describe_log_groups"): (_p("logs:DescribeLogGroups"),),
    ("apigateway", "update_account"): (
        _p("apigateway:PATCH", "Account", "arn:aws:apigateway:{region}::/account"),
    ),
    # The least-privilege report lists the roles and reads each one's tags (its stack and logical id), as
    # the administrator. A role with a path has it in its ARN, which a request by name does not give: the
    # platform's have none.
    ("iam", "list_roles"): (_p("iam:ListRoles"),),
    ("iam", "list_role_tags"): (_p("iam:ListRoleTags", "role", "arn:aws:iam::{account}:role/{RoleName}"),),
    # AWS answers GetCallerIdentity whatever the caller's policies say: no permission is needed.
    ("sts", "get_caller_identity"): (),
}

# The rule Step Functions manages to hear of a .sync job's end, in the state machine's account.
_SYNC_RULE: Final = (
    "arn:aws:events:{region}:{account}:rule/StepFunctionsGetEventsForSageMakerTrainingJobsRule"
)

# Entries no code of ours calls by name, but requests on the wire make: what they are there for. The
# local cloud's front decides each request by its wire operation, and these are the ones the S3 transfer
# methods (upload_file, download_file, copy) and the Step Functions interpreter (a boto3 client on the
# server, for the integrations below) send.
WIRE_ONLY: Final[dict[tuple[str, str], str]] = {
    ("s3", "copy_object"): "the copy transfer method's copy of an object under its multipart threshold",
    ("s3", "upload_part_copy"): "the copy transfer method's parts of an object over its multipart threshold",
    ("lambda", "invoke"): "Step Functions' lambda:invoke integration",
    ("sagemaker", "create_training_job"): "Step Functions' sagemaker:createTrainingJob.sync integration",
    ("sagemaker", "describe_training_job"): "Step Functions' .sync wait for the training job's end",
    ("sagemaker", "stop_training_job"): "Step Functions' .sync stop of the job when the execution stops",
    (
        "sqs",
        "send_message",
    ): "Step Functions' sqs:sendMessage integration (moto's interpreter, as the machine's role)",
    ("sqs", "get_queue_url"): "a queue resolved by name before a send (boto3's get_queue_by_name, the CLI)",
}

# The state machines' service integrations, by their Resource after "arn:aws:states:::".
INTEGRATIONS: Final[dict[str, tuple[Permission, ...]]] = {
    "lambda:invoke": (_INVOKE,),
    "sns:publish": (_p("sns:Publish", "topic", "{TopicArn}"),),
    "sagemaker:createTrainingJob.sync": (
        _CREATE_TRAINING_JOB,
        _DESCRIBE_TRAINING_JOB,
        _STOP_TRAINING_JOB,
        _p("events:PutTargets", "rule-on-default-event-bus", _SYNC_RULE),
        _p("events:PutRule", "rule-on-default-event-bus", _SYNC_RULE),
        _p("events:DescribeRule", "rule-on-default-event-bus", _SYNC_RULE),
        _passes("RoleArn"),
    ),
    "aws-sdk:sagemaker:describeEndpoint": (
        _p("sagemaker:DescribeEndpoint", "endpoint", _SM + ":endpoint/{EndpointName}"),
    ),
}
