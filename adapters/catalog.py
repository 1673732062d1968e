"""The dataset catalog (DynamoDB)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from adapters.aws import error_code, resource
from domain.data.ingestion_model import DatasetVersion


class CatalogError(Exception):
    """The catalog refused a request."""


class DynamoDatasetCatalog:
    """One item per dataset version, keyed by ``dataset`` and ``version`` (the content's SHA-256)."""

    def __init__(self, table_name: str) -> None:
        self._table = resource("dynamodb").Table(table_name)

    def add(self, version: DatasetVersion) -> bool:
        """Record ``version`` unless a record with its key exists; True if this call recorded it."""
        try:
            self._table.put_item(
                Item=version.to_item(),
                ConditionExpression="attribute_not_exists(dataset) AND attribute_not_exists(version)",
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            raise CatalogError(f"cannot record {version.dataset} {version.version}: {error}") from error
        return True

    def get(self, dataset: str, version: str) -> DatasetVersion | None:
        """One version, or None."""
        item = self._table.get_item(Key={"dataset": dataset, "version": version}, ConsistentRead=True).get(
            "Item"
        )
        return DatasetVersion.from_item(_plain(item)) if item else None

    def versions(self, dataset: str) -> list[DatasetVersion]:
        """Every version of ``dataset``, newest first."""
        items: list[dict[str, Any]] = []
        query: dict[str, Any] = {"KeyConditionExpression": Key("dataset").eq(dataset), "ConsistentRead": True}
        while True:
            page = self._table.query(**query)
            items.extend(page["Items"])
            if "LastEvaluatedKey" not in page:
                break
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        records = [DatasetVersion.from_item(_plain(item)) for item in items]
        return sorted(records, key=lambda record: record.accepted_at, reverse=True)

    def latest(self, dataset: str) -> DatasetVersion | None:
        """The most recently accepted version, or None."""
        versions = self.versions(dataset)
        return versions[0] if versions else None

    def mark_announced(self, dataset: str, version: str) -> None:
        """Record that the version's "accepted" event was published."""
        self._table.update_item(
            Key={"dataset": dataset, "version": version},
            UpdateExpression="SET announced = :yes",
            ExpressionAttributeValues={":yes": True},
        )


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB numbers arrive as Decimal; the records want int."""
    return {key: int(value) if isinstance(value, Decimal) else value for key, value in item.items()}
