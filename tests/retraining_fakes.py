"""Hand-written fakes of the retraining use case's ports: the decisions table, Step Functions, the actions.

One :class:`FakeStepFunctions` is shared by the observations (which runs exist) and the actions (which
start them, once per name, as Step Functions does). Each action can be made to fail a number of times, as a
service that is briefly unavailable.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from domain.retraining.decisions import Decision
from domain.retraining.policy import ModelInService, Observations
from domain.retraining.state import PolicyState, RunningRun
from domain.retraining.triggers import PolicyTrigger
from domain.retraining.use_case import DecisionConflictError

NOW = datetime(2026, 12, 6, 21, 0, tzinfo=UTC)
OLD, NEW = "0a" * 32, "0b" * 32  # the model in service's data, and a newer accepted version


def accepted(version: str = NEW) -> PolicyTrigger:
    """Version ``version`` of churn accepted at :data:`NOW`."""
    return PolicyTrigger(kind="accepted", dataset="churn", key=version, at=NOW, reason="version accepted",
                         dataset_version=version, upload_key="incoming/churn/jan.csv")  # fmt: skip


def drift() -> PolicyTrigger:
    """Churn's drift alarm entering ALARM at :data:`NOW`."""
    return PolicyTrigger(kind="drift_alarm", dataset="churn", key=f"mlops-churn-drift@{NOW.isoformat()}",
                         at=NOW, reason="the drift alarm mlops-churn-drift entered ALARM")  # fmt: skip


class ServiceUnavailableError(Exception):
    """What a fake raises for a call it was told to fail."""


class FakeStore:
    """The decisions table: one state per dataset with its revision, every decision kept.

    ``before_write`` holds states another writer puts first (a race lost); ``on_write`` runs before each
    write (another Lambda deciding meanwhile); ``fail_writes`` fails that many writes, writing nothing.
    """

    def __init__(self) -> None:
        self.states: dict[str, PolicyState] = {}
        self.decisions: list[Decision] = []
        self.before_write: list[PolicyState] = []
        self.on_write: list[Callable[[], object]] = []
        self.fail_writes = 0

    def state(self, dataset: str) -> PolicyState:
        return self.states.get(dataset, PolicyState(dataset=dataset))

    def record(self, before: PolicyState, after: PolicyState, decisions: Sequence[Decision]) -> None:
        if self.on_write:
            self.on_write.pop(0)()
        if self.fail_writes:
            self.fail_writes -= 1
            raise ServiceUnavailableError("DynamoDB is unavailable")
        if self.before_write:
            self.states[before.dataset] = self.before_write.pop(0)
        if self.state(before.dataset).revision != before.revision:
            raise DecisionConflictError("changed")
        self.states[before.dataset] = dataclasses.replace(after, revision=before.revision + 1)
        self.decisions.extend(decisions)

    def decided(self, dataset: str, trigger_key: str) -> list[Decision]:
        return [
            d for d in self.decisions
            if d.dataset == dataset and d.trigger.key == trigger_key and d.outcome != "duplicate"
        ]  # fmt: skip

    def outcomes(self) -> list[str]:
        return [d.outcome for d in self.decisions]


@dataclass
class FakeStepFunctions:
    """The training state machine's executions by name, and how many times each was asked to start."""

    executions: dict[str, int] = field(default_factory=dict)

    def start(self, name: str) -> tuple[str, bool]:
        new = name not in self.executions
        self.executions[name] = self.executions.get(name, 0) + 1
        return f"arn:aws:states:::execution:training:{name}", new


class FakeObservations:
    """The platform: a latest version, a model in service trained on ``serving``, runs in progress."""

    def __init__(
        self,
        sfn: FakeStepFunctions | None = None,
        *,
        latest: str = NEW,
        serving: str | None = OLD,
        running: tuple[RunningRun, ...] = (),
        new_labels: int = 0,
    ) -> None:
        self.sfn = sfn or FakeStepFunctions()
        self.latest, self.serving, self.running, self.new_labels = latest, serving, running, new_labels
        self.calls = 0

    def existing(self, names: Sequence[str]) -> frozenset[str]:
        return frozenset(name for name in names if name in self.sfn.executions)

    def observe(self, dataset: str, state: PolicyState, now: datetime) -> Observations:
        self.calls += 1
        in_service = ModelInService(3, self.serving, None) if self.serving else None
        labelled = now - timedelta(minutes=1) if self.new_labels else None
        return Observations(now=now, running=self.running, latest_version=self.latest,
                            latest_accepted_at=now - timedelta(minutes=5), in_service=in_service,
                            new_labels=self.new_labels, newest_label_at=labelled)  # fmt: skip


class FakeActions:
    """What decisions set off, recorded; ``failures`` makes the next calls of an action fail.

    Attributes
    ----------
    uploads : dict of str to int
        Writes per upload key (a key written again is overwritten with the same content).
    schedules : dict of str to datetime
        The one deferral schedule per dataset, and its time.
    """

    def __init__(self, sfn: FakeStepFunctions | None = None, **failures: int) -> None:
        self.sfn = sfn or FakeStepFunctions()
        self.failures = failures
        self.uploads: dict[str, int] = {}
        self.schedules: dict[str, datetime] = {}
        self.alerts: list[Decision] = []

    @property
    def started(self) -> dict[str, int]:
        return self.sfn.executions

    def _call(self, action: str) -> None:
        if self.failures.get(action, 0) > 0:
            self.failures[action] -= 1
            raise ServiceUnavailableError(f"{action}: the service is unavailable")

    def start(self, decision: Decision) -> tuple[str, bool]:
        assert decision.run is not None
        self._call("start")
        return self.sfn.start(decision.run.name)

    def prepare(self, decision: Decision) -> str:
        self._call("prepare")
        key = f"incoming/{decision.dataset}/retraining/{decision.decision_id}.parquet"
        self.uploads[key] = self.uploads.get(key, 0) + 1
        return key

    def defer(self, dataset: str, until: datetime) -> None:
        self._call("defer")
        self.schedules[dataset] = until

    def alert(self, decision: Decision) -> None:
        self._call("alert")
        self.alerts.append(decision)
