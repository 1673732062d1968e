"""``mlops pipeline decisions``: what the retraining policy decided for each trigger, and why."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from adapters.retraining import DynamoDecisions
from cli.common import CloudOption, JsonOption, clock, coloured, console, plain, platform
from cli.tables import flexible, identifier, print_table
from cli.target import Cloud
from domain.retraining.decisions import Decision

DECISIONS_OUTPUT = "DecisionsTableName"
_COLOURS = {"started": "green", "preparing": "cyan", "deferred": "yellow", "skipped": "yellow",
            "superseded": "dim", "duplicate": "dim"}  # fmt: skip


def decision_dict(decision: Decision) -> dict[str, Any]:
    """One decision as ``--json`` prints it: when, the trigger, the outcome and reason, the data, the run."""
    trigger = decision.trigger
    return {
        "decided_at": decision.decided_at.isoformat(),
        "dataset": decision.dataset,
        "decision_id": decision.decision_id,
        "trigger": {
            "kind": trigger.kind,
            "key": trigger.key,
            "at": trigger.at.isoformat(),
            "reason": trigger.reason,
        },
        "outcome": decision.outcome,
        "reason": decision.reason,
        "advice": decision.advice,
        "dataset_version": decision.dataset_version,
        "run": decision.run.name if decision.run else None,
        "defer_until": decision.defer_until.isoformat() if decision.defer_until else None,
    }


def decisions(
    dataset: Annotated[
        str | None, typer.Option("--dataset", "-d", help="Only this dataset's decisions.")
    ] = None,
    limit: Annotated[int, typer.Option(help="How many of the newest decisions.", min=1)] = 50,
    cloud: CloudOption = Cloud.auto,
    as_json: JsonOption = False,
) -> None:
    """List the retraining policy's decisions, newest first: trigger, outcome, reason, data and run."""
    target = platform(cloud)
    found = [
        decision_dict(d)
        for d in DynamoDecisions(target.output(DECISIONS_OUTPUT)).decisions(dataset, limit=limit)
    ]
    if as_json:
        console.print_json(json.dumps(found, default=str))
        return
    if not found:
        console.print("no retraining decision yet" + (f" for {plain(dataset)}" if dataset else "") + ".")
        return
    table = Table(
        flexible("decided"), identifier("dataset"), flexible("trigger"), flexible("outcome"),
        flexible("reason"), identifier("data"), identifier("run"),
        title=f"{len(found)} decision(s)", box=box.SIMPLE_HEAD,
    )  # fmt: skip
    for item in found:
        reason = item["reason"] + (f" ({item['advice']})" if item["advice"] else "")
        table.add_row(
            clock(item["decided_at"]), plain(item["dataset"]), plain(item["trigger"]["kind"]),
            coloured(item["outcome"], _COLOURS), plain(reason), plain((item["dataset_version"] or "-")[:12]),
            plain(item["run"] or "-"),
        )  # fmt: skip
    print_table(table)
