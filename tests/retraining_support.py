"""Builders for the retraining policy's tests: versions, triggers, observations, a driver that keeps state."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from domain.retraining.config import RetrainingConfig
from domain.retraining.decisions import Decision
from domain.retraining.policy import ModelInService, Observations, PolicyState, RunningRun, decide
from domain.retraining.triggers import PolicyTrigger, PolicyTriggerKind, iso

DATASET = "churn"
T0 = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
DRIFT_ALARM = "mlops-churn-drift"
PERFORMANCE_ALARM = "mlops-churn-performance"


def version(n: int) -> str:
    """The n-th dataset version (64 hex digits), its run name prefix (12 digits) distinct from the others."""
    return f"{n:012x}".ljust(64, "f")


def number(dataset_version: str | None) -> int:
    """The n of :func:`version`."""
    return int(str(dataset_version)[:12], 16)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def accepted(n: int, at: datetime, *, upload_key: str | None = None) -> PolicyTrigger:
    """Version ``n`` accepted at ``at``."""
    return PolicyTrigger(
        kind="accepted",
        dataset=DATASET,
        key=version(n),
        at=at,
        reason=f"version {n} accepted",
        dataset_version=version(n),
        upload_key=upload_key or f"incoming/{DATASET}/upload-{n}.csv",
    )


def alarm(at: datetime, kind: PolicyTriggerKind = "drift_alarm") -> PolicyTrigger:
    """An alarm entering ALARM at ``at`` (its episode)."""
    name = DRIFT_ALARM if kind == "drift_alarm" else PERFORMANCE_ALARM
    return PolicyTrigger(kind=kind, dataset=DATASET, key=f"{name}@{iso(at)}", at=at, reason=f"{name} fired")


def scheduled(at: datetime) -> PolicyTrigger:
    """The retraining schedule firing for ``at``."""
    return PolicyTrigger(
        kind="schedule", dataset=DATASET, key=f"schedule@{iso(at)}", at=at, reason="schedule"
    )


def deferral(at: datetime) -> PolicyTrigger:
    """The deferral schedule coming due at ``at``."""
    return PolicyTrigger(
        kind="deferred", dataset=DATASET, key=f"deferred@{iso(at)}", at=at, reason="deferral due"
    )


def ended(run_name: str, at: datetime, status: str = "SUCCEEDED") -> PolicyTrigger:
    """Run ``run_name`` ending at ``at``."""
    return PolicyTrigger(
        kind="run_ended",
        dataset=DATASET,
        key=f"arn:aws:states:eu-west-1:123456789012:execution:training:{run_name}",
        at=at,
        reason=f"run {run_name} ended {status}",
        run_name=run_name,
        run_status=status,
    )


@dataclass
class World:
    """What the platform looks like to the policy: the runs listed, the catalog's newest version, the model.

    The driver keeps it as the policy's adapter would find it: a started run is listed as running until
    the test ends it.
    """

    running: dict[str, RunningRun] = field(default_factory=dict)
    latest: tuple[str, datetime] | None = None
    model: ModelInService | None = None
    new_labels: int = 0
    newest_label_at: datetime | None = None
    latest_labels_through: datetime | None = None
    existing: set[str] = field(default_factory=set)  # run names Step Functions has, as the use case asks

    def observe(self, now: datetime) -> Observations:
        return Observations(
            now=now,
            running=tuple(self.running.values()),
            latest_version=self.latest[0] if self.latest else None,
            latest_accepted_at=self.latest[1] if self.latest else None,
            in_service=self.model,
            new_labels=self.new_labels,
            newest_label_at=self.newest_label_at,
            latest_labels_through=self.latest_labels_through,
            existing_runs=frozenset(self.existing),
        )


@dataclass
class Driver:
    """Decides triggers one after another with the state carried over, as the policy's Lambda does."""

    config: RetrainingConfig = field(default_factory=RetrainingConfig)
    world: World = field(default_factory=World)
    state: PolicyState = field(default_factory=lambda: PolicyState(DATASET))
    log: list[Decision] = field(default_factory=list)

    def decide(self, trigger: PolicyTrigger, now: datetime | None = None) -> list[Decision]:
        """Decide ``trigger`` at ``now`` (its own time by default); started runs become listed."""
        when = now or trigger.at
        newer = self.world.latest is None or self.world.latest[1] <= trigger.at
        if trigger.kind == "accepted" and trigger.dataset_version is not None and newer:
            self.world.latest = (trigger.dataset_version, trigger.at)
        decisions, self.state = decide(trigger, self.state, self.world.observe(when), self.config)
        for decision in decisions:
            if decision.run is not None:
                self.world.running[decision.run.name] = RunningRun(
                    decision.run.name, decision.run.dataset_version, when
                )
        self.log.extend(decisions)
        return decisions

    def end(self, run_name: str, at: datetime) -> list[Decision]:
        """The run ends (no longer listed) and its end event is decided."""
        self.world.running.pop(run_name)
        return self.decide(ended(run_name, at))


def only(decisions: list[Decision]) -> Decision:
    """The one decision of a trigger."""
    assert len(decisions) == 1, [(d.outcome, d.reason) for d in decisions]
    return decisions[0]
