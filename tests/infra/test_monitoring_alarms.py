"""The monitoring alarms and the dashboard of each dataset, as the stack builds them from the configuration.

Each alarm names the metric its publisher emits (the monitor's per-endpoint ``Drift``, SageMaker's
``Invocations``, the validation function's ``AcceptedVersions``, the feedback function's
``Realized_<metric>``), counts N of M as configured, treats
missing data as its meaning requires, and notifies the alert topic on ALARM and on OK. The dashboard's
graphs name the endpoint's metrics.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Template

from stacks.constructs.monitoring_alarms import day_periods
from tests.conftest import CloudAssembly
from tests.infra.template_support import MONITORING, of_type

pytestmark = pytest.mark.slow

TOPIC = {"Fn::ImportValue": "mlops-foundation:AlertsTopicArn"}
NOTIFIES = {"AlarmActions": [TOPIC], "OKActions": [TOPIC]}


@pytest.fixture(scope="module")
def monitoring(cloud_assembly: CloudAssembly) -> Template:
    return Template.from_json(cloud_assembly.template(MONITORING))


@pytest.fixture(scope="module")
def variant(monitoring_variant: CloudAssembly) -> dict[str, Any]:
    return monitoring_variant.template(MONITORING)


def test_the_drift_alarm_fires_on_n_of_m_drifted_windows_of_the_endpoint(monitoring: Template) -> None:
    monitoring.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "AlarmName": "mlops-churn-drift",
            "Namespace": "MLOpsPlatform",
            "MetricName": "Drift",
            # per endpoint: a version that does not exist yet cannot be named by an alarm
            "Dimensions": [{"Name": "EndpointName", "Value": "mlops-churn"}],
            "Statistic": "Maximum",
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "Threshold": 1,
            "Period": 3600,  # the monitor's window
            "EvaluationPeriods": 3,
            "DatapointsToAlarm": 2,
            # a window without a verdict (no traffic, too few rows) is not drift
            "TreatMissingData": "notBreaching",
            **NOTIFIES,
        },
    )


def test_the_no_traffic_alarm_fires_when_the_endpoint_answers_nothing_for_the_configured_time(
    monitoring: Template,
) -> None:
    monitoring.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "AlarmName": "mlops-churn-no-traffic",
            "Namespace": "AWS/SageMaker",
            "MetricName": "Invocations",
            "Dimensions": [
                {"Name": "EndpointName", "Value": "mlops-churn"},
                {"Name": "VariantName", "Value": "AllTraffic"},
            ],
            "Statistic": "Sum",
            "ComparisonOperator": "LessThanThreshold",
            "Threshold": 1,
            "Period": 3600,
            "EvaluationPeriods": 1,
            "TreatMissingData": "breaching",  # SageMaker publishes no datapoint for no request
            **NOTIFIES,
        },
    )


def test_the_no_new_data_alarm_watches_accepted_versions_over_a_week_in_periods_cloudwatch_takes(
    monitoring: Template,
) -> None:
    monitoring.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "AlarmName": "mlops-churn-no-new-data",
            "Namespace": "MLOpsPlatform",
            "MetricName": "AcceptedVersions",
            "Dimensions": [{"Name": "Dataset", "Value": "churn"}],
            "Statistic": "Sum",
            "ComparisonOperator": "LessThanThreshold",
            "Threshold": 1,
            # 168 hours: seven days, each empty (a period is at most a day)
            "Period": 86400,
            "EvaluationPeriods": 7,
            "DatapointsToAlarm": 7,
            "TreatMissingData": "breaching",
            **NOTIFIES,
        },
    )


def test_alarms_follow_the_configuration_and_a_disabled_dataset_has_none(variant: dict[str, Any]) -> None:
    alarms = {
        a["Properties"]["AlarmName"]: a["Properties"]
        for a in of_type(variant, "AWS::CloudWatch::Alarm").values()
    }

    # churn: 30-minute windows, 3 of 4; no no-traffic alarm; 36 hours of no new data as 2 periods of 18 h;
    # its realized accuracy watched. retail: monitoring disabled, no alarm at all. (The feedback function's
    # errors alarm is the stack's whatever the datasets' monitoring.)
    assert set(alarms) == {
        "mlops-churn-drift", "mlops-churn-no-new-data", "mlops-churn-performance", "mlops-feedback-errors"
    }  # fmt: skip
    drift, no_data = alarms["mlops-churn-drift"], alarms["mlops-churn-no-new-data"]
    assert (drift["Period"], drift["EvaluationPeriods"], drift["DatapointsToAlarm"]) == (1800, 4, 3)
    assert (no_data["Period"], no_data["EvaluationPeriods"], no_data["DatapointsToAlarm"]) == (
        18 * 3600,
        2,
        2,
    )


@pytest.mark.parametrize(
    ("hours", "periods"),
    [(1, (1, 1)), (24, (24, 1)), (36, (18, 2)), (48, (24, 2)), (168, (24, 7)), (25, (5, 5)), (167, (1, 167))],
)
def test_a_span_longer_than_a_day_is_whole_periods_of_at_most_a_day(
    hours: int, periods: tuple[int, int]
) -> None:
    period, count = day_periods(hours)

    assert (period, count) == periods
    assert period <= 24 and period * count == hours


def _dashboard(template: dict[str, Any], name: str) -> dict[str, Any]:
    (dashboard,) = [
        d["Properties"] for d in of_type(template, "AWS::CloudWatch::Dashboard").values()
        if d["Properties"]["DashboardName"] == name
    ]  # fmt: skip
    parts = dashboard["DashboardBody"]["Fn::Join"][1]
    return json.loads("".join(p if isinstance(p, str) else "TOKEN" for p in parts))  # type: ignore[no-any-return]


def _graphs(body: dict[str, Any]) -> dict[str, list[Any]]:
    return {
        w["properties"]["title"]: w["properties"]["metrics"] for w in body["widgets"] if w["type"] == "metric"
    }


def test_the_dashboard_shows_drift_traffic_errors_latency_new_data_and_training_outcomes(
    cloud_assembly: CloudAssembly,
) -> None:
    graphs = _graphs(_dashboard(cloud_assembly.template(MONITORING), "mlops-churn"))
    named = {title: json.dumps(metrics) for title, metrics in graphs.items()}

    def metric(title: str) -> str:
        (found,) = [text for name, text in named.items() if name.startswith(title)]
        return found

    assert '"MLOpsPlatform", "Drift", "EndpointName", "mlops-churn"' in metric("Drift verdict")
    assert '"MLOpsPlatform", "DriftedShare", "EndpointName", "mlops-churn"' in metric("Drift verdict")
    # every version's prediction drift and every published feature's score, found by SEARCH
    assert (
        'SEARCH(\'{MLOpsPlatform,EndpointName,ModelVersion} MetricName=\\"PredictionDrift\\" '
        "EndpointName=\\\"mlops-churn\\\"', 'Maximum', 3600)" in metric("Prediction drift")
    )
    assert '{MLOpsPlatform,EndpointName,Feature,ModelVersion} MetricName=\\"FeatureDrift\\"' in metric(
        "Feature drift"
    )
    endpoint = '"EndpointName", "mlops-churn", "VariantName", "AllTraffic"'
    assert f'"AWS/SageMaker", "Invocations", {endpoint}' in metric("Traffic")
    assert f'"Invocation4XXErrors", {endpoint}' in metric("Errors")
    assert f'"Invocation5XXErrors", {endpoint}' in metric("Errors")
    assert f'"ModelLatency", {endpoint}' in metric("Model latency")
    assert '"MLOpsPlatform", "AcceptedVersions", "Dataset", "churn"' in metric("Accepted dataset versions")
    outcomes = metric("Training outcomes")
    for name, service in (("PipelineRunsStarted", "retraining-policy"), ("ModelsApproved", "training-gate"),
                          ("ModelsRejected", "training-gate")):  # fmt: skip
        assert f'"{name}", "dataset", "churn", "service", "{service}"' in outcomes


def test_the_dashboard_lists_the_dataset_s_alarms_with_its_endpoint_s_rollback_alarms(
    cloud_assembly: CloudAssembly,
) -> None:
    template = cloud_assembly.template(MONITORING)
    body = _dashboard(template, "mlops-churn")

    (alarms,) = [w["properties"]["alarms"] for w in body["widgets"] if w["type"] == "alarm"]
    # four of this stack's (by reference: drift, no traffic, no new data, performance) and the serving
    # stack's two, by name
    assert alarms.count("TOKEN") == 4
    assert [a.rsplit(":", 1)[1] for a in alarms if a != "TOKEN"] == [
        "mlops-churn-invocation-5xx-errors",
        "mlops-churn-model-latency",
    ]


def test_a_dataset_whose_monitoring_is_disabled_keeps_its_dashboard(variant: dict[str, Any]) -> None:
    names = {
        d["Properties"]["DashboardName"] for d in of_type(variant, "AWS::CloudWatch::Dashboard").values()
    }

    assert names == {"mlops-churn", "mlops-retail"}
    graphs = json.dumps(_graphs(_dashboard(variant, "mlops-retail")))
    assert '"Invocations", "EndpointName", "mlops-retail"' in graphs


def test_the_performance_alarm_fires_on_one_datapoint_of_the_realized_metric_below_its_floor(
    variant: dict[str, Any],
) -> None:
    # Given churn's realized accuracy watched against 0.75 (conftest.monitoring_variant)
    Template.from_json(variant).has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "AlarmName": "mlops-churn-performance",
            "Namespace": "MLOpsPlatform",
            "MetricName": "Realized_accuracy",
            # per endpoint: the feedback function publishes its newest labelled version's value there
            "Dimensions": [{"Name": "EndpointName", "Value": "mlops-churn"}],
            "Statistic": "Average",
            "ComparisonOperator": "LessThanThreshold",  # a value equal to the floor passes, as at the gate
            "Threshold": 0.75,
            "EvaluationPeriods": 1,
            "DatapointsToAlarm": 1,
            # labels come in files days apart: between two files the alarm keeps what the last one said
            "TreatMissingData": "ignore",
            **NOTIFIES,
        },
    )


def test_by_default_the_performance_alarm_watches_the_gate_s_metric_against_its_min(
    monitoring: Template,
) -> None:
    # cdk.json's churn gate: ROC AUC, min 0.65, scored from the probabilities the captured answers carry
    monitoring.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "AlarmName": "mlops-churn-performance",
            "MetricName": "Realized_roc_auc",
            "Dimensions": [{"Name": "EndpointName", "Value": "mlops-churn"}],
            "ComparisonOperator": "LessThanThreshold",
            "Threshold": 0.65,
        },
    )


def test_the_dashboard_shows_the_realized_metric_against_its_floor_and_the_labelled_rows_per_version(
    variant: dict[str, Any], cloud_assembly: CloudAssembly
) -> None:
    body = _dashboard(variant, "mlops-churn")
    graphs = _graphs(body)
    (realized,) = [
        w["properties"] for w in body["widgets"] if w["properties"].get("title", "").startswith("Realized")
    ]
    named = {title.split(" ")[0]: json.dumps(metrics) for title, metrics in graphs.items()}

    (floor,) = realized["annotations"]["horizontal"]
    assert (floor["value"], floor["label"]) == (0.75, "floor 0.75")
    assert '"MLOpsPlatform", "Realized_accuracy", "EndpointName", "mlops-churn"' in named["Realized"]
    assert 'MetricName=\\"Realized_accuracy\\"' in named["Realized"]  # every version, by SEARCH
    assert '{MLOpsPlatform,EndpointName,ModelVersion} MetricName=\\"LabelledRows\\"' in named["Labelled"]
    # cdk.json's churn: its gate's ROC AUC against 0.65
    default = _dashboard(cloud_assembly.template(MONITORING), "mlops-churn")
    (watched,) = [
        w["properties"] for w in default["widgets"] if w["properties"].get("title", "").startswith("Realized")
    ]
    assert watched["annotations"]["horizontal"][0]["value"] == 0.65
    assert '"Realized_roc_auc", "EndpointName", "mlops-churn"' in json.dumps(watched)
