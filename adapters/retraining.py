"""The retraining policy's records (DynamoDB) and what it observes of the platform.

The decisions table holds, per dataset (partition ``dataset``, sort ``record``), one ``state`` item (the
policy's :class:`~domain.retraining.policy.PolicyState`, with its revision) and one
``decision#<decided at>#<nn>#<decision id>`` item per decision, never rewritten. A decision and the state
it leads to are written in one transaction conditioned on the revision read, so that of two decisions
made at once only one is written (``domain.retraining.use_case``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Attr, Key
from boto3.dynamodb.types import TypeSerializer
from botocore.exceptions import ClientError

from adapters.aws import client, error_code, from_dynamo, resource
from domain.retraining.decisions import Decision
from domain.retraining.state import PolicyState
from domain.retraining.use_case import DecisionConflictError

__all__ = ["DECISION_PREFIX", "STATE", "DecisionTableError", "DynamoDecisions"]

STATE = "state"
DECISION_PREFIX = "decision#"


class DecisionTableError(Exception):
    """DynamoDB refused a request on the decisions table (not a conflict)."""


class DynamoDecisions:
    """The policy's state and decisions in the decisions table.

    Parameters
    ----------
    table_name : str
        The foundation's decisions table (``DecisionsTableName``).
    """

    def __init__(self, table_name: str) -> None:
        self._table = resource("dynamodb").Table(table_name)
        # TransactWriteItems is the client's only: its items are written in DynamoDB's typed form.
        self._client = client("dynamodb")
        self._name = table_name

    def state(self, dataset: str) -> PolicyState:
        """The dataset's policy state, or a fresh one (revision 0) when none was written."""
        try:
            item = self._table.get_item(Key={"dataset": dataset, "record": STATE}, ConsistentRead=True)
        except ClientError as error:
            raise DecisionTableError(f"cannot read the retraining state of {dataset}: {error}") from error
        found = item.get("Item")
        return PolicyState.from_item(from_dynamo(found)) if found else PolicyState(dataset=dataset)

    def record(self, before: PolicyState, after: PolicyState, decisions: Sequence[Decision]) -> None:
        """Write ``after`` (at the next revision) and ``decisions``, if the state is still ``before``'s.

        Raises
        ------
        DecisionConflictError
            When the stored revision is no longer ``before.revision``.
        DecisionTableError
            For any other refusal.
        """
        written = dataclasses.replace(after, revision=before.revision + 1)
        # The first state is put where none is; each later one where the revision read still is.
        unchanged: dict[str, Any] = (
            {"ConditionExpression": "attribute_not_exists(#r)", "ExpressionAttributeNames": {"#r": "record"}}
            if before.revision == 0
            else {
                "ConditionExpression": "revision = :r",
                "ExpressionAttributeValues": {":r": before.revision},
            }
        )
        item = _dynamo({**written.to_item(), "dataset": before.dataset, "record": STATE})
        state = {"Put": {"TableName": self._name, "Item": item, **unchanged}}
        puts = [
            {"Put": {
                "TableName": self._name,
                "Item": _dynamo({**decision.to_item(), "dataset": decision.dataset,
                                 "record": decision_record(decision, index)}),
                "ConditionExpression": "attribute_not_exists(#r)",
                "ExpressionAttributeNames": {"#r": "record"},
            }}
            for index, decision in enumerate(decisions)
        ]  # fmt: skip
        try:
            self._client.transact_write_items(TransactItems=[_typed(state), *map(_typed, puts)])
        except ClientError as error:
            if error_code(error) == "TransactionCanceledException" and _conflict(error):
                raise DecisionConflictError(f"the retraining state of {before.dataset} changed") from error
            raise DecisionTableError(
                f"cannot record the retraining decisions of {before.dataset}: {error}"
            ) from error

    def decided(self, dataset: str, trigger_key: str) -> list[Decision]:
        """The recorded decisions (not duplicates) of the trigger with ``trigger_key``, oldest first."""
        found = [
            decision
            for decision in self._query(dataset, Attr("trigger.key").eq(trigger_key))
            if decision.outcome != "duplicate"
        ]
        return found[::-1]

    def decisions(self, dataset: str | None = None, *, limit: int = 50) -> list[Decision]:
        """The newest ``limit`` decisions of ``dataset`` (of every dataset when None), newest first."""
        if dataset is not None:
            found = []
            for decision in self._query(dataset):
                found.append(decision)
                if len(found) >= limit:
                    break
            return found
        items: list[dict[str, Any]] = []
        scan: dict[str, Any] = {"FilterExpression": Attr("record").begins_with(DECISION_PREFIX)}
        try:
            while True:
                page = self._table.scan(**scan)
                items.extend(page["Items"])
                if "LastEvaluatedKey" not in page:
                    break
                scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        except ClientError as error:
            raise DecisionTableError(f"cannot read the retraining decisions: {error}") from error
        items.sort(key=lambda item: str(item["record"]), reverse=True)
        return [Decision.from_item(from_dynamo(item)) for item in items[:limit]]

    def _query(self, dataset: str, condition: Any = None) -> Any:
        query: dict[str, Any] = {
            "KeyConditionExpression": Key("dataset").eq(dataset) & Key("record").begins_with(DECISION_PREFIX),
            "ScanIndexForward": False,
            "ConsistentRead": True,
        }
        if condition is not None:
            query["FilterExpression"] = condition
        try:
            while True:
                page = self._table.query(**query)
                yield from (Decision.from_item(from_dynamo(item)) for item in page["Items"])
                if "LastEvaluatedKey" not in page:
                    return
                query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        except ClientError as error:
            raise DecisionTableError(f"cannot read the retraining decisions of {dataset}: {error}") from error


def decision_record(decision: Decision, index: int) -> str:
    """A decision's sort key: newest last in key order, unique within one trigger's decisions."""
    return f"{DECISION_PREFIX}{_time(decision.decided_at)}#{index:02d}#{decision.decision_id}"


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _conflict(error: ClientError) -> bool:
    reasons = error.response.get("CancellationReasons") or []
    return any(reason.get("Code") == "ConditionalCheckFailed" for reason in reasons) or not reasons


def _typed(write: dict[str, Any]) -> dict[str, Any]:
    """A transaction's ``Put`` with its item and values in DynamoDB's typed form (``{"S": ...}``)."""
    put = dict(write["Put"])
    serialize = TypeSerializer().serialize
    put["Item"] = {name: serialize(value) for name, value in put["Item"].items()}
    if "ExpressionAttributeValues" in put:
        put["ExpressionAttributeValues"] = {
            name: serialize(value) for name, value in put["ExpressionAttributeValues"].items()
        }
    return {"Put": put}


def _dynamo(value: Any) -> Any:
    """``value`` as DynamoDB takes it: floats as Decimal, no empty sets."""
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _dynamo(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_dynamo(v) for v in value]
    return value
