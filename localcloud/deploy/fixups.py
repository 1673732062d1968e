"""What moto's CloudFormation skips or gets wrong, applied after each stack is created or updated.

Each fix-up reads the resource's properties as the template gives them (intrinsic functions resolved
by moto's own resolver, against the stack moto just built) and applies them through the service API,
the way CloudFormation would have. Only where no API exists in moto is moto's model corrected
directly; each such case says why. Fix-ups are idempotent: a re-deploy applies them again.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from moto.cloudformation.parsing import clean_json

from localcloud.deploy.custom_resources import LOCAL_PROVIDERS, Clients
from localcloud.deploy.iam_resources import fix_role

_ALARM_FIELDS = {
    "AlarmName", "AlarmDescription", "ActionsEnabled", "OKActions", "AlarmActions", "InsufficientDataActions",
    "MetricName", "Namespace", "Statistic", "ExtendedStatistic", "Dimensions", "Period", "Unit",
    "EvaluationPeriods", "DatapointsToAlarm", "Threshold", "ComparisonOperator", "TreatMissingData",
    "EvaluateLowSampleCountPercentile", "Metrics", "Tags", "ThresholdMetricId",
}  # fmt: skip


@dataclass(frozen=True)
class Resource:
    """One template resource after moto created its stack."""

    stack_name: str
    logical_id: str
    type: str
    properties: dict[str, Any]
    model: Any  # moto's object, or None for the types moto skips
    physical_id: str | None


Fixup = Callable[[Clients, Resource], None]


def apply_all(stack_name: str, template: dict[str, Any], resource_map: Any, client: Clients) -> list[str]:
    """Apply every fix-up that the resources of ``template`` need; return ``Type/LogicalId`` of each."""
    applied = []
    for logical_id, resource_json in template.get("Resources", {}).items():
        resource_type = resource_json.get("Type", "")
        fixup = FIXUPS.get(resource_type) or _custom_provider(resource_type)
        if fixup is None or not _condition_holds(resource_json, resource_map):
            continue
        model = resource_map._parsed_resources.get(logical_id)
        resource = Resource(
            stack_name=stack_name,
            logical_id=logical_id,
            type=resource_type,
            properties=clean_json(resource_json.get("Properties", {}), resource_map),
            model=model,
            physical_id=getattr(model, "physical_resource_id", None),
        )
        fixup(client, resource)
        applied.append(f"{resource_type}/{logical_id}")
    return applied


def fix_bucket(client: Clients, resource: Resource) -> None:
    """Versioning, public access block, bucket-key encryption, logging and EventBridge notifications.

    moto's ``AWS::S3::Bucket`` applies only the encryption (without ``BucketKeyEnabled``) and tags.
    """
    s3, bucket, properties = client("s3"), resource.physical_id, resource.properties
    if "VersioningConfiguration" in properties:
        status = properties["VersioningConfiguration"]["Status"]
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": status})
    if "PublicAccessBlockConfiguration" in properties:
        block = {k: _true(v) for k, v in properties["PublicAccessBlockConfiguration"].items()}
        s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=block)
    if "BucketEncryption" in properties:
        rules = [
            {
                "ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"],
                "BucketKeyEnabled": _true(rule.get("BucketKeyEnabled", False)),
            }
            for rule in properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        ]
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": rules})
    if "LoggingConfiguration" in properties:
        logging = properties["LoggingConfiguration"]
        enabled = {
            "TargetBucket": logging["DestinationBucketName"],
            "TargetPrefix": logging.get("LogFilePrefix", ""),
        }
        s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={"LoggingEnabled": enabled})
    notifications = properties.get("NotificationConfiguration") or {}
    if _true(notifications.get("EventBridgeConfiguration", {}).get("EventBridgeEnabled", False)):
        current = s3.get_bucket_notification_configuration(Bucket=bucket)
        current.pop("ResponseMetadata", None)
        s3.put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration=dict(current, EventBridgeConfiguration={})
        )


def fix_bucket_policy(client: Clients, resource: Resource) -> None:
    """``AWS::S3::BucketPolicy``: moto skips the type entirely."""
    policy = json.dumps(resource.properties["PolicyDocument"])
    client("s3").put_bucket_policy(Bucket=resource.properties["Bucket"], Policy=policy)


def fix_topic_policy(client: Clients, resource: Resource) -> None:
    """``AWS::SNS::TopicPolicy``: moto skips the type entirely."""
    policy = json.dumps(resource.properties["PolicyDocument"])
    for topic_arn in resource.properties["Topics"]:
        client("sns").set_topic_attributes(TopicArn=topic_arn, AttributeName="Policy", AttributeValue=policy)


def fix_queue_policy(client: Clients, resource: Resource) -> None:
    """``AWS::SQS::QueuePolicy``: moto skips the type entirely."""
    policy = json.dumps(resource.properties["PolicyDocument"])
    for queue_url in resource.properties["Queues"]:
        client("sqs").set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": policy})


def fix_table(client: Clients, resource: Resource) -> None:
    """Point-in-time recovery (ignored by moto) and server-side encryption (misread by moto)."""
    properties, table = resource.properties, resource.physical_id
    pitr = properties.get("PointInTimeRecoverySpecification") or {}
    if _true(pitr.get("PointInTimeRecoveryEnabled", False)):
        client("dynamodb").update_continuous_backups(
            TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
    sse = properties.get("SSESpecification") or {}
    if _true(sse.get("SSEEnabled", False)) and resource.model is not None:
        # moto reads the API's "Enabled" where CloudFormation says "SSEEnabled", so the table reports no
        # encryption; no API changes SSE in moto, so its model is corrected in place.
        resource.model.sse_specification = {
            "Enabled": True,
            "SSEType": sse.get("SSEType", "KMS"),
            "KMSMasterKeyId": sse.get("KMSMasterKeyId")
            or resource.model._get_default_encryption_key(
                resource.model.account_id, resource.model.region_name
            ),
        }


def fix_function(client: Clients, resource: Resource) -> None:
    """Layers (dropped by moto's template reader), the log group of ``LoggingConfig`` and the
    dead-letter queue of ``DeadLetterConfig`` (both ignored)."""
    properties = resource.properties
    target = (properties.get("DeadLetterConfig") or {}).get("TargetArn")
    if resource.model is not None:
        # moto has no dead-letter setting at all; the asynchronous invoker reads it from here.
        resource.model.dead_letter_config = {"TargetArn": target} if target else None
    if properties.get("Layers"):
        client("lambda").update_function_configuration(
            FunctionName=resource.physical_id, Layers=properties["Layers"]
        )
    group = (properties.get("LoggingConfig") or {}).get("LogGroup")
    if group and resource.model is not None:
        # Lambda writes a function's logs to its LoggingConfig group; moto has no such setting at all.
        resource.model.logs_group_name = group


def fix_event_invoke_config(client: Clients, resource: Resource) -> None:
    """``AWS::Lambda::EventInvokeConfig``: moto skips the type; the configuration is put through the API.

    moto appends a configuration on every put instead of replacing it, so the previous one is deleted
    first (a re-deploy then leaves one).
    """
    properties, lambda_client = resource.properties, client("lambda")
    name = properties["FunctionName"]
    with contextlib.suppress(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.delete_function_event_invoke_config(FunctionName=name)
    arguments: dict[str, Any] = {"FunctionName": name}
    for field in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds"):
        if field in properties:
            arguments[field] = int(properties[field])
    if properties.get("DestinationConfig"):
        arguments["DestinationConfig"] = properties["DestinationConfig"]
    lambda_client.put_function_event_invoke_config(**arguments)


def fix_alarm(client: Clients, resource: Resource) -> None:
    """``AWS::CloudWatch::Alarm``: moto has no alarm model; the alarm is put through the API.

    Its name is the one the local model gave it (``alarm_cfn``: ``AlarmName``, or a name as
    CloudFormation makes one, kept across re-deploys), which ``Ref`` and ``Fn::GetAtt`` resolved to.
    """
    arguments = {k: v for k, v in resource.properties.items() if k in _ALARM_FIELDS}
    arguments["AlarmName"] = resource.physical_id or arguments["AlarmName"]
    for name, kind in (
        ("Period", int),
        ("EvaluationPeriods", int),
        ("DatapointsToAlarm", int),
        ("Threshold", float),
    ):
        if name in arguments:
            arguments[name] = kind(arguments[name])
    if "ActionsEnabled" in arguments:
        arguments["ActionsEnabled"] = _true(arguments["ActionsEnabled"])
    client("cloudwatch").put_metric_alarm(**arguments)


def fix_state_machine(client: Clients, resource: Resource) -> None:
    """Register the state machine where executions look for it.

    moto's template reader creates state machines in its plain Step Functions backend, while the API,
    once configured to execute real ASL (``execute_state_machine``), serves another backend: the
    deployed machine is invisible to ``StartExecution``. It is registered again through the API, with
    the same name (so the same ARN), definition and role; a re-deploy updates it.
    """
    properties = resource.properties
    definition = properties.get("DefinitionString")
    if definition is None and "Definition" in properties:
        definition = json.dumps(properties["Definition"])
    for key, value in (properties.get("DefinitionSubstitutions") or {}).items():
        definition = (definition or "").replace("${" + key + "}", str(value))
    name = getattr(resource.model, "name", None) or properties.get("StateMachineName") or resource.logical_id
    stepfunctions = client("stepfunctions")
    existing = {m["name"]: m["stateMachineArn"] for m in stepfunctions.list_state_machines()["stateMachines"]}
    if name in existing:
        stepfunctions.update_state_machine(
            stateMachineArn=existing[name], definition=definition, roleArn=properties["RoleArn"]
        )
        return
    arguments: dict[str, Any] = {
        "name": name,
        "definition": definition,
        "roleArn": properties["RoleArn"],
        "type": properties.get("StateMachineType", "STANDARD"),
    }
    if properties.get("Tags"):
        arguments["tags"] = [{"key": t["Key"], "value": t["Value"]} for t in properties["Tags"]]
    stepfunctions.create_state_machine(**arguments)


def fix_api_gateway_account(client: Clients, resource: Resource) -> None:
    """``AWS::ApiGateway::Account``: moto skips the type; the role is set through ``UpdateAccount``."""
    role = resource.properties.get("CloudWatchRoleArn")
    if role:
        operation = {"op": "replace", "path": "/cloudwatchRoleArn", "value": role}
        client("apigateway").update_account(patchOperations=[operation])


def _custom_provider(resource_type: str) -> Fixup | None:
    provider = LOCAL_PROVIDERS.get(resource_type)
    if provider is None:
        return None

    def apply(client: Clients, resource: Resource) -> None:
        provider(client, resource.properties)

    return apply


def _condition_holds(resource_json: dict[str, Any], resource_map: Any) -> bool:
    condition = resource_json.get("Condition")
    return condition is None or bool(resource_map.lazy_condition_map[condition])


def _true(value: Any) -> bool:
    # Template values arrive as booleans or as the strings CloudFormation accepts for them.
    return value is True or str(value).lower() == "true"


FIXUPS: dict[str, Fixup] = {
    "AWS::S3::Bucket": fix_bucket,
    "AWS::S3::BucketPolicy": fix_bucket_policy,
    "AWS::SNS::TopicPolicy": fix_topic_policy,
    "AWS::SQS::QueuePolicy": fix_queue_policy,
    "AWS::DynamoDB::Table": fix_table,
    "AWS::Lambda::Function": fix_function,
    "AWS::Lambda::EventInvokeConfig": fix_event_invoke_config,
    "AWS::CloudWatch::Alarm": fix_alarm,
    "AWS::StepFunctions::StateMachine": fix_state_machine,
    "AWS::ApiGateway::Account": fix_api_gateway_account,
    "AWS::IAM::Role": fix_role,
}
