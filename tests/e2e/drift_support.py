"""The drift monitoring tests' traffic, windows and readings of a real-time endpoint in the local cloud."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

from cli.drift import LambdaMonitor
from domain.monitoring.report import report_keys
from domain.names import drift_alarm_name
from examples.churn import chunks, request_csv
from tests.e2e.conftest import DataPlane
from tests.iam_roles import let_service_send

DATASET, ENDPOINT = "churn", "mlops-churn"
DRIFT_ALARM = drift_alarm_name(ENDPOINT)
SCHEDULE = timedelta(hours=1)  # cdk.json's default schedule, rate(1 hour), and window, 60 minutes
WINDOW_ROWS = 300  # a window of a few hundred rows, over min_rows (200)


def iso(moment: datetime) -> str:
    """A time as the monitor's event and the report write it: ISO 8601 UTC with ``Z``."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def traffic(rows: int, seed: int) -> pa.Table:
    """``rows`` request rows from the training distribution (the features, without the target)."""
    return pa.concat_tables(list(chunks(rows, seed=seed))).drop(["churned"])


def without_histograms(report: dict[str, Any]) -> dict[str, Any]:
    """A report.json as the monitor's summary has it."""

    def column(document: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if document is None else {k: v for k, v in document.items() if k != "histogram"}

    versions = [
        {**v, "features": [column(f) for f in v["features"]], "prediction": column(v["prediction"])}
        for v in report["versions"]
    ]
    return {**report, "versions": versions}


@dataclass(frozen=True)
class Live:
    """The platform with churn's endpoint serving, the SDK pointed at the local cloud."""

    platform: DataPlane
    registry: Any
    data: Path

    @property
    def clock(self) -> Any:
        return self.platform.cloud.clock

    @property
    def monitor(self) -> str:
        return self.platform.outputs["DriftMonitorFunctionName"]

    def send(self, rows: pa.Table, per_request: int = WINDOW_ROWS) -> None:
        """``rows`` to the endpoint as CSV requests of ``per_request`` rows, each answered."""
        runtime = self.platform.client("sagemaker-runtime")
        for start in range(0, rows.num_rows, per_request):
            body = request_csv(rows.slice(start, per_request))
            answer = runtime.invoke_endpoint(
                EndpointName=ENDPOINT, ContentType="text/csv", Accept="application/json", Body=body
            )
            predictions = json.loads(answer["Body"].read())["predictions"]
            assert len(predictions) == min(per_request, rows.num_rows - start)

    def window(self, rows: pa.Table, per_request: int = WINDOW_ROWS) -> tuple[datetime, datetime]:
        """``rows`` sent in a window of their own (:meth:`around`)."""
        return self.around(lambda: self.send(rows, per_request))

    def around(self, send: Callable[[], None]) -> tuple[datetime, datetime]:
        """``[since, until)`` holding the captures of what ``send`` sends, and no other.

        Captures are timed to the second by the clock: the window runs from the second the first request
        starts in to the second after the last one, and the clock is then moved past it.
        """
        since = self.clock.now().replace(microsecond=0)
        send()
        until = self.clock.now().replace(microsecond=0) + timedelta(seconds=1)
        self.platform.cloud.wait_idle(timeout=120)  # the captures written
        self.clock.advance(max(until - self.clock.now(), timedelta(0)) + timedelta(milliseconds=1))
        return since, until

    def check(self, since: datetime, until: datetime) -> dict[str, Any]:
        """The monitor invoked synchronously on ``[since, until)``, as ``mlops drift check`` invokes it."""
        event = {"dataset": DATASET, "since": iso(since), "until": iso(until)}
        return LambdaMonitor().check(self.monitor, event)

    def scheduled(self, rows: pa.Table | None) -> dict[str, Any]:
        """``rows`` sent now, then the clock advanced to the schedule's next run: that run's report."""
        if rows is not None:
            self.send(rows)
        fired = [f.scheduled_time for f in self._firings()]
        assert fired, "the drift monitor's schedule has not fired since it was deployed"
        due = max(fired) + SCHEDULE  # a rate schedule fires every SCHEDULE from its first firing
        self.clock.advance(due - self.clock.now())
        (firing,) = [f for f in self._firings() if f.scheduled_time == due]
        assert (firing.status, firing.result) == ("invoked", "succeeded"), firing
        report: dict[str, Any] = self.platform.read_json(report_keys(DATASET, due).json)
        assert report["window"] == {"since": iso(due - SCHEDULE), "until": iso(due)}
        return report

    def _firings(self) -> list[Any]:
        return [f for f in self.platform.cloud.schedules() if f.target_arn.endswith(f":{self.monitor}")]

    def alarm(self) -> dict[str, Any]:
        """The drift alarm as CloudWatch describes it."""
        cloudwatch = self.platform.client("cloudwatch")
        (alarm,) = cloudwatch.describe_alarms(AlarmNames=[DRIFT_ALARM])["MetricAlarms"]
        described: dict[str, Any] = alarm
        return described

    def alerts(self, state: str) -> list[dict[str, Any]]:
        """CloudWatch's notifications of the drift alarm going to ``state``, from the alert topic."""
        subject = f'{state}: "{DRIFT_ALARM}" in '
        alerts = self.platform.drain(self.platform.alerts, wait=2.0)
        messages = [json.loads(a["Message"]) for a in alerts if a.get("Subject", "").startswith(subject)]
        return [m for m in messages if m["AlarmName"] == DRIFT_ALARM and m["NewStateValue"] == state]

    def datapoints(self, metric: str, since: datetime, until: datetime, **dims: str) -> list[Any]:
        """The datapoints of ``metric`` (MLOpsPlatform, exactly ``dims``) stamped in ``[since, until)``."""
        answer = self.platform.client("cloudwatch").get_metric_statistics(
            Namespace="MLOpsPlatform",
            MetricName=metric,
            Dimensions=[{"Name": k, "Value": v} for k, v in dims.items()],
            StartTime=since,
            EndTime=until,
            Period=60,
            Statistics=["Maximum", "SampleCount", "Sum"],
        )
        points: list[Any] = answer["Datapoints"]
        return points

    def served(self) -> dict[int, int]:
        """Requests each model version's fleets have served so far (the configuration names the version)."""
        (endpoint,) = [e for e in self.platform.cloud.endpoints() if e.name == ENDPOINT]
        served: dict[int, int] = {}
        for fleet in (*endpoint.fleets, *endpoint.retired):
            version = int(fleet.config_name.removeprefix(f"{ENDPOINT}-v").split("-", 1)[0])
            served[version] = served.get(version, 0) + fleet.invocations
        return served

    def baseline_uri(self, version: int) -> str:
        """Where the registry says version ``version``'s drift baseline is."""
        package = self.platform.client("sagemaker").describe_model_package(
            ModelPackageName=self.registry.version(ENDPOINT, version).arn
        )
        uri: str = package["DriftCheckBaselines"]["ModelDataQuality"]["Constraints"]["S3Uri"]
        return uri


def serving_version_1(platform: DataPlane, registry: Any, data: Path, reason: str) -> Live:
    """Version 1 (trained) approved in the registry and its endpoint awaited InService."""
    registry.approve(registry.version(ENDPOINT, 1).arn, reason=reason, approver="e2e-test")
    platform.cloud.wait_idle(timeout=600)
    endpoint = platform.client("sagemaker").describe_endpoint(EndpointName=ENDPOINT)
    assert endpoint["EndpointStatus"] == "InService"
    return Live(platform=platform, registry=registry, data=data)


def alarm_changes(platform: DataPlane, name: str, alarms: list[str]) -> str:
    """A queue (``name``) that gets the "CloudWatch Alarm State Change" events of ``alarms`` (default bus)."""
    sqs, events = platform.client("sqs"), platform.client("events")
    url: str = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    pattern = {
        "source": ["aws.cloudwatch"],
        "detail-type": ["CloudWatch Alarm State Change"],
        "detail": {"alarmName": alarms},
    }
    rule = events.put_rule(Name=name, EventPattern=json.dumps(pattern))["RuleArn"]
    let_service_send(sqs, url, service="events.amazonaws.com", source_arn=rule)
    events.put_targets(Rule=name, Targets=[{"Id": "queue", "Arn": arn}])
    return url
