"""``mlops drift``: check a dataset's live traffic for drift now, and read its latest drift report.

``check`` invokes the drift monitor function (stack output ``DriftMonitorFunctionName``) synchronously,
as its schedule does, with the window asked for (:mod:`cli.drift_window`); the monitor writes its report
and publishes its metrics as on a schedule, and answers with the report's summary, printed here per
model version. ``report`` finds the newest report under ``monitoring/<dataset>/reports/`` in the data
bucket, saves its HTML page to a local file and, with ``--open``, opens it in the browser.
"""

from __future__ import annotations

import json
import webbrowser
from pathlib import Path
from typing import Annotated, Any, Protocol

import typer
from botocore.exceptions import BotoCoreError, ClientError

from adapters.aws import client, error_message, waiting_client
from cli.common import CloudOption, JsonOption, clear_errors, console, fail, plain, platform
from cli.drift_summary import SummaryError, print_summary, read_summary
from cli.drift_window import WindowError, parse_window
from cli.target import Cloud, cloud_now
from domain.monitoring.report import reports_prefix

app = typer.Typer(
    help="Drift: check live traffic against the model's baseline; read reports.", no_args_is_help=True
)

FUNCTION_OUTPUT = "DriftMonitorFunctionName"
#: How long ``check`` waits for the monitor: Lambda's longest run (15 minutes), and a minute.
MONITOR_WAIT_SECONDS = 16 * 60
REPORT_JSON, REPORT_HTML = "report.json", "report.html"

DatasetArgument = Annotated[
    str, typer.Argument(help="The dataset whose endpoint is watched.", show_default=False)
]


class DriftError(Exception):
    """The monitor failed, or a report cannot be found or read; the message says which and why."""


class MonitorFunction(Protocol):
    """The drift monitor function, invoked and waited for."""

    def check(self, function: str, event: dict[str, str]) -> dict[str, Any]:
        """The monitor's answer (the report's summary) to ``event``.

        Raises
        ------
        DriftError
            If the function failed (its error named) or could not be invoked.
        """
        ...


class ReportBucket(Protocol):
    """The data bucket's drift reports."""

    def report_folders(self, prefix: str) -> list[str]:
        """The report folders directly under ``prefix`` (each ending in ``/``)."""
        ...

    def read(self, key: str) -> bytes | None:
        """An object's bytes, None if there is none."""
        ...


class LambdaMonitor:
    """:class:`MonitorFunction` on Lambda's Invoke (RequestResponse), waited for as long as the function
    may run and never retried (a retry would check the window, and write its report, twice)."""

    def check(self, function: str, event: dict[str, str]) -> dict[str, Any]:
        """Invoke ``function`` with ``event`` and wait for its answer."""
        try:
            response = waiting_client("lambda", MONITOR_WAIT_SECONDS).invoke(
                FunctionName=function, InvocationType="RequestResponse", Payload=json.dumps(event).encode()
            )
        except ClientError as error:
            raise DriftError(f"cannot invoke the drift monitor {function}: {error_message(error)}") from None
        except BotoCoreError as error:
            raise DriftError(f"cannot reach Lambda to invoke the drift monitor: {error}") from None
        payload = response["Payload"].read()
        try:
            answer = json.loads(payload or b"null")
        except ValueError:
            answer = None
        if response.get("FunctionError"):
            raise DriftError(function_error(function, answer, payload))
        if not isinstance(answer, dict):
            raise DriftError(f"the drift monitor {function} answered something that is not a report summary")
        return answer


def function_error(function: str, answer: Any, payload: bytes) -> str:
    """A failed invocation as one line: the monitor's own error type and message, and where its logs are."""
    if isinstance(answer, dict) and answer.get("errorMessage"):
        kind = f"{answer['errorType']}: " if answer.get("errorType") else ""
        reason = f"{kind}{answer['errorMessage']}"
    else:
        reason = payload.decode("utf-8", errors="replace")[:500] or "no details"
    return f"the drift monitor {function} failed: {reason} (its log group: /aws/lambda/{function})"


