"""The deployments table (DynamoDB): one lock per endpoint, and a record of every deployment.

Items are keyed by ``endpoint`` and ``record``: ``lock`` is held by the deployment in progress (with an
expiry, so a deployment that died cannot block the endpoint forever); ``deployment#<time>#<name>`` is
the record of one deployment, written when it ends.
"""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from adapters.aws import error_code, from_dynamo, resource
from adapters.endpoints import SageMakerEndpoints
from adapters.registry import SageMakerModelRegistry

__all__ = ["DeploymentTableError", "DynamoDeployments", "workflow_adapters"]

LOCK = "lock"
RECORD_PREFIX = "deployment#"


class DeploymentTableError(Exception):
    """DynamoDB refused a request."""


class DynamoDeployments:
    """Locks and records of the platform's endpoints."""

    def __init__(self, table_name: str) -> None:
        self._table = resource("dynamodb").Table(table_name)

    def acquire(self, endpoint: str, deployment: str, *, now: int, expires: int) -> str | None:
        """Take the endpoint's lock for ``deployment``; None if taken, else the deployment holding it.

        Taking it again by its holder succeeds (a retried step), and so does taking an expired one.
        """
        try:
            self._table.put_item(
                Item={
                    "endpoint": endpoint,
                    "record": LOCK,
                    "holder": deployment,
                    "since": now,
                    "expires": expires,
                },
                ConditionExpression="attribute_not_exists(endpoint) OR holder = :me OR expires < :now",
                ExpressionAttributeValues={":me": deployment, ":now": now},
            )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise DeploymentTableError(f"cannot lock {endpoint}: {error}") from error
            item = self._table.get_item(Key={"endpoint": endpoint, "record": LOCK}, ConsistentRead=True)
            return str((item.get("Item") or {}).get("holder", "another deployment"))
        return None

    def release(self, endpoint: str, deployment: str) -> None:
        """Let go of the lock if ``deployment`` holds it (releasing twice is harmless)."""
        try:
            self._table.delete_item(
                Key={"endpoint": endpoint, "record": LOCK},
                ConditionExpression="holder = :me",
                ExpressionAttributeValues={":me": deployment},
            )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise DeploymentTableError(f"cannot unlock {endpoint}: {error}") from error

    def record(self, endpoint: str, started_at: str, deployment: str, document: dict[str, Any]) -> None:
        """Write (or rewrite, on a retry) the record of one deployment."""
        item = {"endpoint": endpoint, "record": f"{RECORD_PREFIX}{started_at}#{deployment}", **document}
        try:
            self._table.put_item(Item=item)
        except ClientError as error:
            raise DeploymentTableError(f"cannot record deployment {deployment}: {error}") from error

    def history(self, endpoint: str, limit: int = 20) -> list[dict[str, Any]]:
        """The endpoint's deployment records, newest first."""
        try:
            items = self._table.query(
                KeyConditionExpression=Key("endpoint").eq(endpoint)
                & Key("record").begins_with(RECORD_PREFIX),
                ScanIndexForward=False,
                Limit=limit,
            )["Items"]
        except ClientError as error:
            raise DeploymentTableError(f"cannot read the deployments of {endpoint}: {error}") from error
        return [from_dynamo(item) for item in items]

    def holder(self, endpoint: str) -> str | None:
        """The deployment holding the endpoint's lock, if any."""
        item = self._table.get_item(Key={"endpoint": endpoint, "record": LOCK}, ConsistentRead=True)
        found = item.get("Item")
        return str(found["holder"]) if found else None


def workflow_adapters(table: str) -> tuple[SageMakerModelRegistry, SageMakerEndpoints, DynamoDeployments]:
    """What the deployment workflow's functions run against: the registry, the endpoints and ``table``."""
    return SageMakerModelRegistry(), SageMakerEndpoints(), DynamoDeployments(table)
