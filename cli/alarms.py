"""``mlops alarms``: the platform's CloudWatch alarms, their state and why.

Per dataset with an endpoint: the rollback alarms of its endpoint (5xx errors, model latency), its drift
and no-traffic alarms, and the dataset's no-new-data alarm, by the names the stacks give them
(``domain.names``). An alarm the stacks did not create (monitoring turned off for a dataset) is not listed.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Annotated, Any, Protocol

import typer
from botocore.exceptions import BotoCoreError, ClientError
from rich import box
from rich.table import Table

from adapters.aws import client, error_message
from cli.common import CloudOption, JsonOption, clear_errors, clock, coloured, console, fail, plain, platform
from cli.endpoints import endpoints_of
from cli.tables import flexible, identifier, print_table
from cli.target import Cloud, Platform
from domain.names import (
    alarm_names,
    drift_alarm_name,
    no_new_data_alarm_name,
    no_traffic_alarm_name,
    performance_alarm_name,
)

app = typer.Typer(help="Alarms: the endpoints' and the datasets' CloudWatch alarms.", no_args_is_help=True)

_COLOURS = {"OK": "green", "ALARM": "red", "INSUFFICIENT_DATA": "yellow"}
_DESCRIBE_BATCH = 100  # DescribeAlarms takes at most 100 AlarmNames


class AlarmReadError(Exception):
    """CloudWatch did not answer with the alarms; the message says why."""


@dataclass(frozen=True)
class AlarmState:
    """One alarm as CloudWatch describes it."""

    name: str
    state: str
    reason: str
    updated_at: str


@dataclass(frozen=True)
class ProjectAlarm:
    """One of the project's alarms: what it watches, for which dataset, and its state."""

    name: str
    dataset: str
    kind: str
    state: str
    reason: str
    updated_at: str


class AlarmReader(Protocol):
    """Reads alarms by name (CloudWatch's DescribeAlarms)."""

    def describe(self, names: list[str]) -> list[AlarmState]:
        """The alarms of ``names`` that exist (the others are left out)."""
        ...


class CloudWatchAlarms:
    """:class:`AlarmReader` on CloudWatch."""

    def describe(self, names: list[str]) -> list[AlarmState]:
        """The alarms of ``names`` that exist, in batches of 100."""
        found: list[AlarmState] = []
        for start in range(0, len(names), _DESCRIBE_BATCH):
            batch = names[start : start + _DESCRIBE_BATCH]
            try:
                alarms = client("cloudwatch").describe_alarms(AlarmNames=batch, AlarmTypes=["MetricAlarm"])
            except ClientError as error:
                raise AlarmReadError(
                    f"CloudWatch refused to describe the alarms: {error_message(error)}"
                ) from None
            except BotoCoreError as error:
                raise AlarmReadError(f"cannot reach CloudWatch: {error}") from None
            found += [
                AlarmState(
                    name=alarm["AlarmName"],
                    state=alarm.get("StateValue", "INSUFFICIENT_DATA"),
                    reason=alarm.get("StateReason", ""),
                    updated_at=_iso(alarm.get("StateUpdatedTimestamp")),
                )
                for alarm in alarms.get("MetricAlarms", [])
            ]
        return found


def _iso(moment: Any) -> str:
    """boto3 gives a datetime; an ISO 8601 string otherwise kept as it is."""
    return moment.isoformat() if hasattr(moment, "isoformat") else str(moment or "")


def expected_alarms(project: str, endpoints: dict[str, str]) -> dict[str, tuple[str, str]]:
    """Alarm name -> (dataset, kind) for every alarm the stacks create for these dataset endpoints."""
    expected: dict[str, tuple[str, str]] = {}
    for dataset, endpoint in endpoints.items():
        errors, latency = alarm_names(endpoint)
        expected[errors] = (dataset, "rollback: 5xx errors")
        expected[latency] = (dataset, "rollback: model latency")
        expected[drift_alarm_name(endpoint)] = (dataset, "drift")
        expected[no_traffic_alarm_name(endpoint)] = (dataset, "no traffic")
        expected[no_new_data_alarm_name(project, dataset)] = (dataset, "no new data")
        expected[performance_alarm_name(endpoint)] = (dataset, "performance")
    return expected


def project_alarms(target: Platform, reader: AlarmReader, dataset: str | None = None) -> list[ProjectAlarm]:
    """The project's alarms that exist (of one dataset if given), ordered by dataset and name."""
    endpoints = endpoints_of(target)
    if dataset is not None:
        if dataset not in endpoints:
            fail(
                f"{dataset!r} has no endpoint on this platform; "
                f"its datasets: {', '.join(endpoints) or 'none'}"
            )
        endpoints = {dataset: endpoints[dataset]}
    expected = expected_alarms(target.project, endpoints)
    found = [
        ProjectAlarm(
            name=alarm.name,
            dataset=expected[alarm.name][0],
            kind=expected[alarm.name][1],
            state=alarm.state,
            reason=alarm.reason,
            updated_at=alarm.updated_at,
        )
        for alarm in reader.describe(sorted(expected))
        if alarm.name in expected
    ]
    return sorted(found, key=lambda alarm: (alarm.dataset, alarm.name))


def alarm_reader() -> AlarmReader:
    """Where the alarms are read (a test puts a fake here)."""
    return CloudWatchAlarms()


@app.command("list")
@clear_errors
def list_alarms(
    dataset: Annotated[str | None, typer.Option("--dataset", help="Only this dataset's alarms.")] = None,
    cloud: CloudOption = Cloud.auto,
    as_json: JsonOption = False,
) -> None:
    """List the project's alarms: rollback, drift, no traffic, no new data; state, reason, last change."""
    target = platform(cloud)
    try:
        found = project_alarms(target, alarm_reader(), dataset)
    except AlarmReadError as error:
        fail(str(error))
    if as_json:
        console.print_json(json.dumps([asdict(alarm) for alarm in found]))
        return
    table = Table(
        identifier("alarm"),
        *map(flexible, ("dataset", "watches", "state", "since", "reason")),
        title=f"{len(found)} alarm(s)",
        box=box.SIMPLE_HEAD,
    )
    for alarm in found:
        table.add_row(
            plain(alarm.name),
            plain(alarm.dataset),
            plain(alarm.kind),
            coloured(alarm.state, _COLOURS),
            plain(clock(alarm.updated_at)),
            plain(alarm.reason),
        )
    print_table(table)
    if not found:
        console.print(
            "no alarm found: deploy the platform's stacks (`mlops local up`, or `cdk deploy --all`)"
        )
