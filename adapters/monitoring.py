"""The drift monitor's AWS adapters: captures and reports in S3, baselines in the registry, metrics as EMF.

- :class:`S3CaptureSource`: ``ListObjectsV2`` (paginated, with ``/`` as delimiter for folders) and
  ``GetObject`` in the data bucket.
- :class:`RegistryBaselineSource`: ``DescribeModelPackage`` on
  ``arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>``; the baseline registered at
  ``DriftCheckBaselines.ModelDataQuality.Constraints``, or, for a version registered before drift
  baselines, a coarse one upgraded from its two format-1 profiles (``ModelDataQuality.Statistics``,
  ``ModelQuality.Statistics``). A version's baseline never changes: each is read once per execution
  environment.
- :class:`S3ReportStore`: ``PutObject`` with the platform's KMS key.
- :class:`EmfMetricsSink`: one EMF line per dimension set (Powertools' CloudWatch EMF provider), without
  Powertools' default ``service`` dimension (the alarms find these metrics by their exact dimensions),
  timestamped with the window's start (see ``check_drift``).

Errors from AWS become :class:`~domain.monitoring.captures.CaptureSourceError`,
:class:`~domain.monitoring.check.BaselineMissingError` or :class:`ReportNotWrittenError`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import BotoCoreError, ClientError

from adapters.aws import client, error_cause, error_code
from adapters.lambda_function import emf_line
from domain.monitoring.captures import CaptureSourceError
from domain.monitoring.check import BaselineMissingError
from domain.monitoring.metrics import MetricPoint
from domain.names import group_prefix, model_package_group
from spec.drift import ProfileFormatError
from spec.drift.baseline import DriftBaseline, coarse_baseline

__all__ = [
    "EmfMetricsSink",
    "RegistryBaselineSource",
    "ReportNotWrittenError",
    "S3CaptureSource",
    "S3ReportStore",
]

_NOT_FOUND = ("ValidationException", "ResourceNotFound", "NoSuchKey", "NoSuchBucket", "404")


class ReportNotWrittenError(Exception):
    """S3 refused a drift report, or could not be reached."""


class S3CaptureSource:
    """The captures in the data bucket."""

    def __init__(self, bucket: str) -> None:
        self.bucket = bucket

    def folders(self, prefix: str) -> list[str]:
        """The folders directly under ``prefix``."""
        return [
            item["Prefix"] for page in self._pages(prefix, "/") for item in page.get("CommonPrefixes", [])
        ]

    def keys(self, prefix: str) -> list[str]:
        """Every key under ``prefix``."""
        return [item["Key"] for page in self._pages(prefix, None) for item in page.get("Contents", [])]

    def read(self, key: str) -> bytes:
        """An object's bytes."""
        try:
            return bytes(client("s3").get_object(Bucket=self.bucket, Key=key)["Body"].read())
        except (ClientError, BotoCoreError) as error:
            raise CaptureSourceError(
                f"cannot read the capture s3://{self.bucket}/{key} ({error_cause(error)}): check that the "
                "drift monitor's role may read the data bucket's capture/ prefix and use its key"
            ) from error

    def _pages(self, prefix: str, delimiter: str | None) -> list[dict[str, Any]]:
        arguments: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix}
        if delimiter:
            arguments["Delimiter"] = delimiter
        try:
            return list(client("s3").get_paginator("list_objects_v2").paginate(**arguments))
        except (ClientError, BotoCoreError) as error:
            raise CaptureSourceError(
                f"cannot list s3://{self.bucket}/{prefix} ({error_cause(error)}): check that the drift "
                "monitor's role may list the data bucket under capture/"
            ) from error