class S3Reports:
    """:class:`ReportBucket` on S3."""

    def __init__(self, bucket: str) -> None:
        self.bucket = bucket

    def report_folders(self, prefix: str) -> list[str]:
        """The folders under ``prefix``, one per report."""
        pages = (
            client("s3")
            .get_paginator("list_objects_v2")
            .paginate(Bucket=self.bucket, Prefix=prefix, Delimiter="/")
        )
        return [common["Prefix"] for page in pages for common in page.get("CommonPrefixes", [])]

    def read(self, key: str) -> bytes | None:
        """An object's bytes, None if it does not exist."""
        s3 = client("s3")
        try:
            return bytes(s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())
        except s3.exceptions.NoSuchKey:
            return None


def monitor_function() -> MonitorFunction:
    """Where ``check`` sends its window (a test puts a fake here)."""
    return LambdaMonitor()


def report_bucket(bucket: str) -> ReportBucket:
    """Where ``report`` reads reports (a test puts a fake here)."""
    return S3Reports(bucket)


def latest_report(reports: ReportBucket, dataset: str) -> str:
    """The newest report folder of ``dataset`` (folders are named by the window's end, compact UTC).

    Raises
    ------
    DriftError
        If the dataset has no report yet.
    """
    prefix = reports_prefix(dataset)
    folders = reports.report_folders(prefix)
    if not folders:
        raise DriftError(
            f"no drift report for {dataset!r} yet (none under {prefix}): run `mlops drift check {dataset}` "
            "or wait for its schedule"
        )
    return max(folders)


def default_html_path(dataset: str, folder: str) -> Path:
    """Where ``report`` saves a report's page: ``~/.mlops/drift-reports/<dataset>/<window end>.html``."""
    return (
        Path.home() / ".mlops" / "drift-reports" / dataset / f"{folder.rstrip('/').rsplit('/', 1)[-1]}.html"
    )


@app.command()
@clear_errors
def check(
    dataset: DatasetArgument,
    since: Annotated[
        str | None,
        typer.Option(
            help="The window's start: an ISO 8601 time, or a duration before its end (30m, 2h, 1d)."
        ),
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="The window's end (exclusive), ISO 8601; default now.")
    ] = None,
    cloud: CloudOption = Cloud.auto,
    as_json: JsonOption = False,
) -> None:
    """Check DATASET's captured traffic for drift now: per model version, what drifted and the report."""
    target = platform(cloud)
    now = cloud_now()  # the window ends at the target's now, which the local cloud's clock moves ahead
    try:
        window = parse_window(since, until or now.isoformat(), now)
    except WindowError as error:
        fail(str(error))
    function = target.output(FUNCTION_OUTPUT)
    try:
        summary = monitor_function().check(function, window.event(dataset))
    except DriftError as error:
        fail(str(error), code=1)
    if as_json:
        console.print_json(json.dumps(summary, default=str))
        return
    try:
        read = read_summary(summary)
    except SummaryError as error:
        fail(str(error), code=1)
    print_summary(read)


@app.command()
@clear_errors
def report(
    dataset: DatasetArgument,
    open_it: Annotated[bool, typer.Option("--open", help="Open the report's page in the browser.")] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Where to save the page (default ~/.mlops/drift-reports/<dataset>/<window end>.html)."
        ),
    ] = None,
    cloud: CloudOption = Cloud.auto,
    as_json: JsonOption = False,
) -> None:
    """Show DATASET's latest drift report: its page saved to a local file (and opened), or its JSON."""
    target = platform(cloud)
    reports = report_bucket(target.bucket)
    try:
        folder = latest_report(reports, dataset)
    except DriftError as error:
        fail(str(error), code=1)
    if as_json:
        document = reports.read(f"{folder}{REPORT_JSON}")
        if document is None:
            fail(f"the report {folder} has no {REPORT_JSON}: it was not written whole", code=1)
        console.print_json(document.decode("utf-8"))
        if not open_it:
            return
    page = reports.read(f"{folder}{REPORT_HTML}")
    if page is None:
        fail(f"the report {folder} has no {REPORT_HTML}: it was not written whole", code=1)
    path = out or default_html_path(dataset, folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(page)
    where = f"s3://{target.bucket}/{folder}"
    if not as_json:
        console.print(f"latest report of {plain(dataset)}: {plain(where)}", highlight=False, soft_wrap=True)
        console.print(f"saved to {plain(path)}", highlight=False, soft_wrap=True)
    if open_it and not webbrowser.open(path.resolve().as_uri()):
        fail(f"no browser to open {path} with: open the file by hand", code=1)
