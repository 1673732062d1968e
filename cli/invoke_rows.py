"""``mlops endpoints invoke`` of a file's rows in several requests: ``--batch N`` (N rows a request, the
predictions counted), and ``--inference-id-column COL | --inference-ids`` (each row its own request, named).

An app that wants its predictions labelled later sends each request with an ``InferenceId``; the endpoint's
data capture keeps it beside the request, and a label file names the row by it (``mlops feedback push``).
This sends a file that way, one row per request, and prints each row's ID beside its prediction, so that
the IDs to label are known.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

from rich import box
from rich.table import Table

from cli.common import console, fail, plain
from cli.request_batches import RowRequest
from cli.tables import flexible, print_table

__all__ = ["RefusedError", "send_batches", "send_rows"]

#: ``InvokeEndpoint`` of one request: (body, inference ID) -> the response; raises :class:`RefusedError`.
Invoke = Callable[[bytes, str], dict[str, Any]]


class RefusedError(Exception):
    """The model refused a request (SageMaker's ModelError): its status and message, as one line."""


def send_batches(
    endpoint: str,
    requests: list[bytes],
    invoke: Callable[[bytes], dict[str, Any]],
    *,
    batch: int,
    as_json: bool,
) -> None:
    """Send each request in turn; print the rows answered and how many of each prediction."""
    counts: Counter[str] = Counter()
    refusals: list[str] = []
    with console.status(f"sending {len(requests)} request(s) to {plain(endpoint)} ..."):
        for body in requests:
            try:
                response = invoke(body)
            except RefusedError as refused:
                refusals.append(str(refused))
                continue
            predictions = json.loads(response["Body"].read()).get("predictions", [])
            counts.update(str(prediction.get("prediction")) for prediction in predictions)
    rows, answered = sum(counts.values()), len(requests) - len(refusals)
    if as_json:
        summary = {"endpoint": endpoint, "requests": len(requests), "answered": answered, "rows": rows,
                   "predictions": dict(sorted(counts.items())), "refused": len(refusals)}  # fmt: skip
        console.print_json(json.dumps(summary))
    else:
        shares = ", ".join(f"{plain(label)}: {count:,}" for label, count in sorted(counts.items()))
        console.print(
            f"{plain(endpoint)}: {rows:,} row(s) answered in {answered} of {len(requests)} request(s) of at "
            f"most {batch} row(s); predictions {shares or 'none'}",
            highlight=False,
            soft_wrap=True,
        )
    if refusals:
        fail(f"the model refused {len(refusals)} request(s); the first {refusals[0]}", code=1)


def send_rows(endpoint: str, requests: list[RowRequest], invoke: Invoke, *, as_json: bool) -> None:
    """Send each row in turn with its ID; print row, ID and prediction (a refused row says why).

    Exits with 1 after printing when the model refused a row.
    """
    answered: list[dict[str, Any]] = []
    with console.status(f"sending {len(requests)} row(s) to {plain(endpoint)}, one per request ..."):
        for request in requests:
            entry: dict[str, Any] = {"row": request.row, "inference_id": request.inference_id}
            try:
                response = invoke(request.body, request.inference_id)
            except RefusedError as refused:
                answered.append({**entry, "refused": str(refused)})
                continue
            predictions = json.loads(response["Body"].read()).get("predictions") or [{}]
            # One row was sent: its prediction is the answer's only one.
            answered.append({**entry, "prediction": predictions[0].get("prediction"),
                             "probabilities": predictions[0].get("probabilities")})  # fmt: skip
    if as_json:
        console.print_json(json.dumps({"endpoint": endpoint, "rows": answered}))
    else:
        _print(endpoint, answered)
    refusals = [entry for entry in answered if "refused" in entry]
    if refusals:
        first = refusals[0]
        fail(
            f"the model refused {len(refusals)} of {len(answered)} row(s); the first, row {first['row']} "
            f"({first['inference_id']}), {first['refused']}",
            code=1,
        )


def _print(endpoint: str, answered: list[dict[str, Any]]) -> None:
    table = Table(
        flexible("row", justify="right"),
        flexible("inference id"),
        flexible("prediction"),
        flexible("probabilities"),
        title=plain(f"{endpoint}: {len(answered)} request(s), one row each"),
        box=box.SIMPLE_HEAD,
    )
    for entry in answered:
        probabilities = entry.get("probabilities") or {}
        table.add_row(
            str(entry["row"]),
            plain(entry["inference_id"]),
            plain(entry["prediction"]) if "refused" not in entry else "[red]refused[/red]",
            plain("  ".join(f"{label}: {p:.3f}" for label, p in probabilities.items())),
        )
    print_table(table)