class RegistryBaselineSource:
    """Each model version's drift baseline, as its model package registers it.

    Parameters
    ----------
    project : str
        Names the model package groups (``<project>-<dataset>``).
    region, account : str
        Of the registry (the function's own).
    """

    def __init__(self, project: str, region: str, account: str) -> None:
        self.prefix = group_prefix(project)
        self.region = region
        self.account = account
        self._read: dict[tuple[str, int], tuple[DriftBaseline, str]] = {}

    @classmethod
    @cache
    def of_function(cls, project: str, function_arn: str) -> RegistryBaselineSource:
        """The registry of a function's own region and account (``arn:aws:lambda:<region>:<account>:...``),
        one per execution environment, so that each version's baseline is read once."""
        region, account = function_arn.split(":")[3:5]
        return cls(project, region, account)

    def baseline(self, dataset: str, version: int) -> tuple[DriftBaseline, str]:
        """The version's baseline and its URI (``s3://...``; a coarse one: the statistics' URI).

        Raises
        ------
        BaselineMissingError
            Naming the model package: not registered, registered without a baseline or profiles, or a
            document that cannot be read.
        """
        if (dataset, version) not in self._read:
            self._read[dataset, version] = self._baseline(dataset, version)
        return self._read[dataset, version]

    def _baseline(self, dataset: str, version: int) -> tuple[DriftBaseline, str]:
        group = model_package_group(self.prefix, dataset)
        package = f"{group}/{version}"
        arn = f"arn:aws:sagemaker:{self.region}:{self.account}:model-package/{package}"
        try:
            described = client("sagemaker").describe_model_package(ModelPackageName=arn)
        except (ClientError, BotoCoreError) as error:
            if error_code(error) in _NOT_FOUND:
                raise BaselineMissingError(
                    f"model package {package} is not in the registry: its captures cannot be compared"
                ) from error
            raise BaselineMissingError(
                f"cannot describe model package {package} ({error_cause(error)}): check that the drift "
                "monitor's role may call sagemaker:DescribeModelPackage on the project's model packages"
            ) from error
        checks = described.get("DriftCheckBaselines") or {}
        data_quality = checks.get("ModelDataQuality") or {}
        constraints = (data_quality.get("Constraints") or {}).get("S3Uri")
        if constraints:
            try:
                return DriftBaseline.from_json(self._document(constraints, package)), constraints
            except ProfileFormatError as error:
                raise BaselineMissingError(
                    f"model package {package}'s drift baseline {constraints}: {error}"
                ) from None
        inputs = (data_quality.get("Statistics") or {}).get("S3Uri")
        predictions = ((checks.get("ModelQuality") or {}).get("Statistics") or {}).get("S3Uri")
        if not inputs or not predictions:
            raise BaselineMissingError(
                f"model package {package} has no drift baseline (DriftCheckBaselines.ModelDataQuality."
                "Constraints) and no profiles to upgrade: retrain it to get one"
            )
        try:
            documents = [json.loads(self._document(uri, package)) for uri in (inputs, predictions)]
            return coarse_baseline(documents[0], documents[1]), inputs
        except (ValueError, ProfileFormatError) as error:
            raise BaselineMissingError(
                f"model package {package}'s profiles cannot be upgraded: {error}"
            ) from None

    def _document(self, uri: str, package: str) -> bytes:
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        if not uri.startswith("s3://") or not key:
            raise BaselineMissingError(f"model package {package} names {uri!r}, which is not an s3:// URI")
        try:
            return bytes(client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
        except (ClientError, BotoCoreError) as error:
            raise BaselineMissingError(
                f"cannot read {uri}, registered by model package {package} ({error_cause(error)})"
            ) from error


class S3ReportStore:
    """Drift reports in the data bucket, encrypted with the platform's key."""

    def __init__(self, bucket: str, kms_key_arn: str) -> None:
        self.bucket = bucket
        self.kms_key_arn = kms_key_arn

    def put(self, key: str, body: bytes, content_type: str) -> str:
        """Write one document; its ``s3://`` URI.

        Raises
        ------
        ReportNotWrittenError
        """
        try:
            client("s3").put_object(
                Bucket=self.bucket,
                Key=key,
                Body=body,
                ContentType=content_type,
                ServerSideEncryption="aws:kms",
                SSEKMSKeyId=self.kms_key_arn,
            )
        except (ClientError, BotoCoreError) as error:
            raise ReportNotWrittenError(
                f"cannot write the drift report s3://{self.bucket}/{key} ({error_cause(error)}): check that "
                "the drift monitor's role may write under monitoring/ and use the platform's key"
            ) from error
        return f"s3://{self.bucket}/{key}"


class EmfMetricsSink:
    """Metrics as CloudWatch embedded metric format lines on stdout (the function's log).

    Parameters
    ----------
    namespace : str, optional
        Default: ``POWERTOOLS_METRICS_NAMESPACE``.
    """

    def __init__(self, namespace: str | None = None) -> None:
        self.namespace = namespace

    def publish(self, points: Sequence[MetricPoint], at: datetime) -> None:
        """One EMF line per dimension set, each datapoint at ``at``."""
        groups: dict[tuple[tuple[str, str], ...], list[MetricPoint]] = {}
        for point in points:
            groups.setdefault(point.dimensions, []).append(point)
        for dimensions, group in groups.items():
            metrics = [(point.name, MetricUnit(point.unit), point.value) for point in group]
            emf_line(metrics, dimensions, at=at, namespace=self.namespace)
