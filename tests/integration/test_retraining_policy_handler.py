"""The retraining policy's handler on moto: its events decided, recorded in the decisions table, acted on.

The handler reads ``retraining.json``, ``retraining_alarms.json`` and ``contracts.json`` next to itself, as
in its asset (``tests.moto_support.asset_handler``). The training state machine waits a while, so a run
it started is still running when the next event arrives.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest

from adapters.catalog import DynamoDatasetCatalog
from adapters.retraining import DynamoDecisions
from domain.data.contract import load_contract
from domain.data.ingestion_model import DatasetVersion
from domain.retraining.config import RetrainingConfig
from stacks.constructs.retraining_policy import retraining_alarms
from tests.moto_support import FakeLambdaContext, asset_handler, create_data_plane, create_table, mocked_aws

ROOT = Path(__file__).resolve().parents[2]
BUCKET, CATALOG, DECISIONS = "mlops-data", "mlops-catalog", "mlops-decisions"
OLD, NEW = "0a" * 32, "0b" * 32
POWERTOOLS = {"POWERTOOLS_SERVICE_NAME": "retraining-policy", "POWERTOOLS_METRICS_NAMESPACE": "MLOps",
              "POWERTOOLS_TRACE_DISABLED": "1"}  # fmt: skip
# A run stays RUNNING for the test's length: the next event finds it in progress.
WAITING = {"StartAt": "Train", "States": {"Train": {"Type": "Wait", "Seconds": 8, "End": True}}}


@pytest.fixture(scope="module")
def policy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    patch = pytest.MonkeyPatch()
    for variable, value in POWERTOOLS.items():
        patch.setenv(variable, value)
    configs = {"churn": RetrainingConfig()}
    generated = {
        "contracts.json": json.dumps(
            {"churn": load_contract(ROOT / "contracts" / "churn.yaml").model_dump(mode="json")}
        ),
        "retraining.json": json.dumps({n: c.model_dump(mode="json") for n, c in configs.items()}),
        "retraining_alarms.json": json.dumps(retraining_alarms("mlops", configs)),
    }
    yield asset_handler("retraining_policy", tmp_path_factory.mktemp("retraining_policy"), generated)
    patch.undo()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, policy: ModuleType) -> Iterator[str]:
    """The data plane, the decisions table, the alert topic and a training state machine; its ARN."""
    policy.function.forget()
    with mocked_aws(monkeypatch):
        create_data_plane(BUCKET, CATALOG)
        create_table(DECISIONS, "dataset", "record")
        topic = boto3.client("sns").create_topic(Name="alerts")["TopicArn"]
        machine = boto3.client("stepfunctions").create_state_machine(
            name="mlops-training",
            definition=json.dumps(WAITING),
            roleArn="arn:aws:iam::123456789012:role/sfn",
        )["stateMachineArn"]
        for name, value in {
            "PROJECT": "mlops", "DATA_BUCKET": BUCKET, "STATE_MACHINE_ARN": machine,
            "DECISIONS_TABLE": DECISIONS, "CATALOG_TABLE": CATALOG, "ALERTS_TOPIC_ARN": topic,
            "KMS_KEY_ARN": "arn:aws:kms:us-east-1:123456789012:key/k", "DEAD_LETTER_QUEUE_ARN":
            "arn:aws:sqs:us-east-1:123456789012:dlq", "SCHEDULE_ROLE_ARN": "arn:aws:iam::123456789012:role/s",
        }.items():  # fmt: skip
            monkeypatch.setenv(name, value)
        yield machine


def accept(version: str) -> dict[str, Any]:
    """Record ``version`` in the catalog, as the data plane does; its "Dataset Version Accepted" event."""
    record = DatasetVersion(
        dataset="churn", version=version, accepted_at=datetime.now(UTC).isoformat(), rows=100,
        size_bytes=1000, format="csv", snapshot_prefix=f"datasets/churn/{version}/",
        contract_fingerprint="c0ffee", source={"key": f"incoming/churn/{version[:4]}.csv"},
    )  # fmt: skip
    DynamoDatasetCatalog(CATALOG).add(record)
    return {"version": "0", "id": "1", "detail-type": "Dataset Version Accepted", "source": "mlops.data",
            "account": "123456789012", "time": record.accepted_at, "region": "us-east-1", "resources": [],
            "detail": json.loads(json.dumps(record.to_item()))}  # fmt: skip


def drift_alarm() -> dict[str, Any]:
    return {"version": "0", "id": "2", "detail-type": "CloudWatch Alarm State Change",
            "source": "aws.cloudwatch", "account": "123456789012", "time": "2026-12-06T21:00:00Z",
            "region": "us-east-1", "resources": [],
            "detail": {"alarmName": "mlops-churn-drift", "previousState": {"value": "OK"},
                       "state": {"value": "ALARM", "timestamp": "2026-12-06T21:00:00.000+0000",
                                 "reason": "Threshold Crossed"}}}  # fmt: skip


def executions(machine: str) -> list[dict[str, Any]]:
    return list(boto3.client("stepfunctions").list_executions(stateMachineArn=machine)["executions"])


def test_an_accepted_version_starts_one_run_and_the_same_event_again_starts_none(
    aws: str, policy: ModuleType
) -> None:
    event = accept(NEW)

    first = policy.handler(event, FakeLambdaContext())
    again = policy.handler(event, FakeLambdaContext())

    assert [d["outcome"] for d in first["decisions"]] == ["started"]
    assert again["decisions"][0]["outcome"] == "duplicate"
    (run,) = executions(aws)
    assert run["name"] == f"churn-{NEW[:12]}-accepted"
    recorded = DynamoDecisions(DECISIONS).decisions("churn")
    assert [d.outcome for d in recorded] == ["duplicate", "started"]  # newest first
    assert recorded[1].run is not None and recorded[1].run.name == run["name"]


def test_a_drift_alarm_while_a_run_is_in_progress_starts_nothing_and_says_which_run(
    aws: str, policy: ModuleType
) -> None:
    policy.handler(accept(NEW), FakeLambdaContext())

    answer = policy.handler(drift_alarm(), FakeLambdaContext())

    (decision,) = answer["decisions"]
    assert decision["outcome"] == "skipped"
    assert f"churn-{NEW[:12]}-accepted" in decision["reason"]
    assert len(executions(aws)) == 1
    assert [d.trigger.kind for d in DynamoDecisions(DECISIONS).decisions("churn")] == [
        "drift_alarm",
        "accepted",
    ]


def test_an_event_that_is_not_a_trigger_records_nothing(aws: str, policy: ModuleType) -> None:
    ok = drift_alarm()
    ok["detail"]["state"]["value"] = "OK"

    assert policy.handler(ok, FakeLambdaContext())["decisions"] == []
    assert DynamoDecisions(DECISIONS).decisions() == []


def test_two_versions_decided_at_once_start_one_run_and_the_other_waits(aws: str, policy: ModuleType) -> None:
    # Given two versions accepted at the same moment, their events handled by two Lambdas at once
    events = [accept(OLD), accept(NEW)]
    answers: list[dict[str, Any]] = []
    barrier = threading.Barrier(2)

    def decide(event: dict[str, Any]) -> None:
        barrier.wait()
        answers.append(policy.handler(event, FakeLambdaContext()))

    threads = [threading.Thread(target=decide, args=(event,)) for event in events]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # Then one run started (one slot), the other version waits; both decisions are recorded
    outcomes = sorted(d["outcome"] for answer in answers for d in answer["decisions"])
    assert outcomes == ["deferred", "started"]
    assert len(executions(aws)) == 1
    state = DynamoDecisions(DECISIONS).state("churn")
    assert state.pending is not None and len(state.started_runs) == 1
    assert state.revision == 2
