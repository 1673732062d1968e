"""CloudWatch Embedded Metric Format: the metrics CloudWatch Logs extracts from a function's log lines.

A line of a Lambda function's logs that is a JSON object with ``_aws.CloudWatchMetrics`` (what
Powertools Metrics prints) becomes metric data points, as CloudWatch Logs extracts them
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html):
for each metric directive, in its ``Namespace``, each metric of ``Metrics`` (its value, or each of its
values, from the root member of its ``Name``; its ``Unit``) once per dimension set of ``Dimensions`` (the
values of the set's names, root members that are strings; an empty set or none: no dimensions), at
``_aws.Timestamp`` (epoch milliseconds). They are written to moto's CloudWatch as the service: no IAM
decision (AWS extracts them itself; the function's role needs no ``cloudwatch:PutMetricData``), and only
for lines that reached the log group (a denied log write extracts nothing).

A document that breaks the specification stays a log line and yields no metric, as on AWS. The limits
enforced: at most 100 metrics per document (over every directive), 30 dimensions per set, 100 values per
metric; a namespace of 1-255 characters not starting with ``AWS/``; ``Timestamp`` a number; every metric
and dimension member present at the root (a number or a list of numbers; a string), a metric value
finite. Not enforced: the 2-week/2-hour age window of a timestamp, ``StorageResolution`` (every point is
kept as is), the 1 MB event size.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from moto.cloudwatch.models import cloudwatch_backends

MAX_METRICS = 100
MAX_DIMENSIONS = 30
MAX_VALUES = 100
_UNITS = frozenset(
    {
        "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes",
        "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
        "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
        "Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second",
        "Count/Second", "None",
    }
)  # fmt: skip
_LOCK = threading.Lock()  # moto's CloudWatch backend is not written for concurrent writers
logger = logging.getLogger(__name__)


class EmfError(ValueError):
    """A line that claims to be EMF (``_aws.CloudWatchMetrics``) and breaks the specification."""


@dataclass(frozen=True)
class EmfMetric:
    """One metric of one dimension set of an EMF document."""

    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]
    values: tuple[float, ...]
    unit: str | None
    timestamp: datetime

    def datum(self) -> dict[str, Any]:
        """The metric as a ``PutMetricData`` member."""
        member: dict[str, Any] = {
            "MetricName": self.name,
            "Dimensions": [{"Name": n, "Value": v} for n, v in self.dimensions],
            "Values": list(self.values),
            "Timestamp": self.timestamp.astimezone(UTC).replace(tzinfo=None),  # moto's times: naive UTC
        }
        if self.unit:
            member["Unit"] = self.unit
        return member


class EmfExtractor:
    """What CloudWatch Logs does with the lines written to a function's log group.

    Parameters
    ----------
    written : Callable[[], None]
        Called after metrics were written (the alarm evaluation).
    """

    def __init__(self, written: Callable[[], None] | None = None) -> None:
        self._written = written

    def __call__(self, account_id: str, region: str, group: str, lines: list[str]) -> None:
        """Extract and write the metrics of ``lines``; log why an invalid document yields none."""
        metrics, invalid = metrics_of(lines)
        for reason in invalid:
            logger.warning("%s: an EMF document stays a log line (no metric): %s", group, reason)
        if not metrics:
            return
        try:
            publish(account_id, region, metrics)
        except Exception:  # the invocation is done and answered; its metrics are lost, and said so
            logger.exception("%s: writing %d EMF metrics failed", group, len(metrics))
            return
        if self._written is not None:
            self._written()


def metrics_of(lines: list[str]) -> tuple[list[EmfMetric], list[str]]:
    """The metrics of the EMF documents among ``lines``, and why each invalid one was left as a log line."""
    found: list[EmfMetric] = []
    invalid: list[str] = []
    for line in lines:
        document = _document(line)
        if document is None:
            continue
        try:
            found.extend(parse_document(document))
        except EmfError as error:
            invalid.append(str(error))
    return found, invalid


def parse_document(document: dict[str, Any]) -> list[EmfMetric]:
    """The metrics of one EMF document.

    Raises
    ------
    EmfError
        If the document breaks the specification (see the module docstring).
    """
    metadata = document["_aws"]
    stamp = metadata.get("Timestamp")
    if isinstance(stamp, bool) or not isinstance(stamp, int | float):
        raise EmfError("_aws.Timestamp is not a number of epoch milliseconds")
    moment = datetime.fromtimestamp(stamp / 1000, UTC)
    directives = metadata.get("CloudWatchMetrics")
    if not isinstance(directives, list):
        raise EmfError("_aws.CloudWatchMetrics is not a list of metric directives")
    found: list[EmfMetric] = []
    count = 0
    for directive in directives:
        namespace, dimension_sets, metrics = _directive(directive)
        count += len(metrics)
        if count > MAX_METRICS:
            raise EmfError(f"the document declares more than {MAX_METRICS} metrics")
        for metric in metrics:
            name, unit = _metric(metric)
            values = _values(document, name)
            for names in dimension_sets or [[]]:
                found.append(EmfMetric(namespace, name, _dimensions(document, names), values, unit, moment))
    return found


def publish(account_id: str, region: str, metrics: list[EmfMetric]) -> None:
    """Write ``metrics`` to moto's CloudWatch, one ``PutMetricData`` per namespace."""
    by_namespace: dict[str, list[dict[str, Any]]] = {}
    for metric in metrics:
        by_namespace.setdefault(metric.namespace, []).append(metric.datum())
    backend = cloudwatch_backends[account_id][region]
    with _LOCK:
        for namespace, data in by_namespace.items():
            backend.put_metric_data(namespace, data)


