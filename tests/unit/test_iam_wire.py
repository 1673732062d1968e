"""A signed request, as boto3 sends it, read back as the boto3 call it is (localcloud.iam.wire).

Every wire operation of the IAM table, with a realistic call each: the parsed call must need the same
actions on the same ARNs as the call itself.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore import xform_name
from botocore.session import get_session

from localcloud.iam.actions import OPERATIONS, required
from localcloud.iam.wire import parse
from tests.wire_requests import ACCOUNT, REGION, client, sent, wire

SM = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/mlops-training"
MACHINE = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:mlops-training"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:mlops-alerts"
STACK = "MlopsFoundation"
OBJECT = {"Bucket": "mlops-data", "Key": "incoming/churn/2026-01-01.csv"}
MULTIPART = {**OBJECT, "UploadId": "upload-1"}
SOURCE = {"Bucket": "mlops-staging", "Key": "runs/1/model.tar.gz"}
TABLE = {"TableName": "mlops-runs", "Key": {"run_id": {"S": "run-1"}}}

# One realistic call per wire operation of the table.
EXAMPLES: dict[tuple[str, str], dict[str, Any]] = {
    ("s3", "get_object"): OBJECT,
    ("s3", "head_object"): {**OBJECT, "VersionId": "v3"},
    ("s3", "put_object"): {**OBJECT, "Body": b"a,b\n1,2\n", "ServerSideEncryption": "aws:kms"},
    ("s3", "create_multipart_upload"): OBJECT,
    ("s3", "upload_part"): {**MULTIPART, "PartNumber": 2, "Body": b"part"},
    ("s3", "complete_multipart_upload"): {
        **MULTIPART,
        "MultipartUpload": {"Parts": [{"ETag": '"e1"', "PartNumber": 1}]},
    },
    ("s3", "abort_multipart_upload"): MULTIPART,
    ("s3", "copy_object"): {"Bucket": "mlops-models", "Key": "churn/model.tar.gz", "CopySource": SOURCE},
    ("s3", "upload_part_copy"): {
        "Bucket": "mlops-models",
        "Key": "churn/model.tar.gz",
        "CopySource": {**SOURCE, "VersionId": "v7"},
        "PartNumber": 1,
        "UploadId": "upload-2",
    },
    ("s3", "list_objects_v2"): {"Bucket": "mlops-data", "Prefix": "incoming/"},
    ("s3", "list_object_versions"): {"Bucket": "mlops-data", "Prefix": "incoming/"},
    ("s3", "create_bucket"): {"Bucket": "mlops-data"},
    ("s3", "put_bucket_policy"): {
        "Bucket": "mlops-data",
        "Policy": '{"Version": "2012-10-17", "Statement": []}',
    },
    ("s3", "put_bucket_encryption"): {
        "Bucket": "mlops-data",
        "ServerSideEncryptionConfiguration": {
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]
        },
    },
    ("s3", "put_bucket_logging"): {"Bucket": "mlops-data", "BucketLoggingStatus": {}},
    ("s3", "put_bucket_versioning"): {
        "Bucket": "mlops-data",
        "VersioningConfiguration": {"Status": "Enabled"},
    },
    ("s3", "put_public_access_block"): {
        "Bucket": "mlops-data",
        "PublicAccessBlockConfiguration": {"BlockPublicAcls": True},
    },
    ("s3", "get_bucket_notification_configuration"): {"Bucket": "mlops-data"},
    ("s3", "put_bucket_notification_configuration"): {
        "Bucket": "mlops-data",
        "NotificationConfiguration": {"EventBridgeConfiguration": {}},
    },
    ("s3", "list_buckets"): {},
    ("dynamodb", "get_item"): TABLE,
    ("dynamodb", "put_item"): {"TableName": "mlops-runs", "Item": TABLE["Key"]},
    ("dynamodb", "update_item"): {**TABLE, "UpdateExpression": "SET #s = :s"},
    ("dynamodb", "delete_item"): TABLE,
    ("dynamodb", "query"): {
        "TableName": "mlops-runs",
        "IndexName": "by-status",
        "KeyConditionExpression": "#s = :s",
        "ExpressionAttributeNames": {"#s": "status"},
        "ExpressionAttributeValues": {":s": {"S": "running"}},
    },
    ("dynamodb", "scan"): {"TableName": "mlops-decisions"},
    ("dynamodb", "transact_write_items"): {
        "TransactItems": [
            {
                "Put": {
                    "TableName": "mlops-decisions",
                    "Item": {"dataset": {"S": "churn"}, "record": {"S": "state"}},
                }
            }
        ]
    },
    ("dynamodb", "update_continuous_backups"): {
        "TableName": "mlops-runs",
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
    },
    ("sagemaker", "create_model_package_group"): {"ModelPackageGroupName": "churn"},
    ("sagemaker", "describe_model_package_group"): {"ModelPackageGroupName": "churn"},
    ("sagemaker", "list_model_package_groups"): {},
    ("sagemaker", "create_model_package"): {
        "ModelPackageGroupName": "churn",
        "ModelApprovalStatus": "PendingManualApproval",
    },
    ("sagemaker", "list_model_packages"): {"ModelPackageGroupName": "churn"},
    ("sagemaker", "describe_model_package"): {"ModelPackageName": f"{SM}:model-package/churn/3"},
    ("sagemaker", "update_model_package"): {
        "ModelPackageArn": f"{SM}:model-package/churn/3",
        "ModelApprovalStatus": "Approved",
    },
    ("sagemaker", "create_model_card"): {
        "ModelCardName": "churn-3",
        "Content": "{}",
        "ModelCardStatus": "Draft",
    },
    ("sagemaker", "create_model"): {"ModelName": "churn-3", "ExecutionRoleArn": ROLE},
    ("sagemaker", "create_endpoint_config"): {
        "EndpointConfigName": "churn-3",
        "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": "churn-3"}],
    },
    ("sagemaker", "describe_endpoint_config"): {"EndpointConfigName": "churn-3"},
    ("sagemaker", "create_endpoint"): {"EndpointName": "churn", "EndpointConfigName": "churn-3"},
    ("sagemaker", "update_endpoint"): {"EndpointName": "churn", "EndpointConfigName": "churn-4"},
    ("sagemaker", "describe_endpoint"): {"EndpointName": "churn"},
    ("sagemaker", "delete_endpoint"): {"EndpointName": "churn"},
    ("sagemaker", "list_endpoints"): {"NameContains": "churn"},
    ("sagemaker", "create_training_job"): {
        "TrainingJobName": "churn-run-1",
        "RoleArn": ROLE,
        "AlgorithmSpecification": {"TrainingImage": "img", "TrainingInputMode": "File"},
        "OutputDataConfig": {"S3OutputPath": "s3://mlops-models/runs/1/"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
    },
    ("sagemaker", "describe_training_job"): {"TrainingJobName": "churn-run-1"},
    ("sagemaker", "stop_training_job"): {"TrainingJobName": "churn-run-1"},
    ("sagemaker-runtime", "invoke_endpoint"): {
        "EndpointName": "churn",
        "Body": b'{"instances": [[1, 2]]}',
        "ContentType": "application/json",
    },
    ("stepfunctions", "start_execution"): {"stateMachineArn": MACHINE, "input": "{}"},
    ("stepfunctions", "describe_execution"): {
        "executionArn": f"{MACHINE.replace('stateMachine', 'execution')}:e1"
    },
    ("stepfunctions", "list_executions"): {"stateMachineArn": MACHINE},
    ("scheduler", "create_schedule"): {
        "Name": "mlops-churn-retraining-deferred",
        "ScheduleExpression": "at(2026-12-07T10:00:00)",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "Target": {
            "Arn": "arn:aws:lambda:us-east-1:123456789012:function:policy",
            "RoleArn": "arn:aws:iam::123456789012:role/mlops-schedules",
        },
    },
    ("scheduler", "update_schedule"): {
        "Name": "mlops-churn-retraining-deferred",
        "GroupName": "default",
        "ScheduleExpression": "at(2026-12-07T10:00:00)",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "Target": {
            "Arn": "arn:aws:lambda:us-east-1:123456789012:function:policy",
            "RoleArn": "arn:aws:iam::123456789012:role/mlops-schedules",
        },
    },
    ("stepfunctions", "list_state_machines"): {},
    ("stepfunctions", "create_state_machine"): {
        "name": "mlops-training",
        "definition": "{}",
        "roleArn": ROLE,
    },
    ("stepfunctions", "update_state_machine"): {"stateMachineArn": MACHINE, "roleArn": ROLE},
    ("sns", "publish"): {
        "TopicArn": TOPIC,
        "Message": "drift",
        "MessageAttributes": {"severity": {"DataType": "String", "StringValue": "high"}},
    },
    ("sns", "set_topic_attributes"): {
        "TopicArn": TOPIC,
        "AttributeName": "KmsMasterKeyId",
        "AttributeValue": "k",
    },
    ("sqs", "set_queue_attributes"): {
        "QueueUrl": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/mlops-dlq",
        "Attributes": {"MessageRetentionPeriod": "1209600"},
    },
    ("sqs", "get_queue_url"): {"QueueName": "mlops-dlq"},
    ("sqs", "send_message"): {
        "QueueUrl": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/mlops-dlq",
        "MessageBody": "{}",
    },
    ("events", "put_events"): {
        "Entries": [
            {"EventBusName": "mlops-bus", "Source": "mlops", "DetailType": "x", "Detail": "{}"},
            {"EventBusName": "default", "Source": "mlops", "DetailType": "y", "Detail": "{}"},
        ]
    },
    ("cloudwatch", "describe_alarms"): {"AlarmNames": ["churn-latency", "churn-errors"]},
    ("cloudwatch", "put_metric_alarm"): {
        "AlarmName": "churn-latency",
        "EvaluationPeriods": 1,
        "ComparisonOperator": "GreaterThanThreshold",
        "Threshold": 1.0,
    },
    ("cloudformation", "create_stack"): {"StackName": STACK, "TemplateBody": "{}"},
    ("cloudformation", "update_stack"): {"StackName": STACK, "TemplateBody": "{}"},
    ("cloudformation", "delete_stack"): {"StackName": STACK},
    ("cloudformation", "describe_stacks"): {"StackName": STACK},
    ("cloudformation", "describe_stack_events"): {"StackName": STACK},
    ("cloudformation", "list_stack_resources"): {"StackName": STACK},
    ("cloudformation", "update_termination_protection"): {
        "StackName": STACK,
        "EnableTerminationProtection": True,
    },
    ("ssm", "put_parameter"): {"Name": "/cdk-bootstrap/hnb659fds/version", "Value": "21", "Type": "String"},
    ("lambda", "update_function_configuration"): {"FunctionName": "mlops-validation", "Role": ROLE},
    ("lambda", "invoke"): {
        "FunctionName": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:mlops-validation",
        "Payload": b"{}",
    },
    ("logs", "create_log_group"): {"logGroupName": "/aws/lambda/mlops-validation"},
    ("logs", "put_retention_policy"): {"logGroupName": "/aws/lambda/mlops-validation", "retentionInDays": 30},
    ("logs", "delete_retention_policy"): {"logGroupName": "/aws/lambda/mlops-validation"},
    ("logs", "describe_log_groups"): {"logGroupNamePrefix": "/aws/lambda/"},
    ("apigateway", "update_account"): {
        "patchOperations": [{"op": "replace", "path": "/cloudwatchRoleArn", "value": ROLE}]
    },
    ("iam", "list_roles"): {"MaxItems": 100},
    ("iam", "list_role_tags"): {"RoleName": "mlops-training"},
    ("sts", "get_caller_identity"): {},
}


def _wire_operations() -> set[tuple[str, str]]:
    session = get_session()
    return {
        (service, operation)
        for service, operation in OPERATIONS
        if operation in {xform_name(name) for name in session.get_service_model(service).operation_names}
    }


def test_every_wire_operation_of_the_table_has_an_example() -> None:
    # The transfer methods (upload_file, download_file, copy) are no wire operations: the calls they make are.
    assert sorted(_wire_operations() ^ set(EXAMPLES)) == []
    assert {op for _, op in set(OPERATIONS) - _wire_operations()} == {"upload_file", "download_file", "copy"}


@pytest.mark.parametrize("call", sorted(EXAMPLES), ids="{0[0]}.{0[1]}".format)
def test_a_request_reads_back_as_its_call_and_needs_what_the_call_needs(call: tuple[str, str]) -> None:
    service, operation = call
    params = EXAMPLES[call]

    parsed = parse(wire(sent(client(service), operation, params)))

    assert parsed is not None
    assert (parsed.service, parsed.operation, parsed.access_key, parsed.region) == (
        service,
        operation,
        "testing",
        REGION,
    )
    expected = required(service, operation, params, region=REGION, account=ACCOUNT)
    assert required(service, operation, parsed.params, region=REGION, account=ACCOUNT) == expected
