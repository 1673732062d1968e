"""CloudWatch Embedded Metric Format in the local cloud: a function's EMF log lines become metrics.

On AWS, CloudWatch Logs extracts the metrics of every EMF document a Lambda function logs (what
Powertools Metrics prints), with no ``cloudwatch:PutMetricData`` grant; a document that breaks the
specification stays a log line. The function here prints the lines it is given.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from moto.cloudwatch.models import cloudwatch_backends

from localcloud import LocalCloud
from tests.integration.localcloud_fixtures.monitoring import python_function

pytestmark = pytest.mark.slow

NAMESPACE = "MLOpsPlatform"
WINDOW_END = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    with LocalCloud(work_dir=tmp_path_factory.mktemp("localcloud-emf")) as running:
        python_function(running, "emitter")
        yield running


def _document(metrics: dict[str, Any], dimensions: list[list[str]], **members: Any) -> str:
    """An EMF document as Powertools Metrics prints it, at the window's end."""
    definitions = [{"Name": name, "Unit": unit} for name, (_, unit) in metrics.items()]
    document = {
        "_aws": {
            "Timestamp": int(WINDOW_END.timestamp() * 1000),
            "CloudWatchMetrics": [{"Namespace": NAMESPACE, "Dimensions": dimensions, "Metrics": definitions}],
        },
        **{name: value for name, (value, _) in metrics.items()},
        **members,
    }
    return json.dumps(document)


def _emit(cloud: LocalCloud, function: str, *lines: str) -> list[str]:
    """Invoke ``function`` to print ``lines``; return its log lines."""
    response = cloud.client("lambda").invoke(
        FunctionName=function, Payload=json.dumps({"print": list(lines)}).encode(), LogType="None"
    )
    assert response["StatusCode"] == 200
    cloud.wait_idle()
    group = f"/aws/lambda/{function}"
    if not cloud.client("logs").describe_log_groups(logGroupNamePrefix=group)["logGroups"]:
        return []
    return [e["message"] for e in cloud.client("logs").filter_log_events(logGroupName=group)["events"]]


def _statistics(cloud: LocalCloud, name: str, dimensions: dict[str, str]) -> list[dict[str, Any]]:
    answer = cloud.client("cloudwatch").get_metric_statistics(
        Namespace=NAMESPACE,
        MetricName=name,
        Dimensions=[{"Name": k, "Value": v} for k, v in dimensions.items()],
        StartTime=WINDOW_END - timedelta(minutes=5),
        EndTime=WINDOW_END + timedelta(minutes=5),
        Period=600,
        Statistics=["Sum", "SampleCount", "Maximum"],
    )
    return list(answer["Datapoints"])


def test_each_metric_of_an_emf_document_is_a_data_point_of_each_dimension_set(cloud: LocalCloud) -> None:
    # Given a document with a metric of two values and one of one value, in two dimension sets
    line = _document(
        {"DriftedShare": (0.25, "None"), "WindowRows": ([300, 200], "Count")},
        [["EndpointName", "ModelVersion"], ["EndpointName"]],
        EndpointName="churn-a",
        ModelVersion="3",
        report="s3://bucket/monitoring/churn/reports/x/report.json",
    )

    # When a function logs it (its role may write its logs, nothing more)
    logged = _emit(cloud, "emitter", line)

    # Then it is in the log, and each metric has its points in each set, at the document's timestamp
    assert line in logged
    assert _points(cloud, "WindowRows") == {
        (("EndpointName", "churn-a"), ("ModelVersion", "3")): [(300, "Count"), (200, "Count")],
        (("EndpointName", "churn-a"),): [(300, "Count"), (200, "Count")],
    }
    assert _points(cloud, "DriftedShare") == {
        (("EndpointName", "churn-a"), ("ModelVersion", "3")): [(0.25, "None")],
        (("EndpointName", "churn-a"),): [(0.25, "None")],
    }
    # as the API reads them (moto's GetMetricStatistics matches dimensions as a subset: the full set here)
    dimensions = {"EndpointName": "churn-a", "ModelVersion": "3"}
    (rows,) = _statistics(cloud, "WindowRows", dimensions)
    assert (rows["Sum"], rows["SampleCount"], rows["Maximum"], rows["Unit"]) == (500, 2, 300, "Count")


def _points(cloud: LocalCloud, name: str) -> dict[tuple[tuple[str, str], ...], list[tuple[Any, Any]]]:
    """Dimension set -> (value, unit) of each data point of ``name`` at the window's end (moto's store)."""
    backend = cloudwatch_backends[cloud.account_id][cloud.region]
    found: dict[tuple[tuple[str, str], ...], list[tuple[Any, Any]]] = {}
    for datum in backend.metric_data:
        if (datum.namespace, datum.name) == (NAMESPACE, name):
            assert datum.timestamp == WINDOW_END.replace(tzinfo=None)
            key = tuple(sorted((str(d.name), str(d.value)) for d in datum.dimensions))
            found.setdefault(key, []).append((getattr(datum, "value", None), datum.unit))
    return found


def _drift(value: Any = 1, unit: str = "None", endpoint: Any = "b") -> str:
    return _document({"Drift": (value, unit)}, [["EndpointName"]], EndpointName=endpoint)


MANY_METRICS = _document({f"M{n}": (1, "None") for n in range(101)}, [["EndpointName"]], EndpointName="b")
WIDE_SET = _document(
    {"Drift": (1, "None")}, [[f"D{n}" for n in range(31)]], **{f"D{n}": "x" for n in range(31)}
)


@pytest.mark.parametrize(
    ("case", "line"),
    [
        ("a metric member missing", _drift().replace('"Drift": 1', '"Other": 1')),
        ("a dimension that is not a string", _drift(endpoint=7)),
        ("a value that is not a number", _drift(value="high")),
        ("an unknown unit", _drift(unit="Furlongs")),
        ("101 metrics", MANY_METRICS),
        ("31 dimensions in a set", WIDE_SET),
    ],
)
def test_a_document_that_breaks_the_specification_stays_a_log_line_and_makes_no_metric(
    cloud: LocalCloud, case: str, line: str
) -> None:
    # Given a metric count before
    cloudwatch = cloud.client("cloudwatch")
    before = cloudwatch.list_metrics(Namespace=NAMESPACE)["Metrics"]

    # When a function logs an invalid document
    logged = _emit(cloud, "emitter", line)

    # Then it is in the log as it was printed, and no metric came of it
    assert line in logged, case
    assert cloudwatch.list_metrics(Namespace=NAMESPACE)["Metrics"] == before, case


def test_a_function_whose_logs_are_denied_publishes_no_emf_metric(cloud: LocalCloud) -> None:
    # Given a function whose role may not write its logs
    python_function(cloud, "mute", statements=[])

    # When it logs a valid document
    _emit(cloud, "mute", _document({"Muted": (1, "Count")}, [["EndpointName"]], EndpointName="m"))

    # Then nothing reached CloudWatch Logs, so CloudWatch extracted nothing
    assert cloud.client("cloudwatch").list_metrics(Namespace=NAMESPACE, MetricName="Muted")["Metrics"] == []