def _document(line: str) -> dict[str, Any] | None:
    text = line.strip()
    if not (text.startswith("{") and "_aws" in text):
        return None
    try:
        document = json.loads(text)
    except ValueError:
        return None
    if not isinstance(document, dict) or not isinstance(document.get("_aws"), dict):
        return None
    return document if "CloudWatchMetrics" in document["_aws"] else None


def _directive(directive: Any) -> tuple[str, list[list[str]], list[Any]]:
    if not isinstance(directive, dict):
        raise EmfError("a metric directive is not an object")
    namespace = directive.get("Namespace")
    if not isinstance(namespace, str) or not 1 <= len(namespace) <= 255 or namespace.startswith("AWS/"):
        raise EmfError(f"Namespace {namespace!r} is not 1-255 characters outside AWS/")
    dimension_sets = directive.get("Dimensions", [])
    if not isinstance(dimension_sets, list) or not all(
        isinstance(s, list) and all(isinstance(n, str) for n in s) for s in dimension_sets
    ):
        raise EmfError("Dimensions is not a list of dimension sets (lists of names)")
    for names in dimension_sets:
        if len(names) > MAX_DIMENSIONS:
            raise EmfError(f"a dimension set has more than {MAX_DIMENSIONS} dimensions")
    metrics = directive.get("Metrics")
    if not isinstance(metrics, list):
        raise EmfError("Metrics is not a list of metric definitions")
    return namespace, dimension_sets, metrics


def _metric(metric: Any) -> tuple[str, str | None]:
    if not isinstance(metric, dict) or not isinstance(metric.get("Name"), str) or not metric["Name"]:
        raise EmfError("a metric definition has no Name")
    unit = metric.get("Unit")
    if unit is not None and unit not in _UNITS:
        raise EmfError(f"metric {metric['Name']}: Unit {unit!r} is not a CloudWatch unit")
    return metric["Name"], unit


def _values(document: dict[str, Any], name: str) -> tuple[float, ...]:
    value = document.get(name)
    values = value if isinstance(value, list) else [value]
    if not values or len(values) > MAX_VALUES:
        raise EmfError(f"metric {name}: 1 to {MAX_VALUES} values are allowed")
    for item in values:
        if isinstance(item, bool) or not isinstance(item, int | float) or not math.isfinite(item):
            raise EmfError(f"metric {name}: the root member {name} is not a finite number or list of them")
    return tuple(float(v) for v in values if isinstance(v, int | float))


def _dimensions(document: dict[str, Any], names: list[str]) -> tuple[tuple[str, str], ...]:
    dimensions = []
    for name in names:
        value = document.get(name)
        if not isinstance(value, str):
            raise EmfError(f"dimension {name}: the root member {name} is not a string")
        dimensions.append((name, value))
    return tuple(dimensions)
