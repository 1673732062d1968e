"""The operation table covers every AWS call the code makes: the scan is here, so the table keeps up."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from localcloud.iam.actions import INTEGRATIONS, OPERATIONS, WIRE_ONLY

ROOT = Path(__file__).resolve().parents[2]
# Where calls are made: the runtime code, the CLI and the local cloud's own services.
CALLERS = ("adapters", "lambdas", "training", "cli", "localcloud")
# The functions that make a boto3 client or resource (adapters.aws, the local cloud's ``client(service,
# region)`` callables).
FACTORIES = {"client", "_client", "resource"}
# A client handed over as an argument keeps its service's name: ``s3.put_object`` in a helper given one.
CLIENT_NAMES = {
    "s3": "s3",
    "ssm": "ssm",
    "cloudformation": "cloudformation",
    "sagemaker": "sagemaker",
    "sfn": "stepfunctions",
    "stepfunctions": "stepfunctions",
    "cloudwatch": "cloudwatch",
    "sns": "sns",
    "sqs": "sqs",
    "kms": "kms",
}
# The Step Functions task constructs that are states, by the integration they synthesize to (the others
# under ``tasks.`` are their parameters' types).
TASK_STATES = {
    "LambdaInvoke": "lambda:invoke",
    "SnsPublish": "sns:publish",
    "SageMakerCreateTrainingJob": "sagemaker:createTrainingJob.sync",
}
TASK_PARAMETERS = {
    "Channel",
    "DataSource",
    "S3DataSource",
    "S3DataType",
    "S3Location",
    "DockerImage",
    "InputMode",
    "AlgorithmSpecification",
    "OutputDataConfig",
    "ResourceConfig",
    "StoppingCondition",
}


def _factory_service(node: ast.expr) -> str | None:
    """The service of ``client("s3")`` / ``resource("dynamodb").Table(...)`` (its items: "dynamodb")."""
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
    first = node.args[0] if node.args else None
    if name in FACTORIES and isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value
    if isinstance(func, ast.Attribute) and func.attr == "Table":
        return _factory_service(func.value)
    return None


def calls_in(source: str) -> set[tuple[str, str]]:
    """The (service, operation) pairs one module's code calls on boto3 clients."""
    tree = ast.parse(source)
    bound: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            values = node.value.values if isinstance(node.value, ast.BoolOp) else [node.value]
            service = next((s for s in map(_factory_service, values) if s), None)
            if service:
                bound.update({ast.unparse(target): service for target in node.targets})
    found = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        receiver = node.func.value
        text = ast.unparse(receiver)
        service = (
            _factory_service(receiver)
            or bound.get(text)
            or CLIENT_NAMES.get(text.removeprefix("self.").removeprefix("_"))
        )
        operation = node.func.attr
        if service is None or operation == "Table":
            continue
        if operation in ("get_paginator", "get_waiter") and isinstance(node.args[0], ast.Constant):
            operation = str(node.args[0].value)
        found.add((service, operation))
    return found


def integrations_in(source: str) -> set[str]:
    """The service integrations one stack module's state machines use; an unknown task type fails."""
    tree = ast.parse(source)
    calls = {id(node.func): node for node in ast.walk(tree) if isinstance(node, ast.Call)}
    found = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and ast.unparse(node.value) == "tasks"):
            continue
        call = calls.get(id(node))
        if node.attr == "CallAwsService" and call is not None:
            arguments = {k.arg: k.value for k in call.keywords}
            service, action = arguments["service"], arguments["action"]
            assert isinstance(service, ast.Constant) and isinstance(action, ast.Constant)
            found.add(f"aws-sdk:{service.value}:{action.value}")
        elif node.attr in TASK_STATES:
            found.add(TASK_STATES[node.attr])
        else:
            assert node.attr in TASK_PARAMETERS, f"unknown task type tasks.{node.attr}"
    return found


def _sources(*folders: str) -> dict[str, str]:
    paths = (p for folder in folders for p in sorted((ROOT / folder).rglob("*.py")))
    return {str(p.relative_to(ROOT)): p.read_text(encoding="utf-8") for p in paths}


def test_every_operation_the_code_calls_is_mapped() -> None:
    called = {(call, path) for path, source in _sources(*CALLERS).items() for call in calls_in(source)}
    missing = sorted(
        f"{service}.{operation} ({path})"
        for (service, operation), path in called
        if (service, operation) not in OPERATIONS
    )
    assert not missing, f"operations without an IAM mapping in localcloud/iam/operations.py: {missing}"


def test_every_mapped_operation_is_called() -> None:
    # An entry no code calls is a typo or a leftover: it would hide a call spelled differently.
    # A wire-only entry (what transfer methods and the local cloud's services send) says why it exists.
    called = {call for source in _sources(*CALLERS).values() for call in calls_in(source)}
    assert sorted(set(OPERATIONS) - called - set(WIRE_ONLY)) == []


def test_every_wire_only_entry_is_mapped_and_not_called_by_name() -> None:
    # Once the code calls it by name, the scan covers it and its declared reason is stale.
    called = {call for source in _sources(*CALLERS).values() for call in calls_in(source)}
    assert sorted(set(WIRE_ONLY) - set(OPERATIONS)) == []
    assert sorted(set(WIRE_ONLY) & called) == []


def test_every_integration_the_state_machines_use_is_mapped() -> None:
    used = {name for source in _sources("stacks").values() for name in integrations_in(source)}
    assert "lambda:invoke" in used
    assert sorted(used - set(INTEGRATIONS)) == []
    assert sorted(set(INTEGRATIONS) - used) == []


def test_the_scan_follows_clients_through_names_attributes_and_paginators() -> None:
    source = """
class Registry:
    def __init__(self):
        self._sagemaker = client("sagemaker")
        self._table = resource("dynamodb").Table("t")

    def run(self, s3):
        runtime = self._runtime or client("sagemaker-runtime")
        runtime.invoke_endpoint(EndpointName="e")
        self._sagemaker.get_paginator("list_endpoints")
        self._table.query()
        client("sns").publish(TopicArn="t")
        s3.download_file("b", "k", "f")
        other.publish()
"""
    assert calls_in(source) == {
        ("sagemaker-runtime", "invoke_endpoint"),
        ("sagemaker", "list_endpoints"),
        ("dynamodb", "query"),
        ("sns", "publish"),
        ("s3", "download_file"),
    }


def test_the_integration_scan_reads_sdk_calls_and_rejects_an_unknown_task() -> None:
    source = (
        'tasks.CallAwsService(self, "D", service="sagemaker", action="describeEndpoint")\n'
        "tasks.SnsPublish(self)"
    )
    assert integrations_in(source) == {"aws-sdk:sagemaker:describeEndpoint", "sns:publish"}
    with pytest.raises(AssertionError, match=r"tasks\.EcsRunTask"):
        integrations_in("tasks.EcsRunTask(self)")
