"""The drift monitor's tests' support: a capture store in memory (``domain.monitoring.captures.
CaptureSource``) and a model version registered as the training pipeline registers it (moto or AWS)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import boto3

from domain.data.contract import DatasetContract
from domain.deployment.capture import capture_key
from domain.monitoring.columns import CaptureSchema
from domain.training.config import parse_training_config


class FakeCaptureSource:
    """Objects in memory, listed as S3 lists them (folders with ``/`` as delimiter); remembers reads."""

    def __init__(self, endpoint: str = "mlops-shop") -> None:
        self.endpoint = endpoint
        self.objects: dict[str, bytes] = {}
        self.read_keys: list[str] = []

    def folders(self, prefix: str) -> list[str]:
        found = {
            prefix + key[len(prefix) :].split("/", 1)[0] + "/"
            for key in self.objects
            if key.startswith(prefix)
        }
        return sorted(folder for folder in found if folder.count("/") > prefix.count("/"))

    def keys(self, prefix: str) -> list[str]:
        return sorted(key for key in self.objects if key.startswith(prefix))

    def read(self, key: str) -> bytes:
        self.read_keys.append(key)
        return self.objects[key]

    def put(self, prefix: str, at: datetime, records: list[dict[str, Any] | str], unique: str = "a") -> str:
        """A capture file of ``records`` (a record, or a line as it stands) named at ``at``; its key."""
        key = capture_key(prefix, self.endpoint, "AllTraffic", at, unique)
        lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
        self.objects[key] = ("\n".join(lines) + "\n").encode()
        return key


def register_version(group: str, *, statistics: tuple[str, str], constraints: str | None) -> None:
    """Register a version of ``group`` with its drift check baselines, as registration writes them.

    ``statistics``: the S3 URIs of its inputs and predictions profiles; ``constraints``: its drift
    baseline's (None: a version registered before drift baselines).
    """
    json_type = "application/json"
    data_quality: dict[str, Any] = {"Statistics": {"ContentType": json_type, "S3Uri": statistics[0]}}
    if constraints is not None:
        data_quality["Constraints"] = {"ContentType": json_type, "S3Uri": constraints}
    boto3.client("sagemaker").create_model_package(
        ModelPackageGroupName=group,
        InferenceSpecification={
            "Containers": [{"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/sklearn:1"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": [json_type],
        },
        DriftCheckBaselines={
            "ModelDataQuality": data_quality,
            "ModelQuality": {"Statistics": {"ContentType": json_type, "S3Uri": statistics[1]}},
        },
    )


#: A dataset of two features (an integer, a category) and a boolean target, for the capture reader's tests.
TWO_FEATURES = DatasetContract.model_validate(
    {
        "name": "shop",
        "target": "churned",
        "columns": [
            {"name": "age", "type": "integer"},
            {"name": "plan", "type": "category", "categories": ["basic", "pro"]},
            {"name": "churned", "type": "boolean"},
        ],
    }
)
TWO_FEATURES_SCHEMA = CaptureSchema.of(TWO_FEATURES, parse_training_config({}, contract=TWO_FEATURES))
