"""What ``make demo`` needs besides the commands it shows: running them, and waiting for the platform.

The demo shows each step as the ``mlops`` command a user would type (:func:`run`); between two commands it
waits, through the platform's own adapters, for what happens by itself (a training run, a deployment, the
retraining policy's decision), so that the next command shows its outcome rather than a moment before.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from cli.common import console, plain
from cli.target import PROJECT_ROOT

if TYPE_CHECKING:
    from cli.target import Platform
    from domain.retraining.decisions import Decision
    from domain.training.registration import ModelVersion

T = TypeVar("T")
MLOPS = str(Path(sys.executable).with_name("mlops"))
DATA_DIR = PROJECT_ROOT / ".cache" / "demo"


def run(*args: str, expect: int = 0, head: int | None = None, env: Mapping[str, str] | None = None) -> None:
    """Run ``mlops ARGS`` as a user would, showing the command; fail the demo on a surprise exit code.

    ``head`` shows only that many lines of what it prints (a request per row prints a row per request), and
    how many were left out; ``env`` is the command's whole environment (by default the demo's).
    """
    console.print(f"\n[bold cyan]$ mlops {plain(shlex.join(args))}[/bold cyan]", highlight=False)
    if head is None:
        code = subprocess.run([MLOPS, *args], cwd=PROJECT_ROOT, env=env, check=False).returncode
    else:
        done = subprocess.run([MLOPS, *args], cwd=PROJECT_ROOT, env=env, check=False, capture_output=True)
        code, lines = done.returncode, done.stdout.decode("utf-8", errors="replace").splitlines()
        console.print("\n".join(lines[:head]), markup=False, highlight=False, soft_wrap=True)
        if len(lines) > head:
            console.print(f"[dim]... {len(lines) - head} more line(s)[/dim]")
        sys.stderr.write(done.stderr.decode("utf-8", errors="replace"))
    if code != expect:
        console.print(f"[red]the demo expected exit code {expect}, got {code}[/red]")
        raise SystemExit(1)


def local_platform() -> Platform:
    """The platform deployed in the local cloud (its stacks' outputs)."""
    from cli.target import Cloud, Platform, project_name, use_cloud

    use_cloud(Cloud.local)
    return Platform(project_name())


def wait_until(found: Callable[[], T | None], what: str, timeout: float) -> T:
    """Poll ``found`` each second until it gives something; fail the demo after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (value := found()) is not None:
            return value
        time.sleep(1)
    console.print(f"[red]{plain(what)} did not happen within {timeout:.0f} s[/red]")
    raise SystemExit(1)


def wait_for_run(name: str, timeout: float = 900.0) -> None:
    """Wait until the training run ``name`` has ended (in the local cloud)."""
    from adapters.pipeline import StepFunctionsPipeline

    machine = local_platform().output("TrainingStateMachineArn")
    pipeline = StepFunctionsPipeline()

    def ended() -> bool | None:
        runs = [run for run in pipeline.runs(machine) if run.name == name]
        return True if runs and runs[0].status != "RUNNING" else None

    wait_until(ended, f"the end of the training run {name}", timeout)


def wait_for_deployment(version: int, timeout: float = 600.0) -> None:
    """Wait until the deployment of ``version`` to the churn endpoint has ended (in the local cloud)."""
    from adapters.deployments import DynamoDeployments

    target = local_platform()
    deployments = DynamoDeployments(target.output("DeploymentsTableName"))
    endpoint = target.output("EndpointNameChurn")

    def ended() -> bool | None:
        return True if any(r.get("version") == version for r in deployments.history(endpoint)) else None

    wait_until(ended, f"the deployment of version {version}", timeout)


def wait_for_decision(what: str, matches: Callable[[Decision], bool], timeout: float = 120.0) -> Decision:
    """The retraining policy's newest decision on churn that ``matches``, once it is recorded."""
    from adapters.retraining import DynamoDecisions

    decisions = DynamoDecisions(local_platform().output("DecisionsTableName"))
    return wait_until(
        lambda: next((d for d in decisions.decisions("churn") if matches(d)), None), what, timeout
    )


def churn_model_versions() -> list[ModelVersion]:
    """The churn model's versions in the registry."""
    from adapters.registry import SageMakerModelRegistry
    from domain.names import model_package_group

    prefix = local_platform().output("ModelPackageGroupPrefix")
    return SageMakerModelRegistry().versions(model_package_group(prefix, "churn"))


def alarm_state(name: str) -> str:
    """An alarm's state in the local cloud ("missing" when there is no such alarm)."""
    local_platform()
    return _described_state(name)


def wait_for_alarm(name: str, state: str, timeout: float = 60.0) -> None:
    """Wait until the alarm ``name`` is in ``state``."""
    local_platform()  # once: pointing the SDK again would rebuild its clients at every poll
    wait_until(lambda: True if _described_state(name) == state else None, f"{name} in {state}", timeout)


def _described_state(name: str) -> str:
    from cli.alarms import CloudWatchAlarms

    alarms = CloudWatchAlarms().describe([name])
    return alarms[0].state if alarms else "missing"


def expect_alarm(name: str, state: str) -> None:
    """Fail the demo unless the alarm ``name`` is in ``state`` (what the demo just said)."""
    found = alarm_state(name)
    if found != state:
        console.print(f"[red]the alarm {plain(name)} is {plain(found)}, not {state}[/red]")
        raise SystemExit(1)


def wait_for_canary(endpoint: str, timeout: float = 180.0) -> str | None:
    """The status of the endpoint's update once the new fleet takes traffic ("ActivatingTraffic": the canary,
    or "Baking"); None if the update ended, or none began, within ``timeout`` seconds."""
    from adapters.aws import client

    local_platform()
    sagemaker = client("sagemaker")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        described = sagemaker.describe_endpoint(EndpointName=endpoint)
        pending = described.get("PendingDeploymentSummary") or {}
        statuses = [
            str(status["Status"])
            for variant in pending.get("ProductionVariants") or []
            for status in variant.get("VariantStatus") or []
        ]
        if taking := next((s for s in statuses if s in ("ActivatingTraffic", "Baking")), None):
            return taking
        time.sleep(0.5)
    return None
