"""The platform's events, declared once: what a producer publishes is what its consumer reads.

Given / When / Then, no network: the detail travels as the JSON EventBridge carries.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest

from domain.data.ingestion_model import DatasetVersion
from domain.events import (
    DatasetVersionAccepted,
    EventDetailError,
    EventKind,
    ModelPackageStateChange,
    ObjectCreated,
)
from domain.retraining.triggers import trigger_from_event

SHA = "ab" * 32


def matches(pattern: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """EventBridge's matching of the patterns the platform writes: values listed, detail fields nested."""
    for key, wanted in pattern.items():
        if isinstance(wanted, Mapping):
            if not isinstance(event.get(key), Mapping) or not matches(wanted, event[key]):
                return False
        elif event.get(key) not in wanted:
            return False
    return True


def envelope(kind: EventKind, detail: Mapping[str, Any]) -> dict[str, Any]:
    """An event as EventBridge delivers it to a rule's target."""
    return {"version": "0", "id": "1", "source": kind.source, "detail-type": kind.detail_type,
            "account": "123456789012", "time": "2026-12-06T10:00:00Z", "region": "eu-west-1",
            "resources": [], "detail": json.loads(json.dumps(detail, default=str))}  # fmt: skip


def accepted_version() -> DatasetVersion:
    return DatasetVersion(
        dataset="churn", version=SHA, accepted_at="2026-12-06T10:00:00+00:00", rows=2_000, size_bytes=91_000,
        format="csv", snapshot_prefix=f"datasets/churn/{SHA}/", contract_fingerprint="c0ffee",
        source={"key": "incoming/churn/jan.csv"},
    )  # fmt: skip


def test_the_accepted_event_the_data_plane_publishes_is_the_policy_s_accepted_trigger() -> None:
    # Given the event the validation function publishes for a version it accepted
    version = accepted_version()
    published = DatasetVersionAccepted(version.dataset, version.version, version.to_item())
    event = envelope(DatasetVersionAccepted.KIND, published.to_detail())
    machine = "arn:aws:states:eu-west-1:123456789012:stateMachine:training"

    # When the retraining policy's rule matches it and the policy reads it, twice (a redelivery)
    assert matches(DatasetVersionAccepted.KIND.pattern(), event)
    accepted = DatasetVersionAccepted.from_detail(event["detail"])
    triggers = [trigger_from_event(event, alarms={}, state_machine_arn=machine) for _ in range(2)]

    # Then the version is read back whole, and both deliveries are the same occurrence (one key)
    assert (accepted.dataset, accepted.version) == ("churn", SHA)
    assert accepted.record == json.loads(json.dumps(version.to_item(), default=str))
    first, again = triggers
    assert first is not None and again is not None
    assert (first.kind, first.dataset, first.dataset_version) == ("accepted", "churn", SHA)
    assert first.upload_key == "incoming/churn/jan.csv"
    assert first.key == again.key
    assert json.dumps(published.to_detail(), default=str) == json.dumps(version.to_item(), default=str)


def test_an_accepted_event_without_its_version_names_the_event_and_the_field() -> None:
    with pytest.raises(
        EventDetailError, match=r'"Dataset Version Accepted" event \(mlops.data\).*detail.version'
    ):
        DatasetVersionAccepted.from_detail({"dataset": "churn"})


def test_an_object_created_event_is_matched_by_its_rule_and_its_key_decoded_once() -> None:
    # Given S3's event for an upload whose name holds a space and a literal plus
    detail = {"version": "0", "bucket": {"name": "data"},
              "object": {"key": "incoming/sales/jan+2026%2Bfinal.csv", "size": 12, "etag": "e1",
                         "version-id": "v1", "sequencer": "00"},
              "request-id": "R", "requester": "123456789012", "reason": "PutObject"}  # fmt: skip
    event = envelope(ObjectCreated.KIND, detail)
    rule = ObjectCreated.KIND.pattern({"bucket": {"name": ["data"]}})

    # When the validation's rule matches it and the consumer reads it
    created = ObjectCreated.from_detail(event["detail"])

    # Then the object is the one uploaded, its key decoded once
    assert matches(rule, event)
    assert not matches(rule, {**event, "detail-type": "Object Deleted"})
    assert created == ObjectCreated(bucket="data", key="incoming/sales/jan 2026+final.csv", version_id="v1",
                                    size=12, etag="e1", requester="123456789012")  # fmt: skip


def test_an_object_created_event_without_a_key_names_the_field() -> None:
    with pytest.raises(EventDetailError, match=r"detail\.object\.key"):
        ObjectCreated.from_detail({"bucket": {"name": "data"}, "object": {"size": 1}})


def test_sagemaker_s_state_change_is_read_with_its_group_version_and_approval() -> None:
    # Given SageMaker's event for an approved version
    arn = "arn:aws:sagemaker:eu-west-1:123456789012:model-package/mlops-churn/3"
    detail = {"ModelPackageGroupName": "mlops-churn", "ModelPackageArn": arn,
              "ModelApprovalStatus": "Approved", "ModelPackageVersion": 3}  # fmt: skip
    event = envelope(ModelPackageStateChange.KIND, detail)
    rule = ModelPackageStateChange.KIND.pattern({"ModelApprovalStatus": ["Approved"]})

    # When the deployment's rule matches it and its start reads it
    change = ModelPackageStateChange.from_detail(event["detail"])

    # Then the version and its group are those of the event
    assert matches(rule, event)
    assert change == ModelPackageStateChange(group="mlops-churn", arn=arn, approval_status="Approved")
    assert rule == {"source": ["aws.sagemaker"], "detail-type": ["SageMaker Model Package State Change"],
                    "detail": {"ModelApprovalStatus": ["Approved"]}}  # fmt: skip
