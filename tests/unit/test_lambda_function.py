"""The shared Lambda wiring: settings read once, adapters made once, a step's errors bounded.

No network: the adapters here are plain objects, the context a hand-written fake, and Powertools' tracer
is disabled as it is off Lambda.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent
from pydantic import BaseModel

from adapters.lambda_function import LambdaFunction
from domain.state_limits import MAX_TEXT

REPO = Path(__file__).resolve().parents[2]


class GateSettings(BaseModel):
    data_bucket: str


class FakeContext:
    """What Powertools reads from a Lambda context."""

    function_name = "gate"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:gate"
    aws_request_id = "request-1"


class SplitRejectedError(Exception):
    """An error the workflow catches by name."""


@pytest.fixture
def function(monkeypatch: pytest.MonkeyPatch) -> LambdaFunction[GateSettings]:
    for name, value in {"POWERTOOLS_SERVICE_NAME": "training-gate", "POWERTOOLS_METRICS_NAMESPACE": "MLOps",
                        "POWERTOOLS_TRACE_DISABLED": "1", "DATA_BUCKET": "data-1"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    return LambdaFunction(GateSettings, __file__)


def test_settings_and_adapters_are_made_once_until_forgotten(
    function: LambdaFunction[GateSettings], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an adapter built from the settings
    made: list[str] = []

    def build(settings: GateSettings) -> str:
        made.append(settings.data_bucket)
        return settings.data_bucket

    store = function.adapter(build)

    # When it is asked for twice, then again after the environment changed and the function forgot
    first, again = store(), store()
    monkeypatch.setenv("DATA_BUCKET", "data-2")
    kept = store()
    function.forget()
    renewed = store()

    # Then it was made once per execution environment, and again only once forgotten
    assert (first, again, kept, renewed) == ("data-1", "data-1", "data-1", "data-2")
    assert made == ["data-1", "data-2"]
    assert function.settings().data_bucket == "data-2"


def test_a_step_s_error_reaches_the_workflow_bounded_with_its_name(
    function: LambdaFunction[GateSettings], capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a step whose error quotes 1 MB, noted on its way out
    @function.step
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        with function.noting(SplitRejectedError, metric="SplitsRejected", message="cannot split"):
            raise SplitRejectedError("rows " + "x" * 1_000_000)

    # When it runs
    with pytest.raises(Exception) as raised:
        handler({}, FakeContext())

    # Then the workflow sees the same error name (it catches by name) with a bounded message, and the
    # metric was published
    assert type(raised.value).__name__ == "SplitRejectedError"
    assert len(str(raised.value)) <= MAX_TEXT
    published = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert [entry["SplitsRejected"] for entry in published] == [[1.0]]
    assert published[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "MLOps"


def test_a_handler_reads_its_event_as_the_data_class_it_names(function: LambdaFunction[GateSettings]) -> None:
    # Given a handler of EventBridge events
    @function.handler(EventBridgeEvent)
    def handler(event: EventBridgeEvent, context: Any) -> dict[str, Any]:
        function.tag("churn", dataset="churn")
        function.count("Seen")
        return {"detail_type": event.detail_type}

    # When an event arrives as Lambda passes it (a dict)
    event: Any = {"detail-type": "Dataset Version Accepted", "detail": {}}
    answer = handler(event, FakeContext())

    # Then the handler was given the typed event
    assert answer == {"detail_type": "Dataset Version Accepted"}


def test_the_wiring_of_a_function_that_only_logs_imports_no_tracer_and_no_event_classes() -> None:
    # Given a fresh interpreter, as a Lambda cold start
    code = (
        "import sys; from pydantic import BaseModel; from adapters.lambda_function import LambdaFunction; "
        "f = LambdaFunction(BaseModel, 'handler.py', observed=False); f.handler()(lambda e, c: e); "
        "print(sorted(m for m in ('aws_xray_sdk', 'aws_lambda_powertools.utilities.data_classes') "
        "if m in sys.modules))"
    )

    # When a function that only logs is declared with a handler of plain events
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)

    # Then neither the X-Ray SDK nor Powertools' event classes were imported
    assert out.stdout.strip() == "[]"


def test_the_outcome_and_a_noted_error_are_logged_from_the_handler_s_line(
    function: LambdaFunction[GateSettings],  # its environment
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a function of its own service (Powertools keeps one logger a service, writing where it was
    # first made), whose step reports its outcome, then notes an error the workflow expects
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "wiring-log-location")
    prepare = LambdaFunction(GateSettings, __file__)

    @prepare.step
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        prepare.report("channels ready", {"rows": 3})
        with prepare.noting(SplitRejectedError, metric="SplitsRejected", message="cannot split"):
            raise SplitRejectedError("too few rows")

    # When it runs
    with pytest.raises(SplitRejectedError):
        handler({}, FakeContext())

    # Then each line is located in the handler, as when the handler logged it itself
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"level"' in line]
    assert [(line["message"], line["location"].split(":")[0]) for line in lines] == [
        ("channels ready", "handler"),
        ("cannot split", "handler"),
    ]
