"""Helpers of the local cloud's monitoring tests: a Python function made through the API, its log, and a
role Scheduler may assume.

The function prints each event it receives as one JSON line (``EVENT <json>``), the lines it is given
in ``event["print"]`` as they are (EMF documents, for one), and for ``event["emf"]`` one EMF document
(``namespace``, ``name``, ``value``, ``dimensions``, ``at``: ISO-8601), so that a test reads what a
schedule or a rule delivered, and what CloudWatch Logs made of the lines, from the function's logs.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from typing import Any

from localcloud import LocalCloud
from tests.iam_roles import LAMBDA_LOGS, create_role

CODE = """
import json
from datetime import datetime


def handler(event, context):
    print("EVENT " + json.dumps(event))
    if not isinstance(event, dict):
        return "done"
    for line in event.get("print", []):
        print(line)
    if "emf" in event:  # one metric, timed by the event (a schedule's scheduled time), as the monitor does
        emf = event["emf"]
        at = datetime.fromisoformat(emf["at"].replace("Z", "+00:00"))
        directive = {"Namespace": emf["namespace"], "Dimensions": [list(emf["dimensions"])],
                     "Metrics": [{"Name": emf["name"], "Unit": "None"}]}
        metadata = {"Timestamp": int(at.timestamp() * 1000), "CloudWatchMetrics": [directive]}
        print(json.dumps({"_aws": metadata, emf["name"]: emf["value"], **emf["dimensions"]}))
    return "done"
"""


def python_function(cloud: LocalCloud, name: str, statements: list[dict[str, Any]] | None = None) -> str:
    """Create function ``name`` (the code above) and its role; return the function's ARN.

    The role has ``statements`` when given, else only what writing its logs needs.
    """
    granted = [LAMBDA_LOGS] if statements is None else statements
    role = create_role(cloud.client("iam"), f"{name}-role", trusts="lambda.amazonaws.com", statements=granted)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("index.py", CODE)
    created = cloud.client("lambda").create_function(
        FunctionName=name, Runtime="python3.12", Role=role, Handler="index.handler",
        Code={"ZipFile": archive.getvalue()},
    )  # fmt: skip
    return str(created["FunctionArn"])


def scheduler_role(cloud: LocalCloud, name: str, *statements: dict[str, Any], group: str = "default") -> str:
    """A role Scheduler may assume for ``group``'s schedules only, as CDK writes its trust policy."""
    account, region = cloud.account_id, cloud.region
    conditions = {
        "StringEquals": {
            "aws:SourceAccount": account,
            "aws:SourceArn": f"arn:aws:scheduler:{region}:{account}:schedule-group/{group}",
        }
    }
    return create_role(
        cloud.client("iam"),
        name,
        trusts="scheduler.amazonaws.com",
        statements=list(statements),
        conditions=conditions,
    )


def received(cloud: LocalCloud, name: str) -> list[Any]:
    """The events function ``name`` printed, oldest first."""
    group = f"/aws/lambda/{name}"
    if not cloud.client("logs").describe_log_groups(logGroupNamePrefix=group)["logGroups"]:
        return []
    events = cloud.client("logs").filter_log_events(logGroupName=group)["events"]
    ordered = sorted(events, key=lambda e: (e["timestamp"], e.get("ingestionTime", 0)))
    return [json.loads(e["message"][6:]) for e in ordered if e["message"].startswith("EVENT ")]


def wait_for(probe: Any, timeout: float = 15.0) -> Any:
    """Poll ``probe()`` until it returns something truthy; return it (fail after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := probe():
            return found
        time.sleep(0.2)
    raise AssertionError(f"nothing came within {timeout} s")
