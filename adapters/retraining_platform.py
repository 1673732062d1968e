"""What the retraining policy observes of the platform, and what its decisions set off.

Observations: the training runs of the dataset in progress (Step Functions, plus the policy's own
starts that a listing does not show yet), its newest accepted version (the catalog), the model in
service (the endpoint's current version, else the newest approved one) with the data it was trained on,
and the labelled rows newer than that data. Actions: start a run, write the retraining upload, set the
one-time deferral schedule, alert the team.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from botocore.exceptions import ClientError

from adapters.aws import client, error_code
from adapters.catalog import DynamoDatasetCatalog
from adapters.endpoints import SageMakerEndpoints
from adapters.notify import AlertTopic
from adapters.pipeline import PipelineRun, RunNotFoundError, StepFunctionsPipeline, execution_arn
from adapters.registry import ModelVersionNotFoundError, SageMakerModelRegistry
from domain import names
from domain.data.ingestion_model import DatasetVersion
from domain.retraining.decisions import Decision
from domain.retraining.draft import LISTING_GRACE
from domain.retraining.observations import labels_cutoff
from domain.retraining.policy import ModelInService, Observations
from domain.retraining.preparation import CannotPrepareError
from domain.retraining.state import PolicyState, RunningRun
from domain.retraining.training_data import LabelSummary
from domain.retraining.triggers import deferral_payload
from domain.training.registration import ModelVersion
from domain.training.runs import execution_input, parse_execution_name

__all__ = [
    "DeferralTarget",
    "LabelSource",
    "PlatformObservations",
    "PolicyActions",
    "SchedulerError",
    "UploadWriter",
]


class SchedulerError(Exception):
    """EventBridge Scheduler refused the deferral schedule."""


class LabelSource(Protocol):
    """The dataset's labelled rows (``labels/<dataset>/``) and the labels a version already holds."""

    def summary(self, dataset: str, after: datetime | None) -> LabelSummary:
        """The labelled rows labelled after ``after`` (all when None): how many, and the newest time."""
        ...

    def labels_through(self, record: DatasetVersion) -> datetime | None:
        """The newest label a version prepared by the policy holds (None: not prepared by it)."""
        ...


class UploadWriter(Protocol):
    """Writes the retraining upload a "preparing" decision asks for."""

    def write(self, decision: Decision) -> str:
        """Write (idempotently) the upload at ``names.retraining_upload_key``; its key."""
        ...


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class PlatformObservations:
    """What the policy sees of one platform (``domain.retraining.use_case.ObservationSource``)."""

    def __init__(
        self,
        *,
        project: str,
        state_machine_arn: str,
        catalog: DynamoDatasetCatalog,
        labels: LabelSource,
        pipeline: StepFunctionsPipeline | None = None,
        endpoints: SageMakerEndpoints | None = None,
        registry: SageMakerModelRegistry | None = None,
    ) -> None:
        self._project, self._machine, self._catalog, self._labels = (
            project,
            state_machine_arn,
            catalog,
            labels,
        )
        self._pipeline = pipeline or StepFunctionsPipeline()
        self._endpoints = endpoints or SageMakerEndpoints()
        self._registry = registry or SageMakerModelRegistry()

    def observe(self, dataset: str, state: PolicyState, now: datetime) -> Observations:
        """The observations the policy decides ``dataset``'s trigger on."""
        latest = self._catalog.latest(dataset)
        in_service = self.in_service(dataset, latest)
        # A latest version prepared from labels holds them even if its run did not replace the model in
        # service: labels are new after the later of the two (the same cutoff the decision states).
        if latest is None:
            latest_through = None
        elif in_service is not None and in_service.dataset_version == latest.version:
            latest_through = in_service.labels_through  # the same upload's metadata, read once
        else:
            latest_through = self._labels.labels_through(latest)
        cutoff = labels_cutoff(in_service, latest.version if latest else None, latest_through)
        labels = self._labels.summary(dataset, cutoff.at if cutoff is not None else None)
        return Observations(
            now=now,
            running=self.running(dataset, state, now),
            latest_version=latest.version if latest else None,
            latest_accepted_at=_when(latest.accepted_at) if latest else None,
            in_service=in_service,
            new_labels=labels.rows,
            newest_label_at=labels.newest_labelled_at,
            latest_labels_through=latest_through,
        )

    def existing(self, names: Sequence[str]) -> frozenset[str]:
        """Which of the run names Step Functions has an execution of (whatever its status)."""
        found = set()
        for name in names:
            try:
                self._pipeline.describe(execution_arn(self._machine, name))
            except RunNotFoundError:
                continue
            found.add(name)
        return frozenset(found)

    def running(self, dataset: str, state: PolicyState, now: datetime) -> tuple[RunningRun, ...]:
        """The dataset's runs in progress, whoever started them, and the policy's own not listed yet.

        A run the policy recorded but Step Functions does not know is listed only within
        ``LISTING_GRACE`` of its start (a start of a moment ago may not be visible yet); after that it
        never began (its start failed after being recorded) and must not hold the dataset's slot.
        """
        found: dict[str, RunningRun] = {}
        for run in self._pipeline.runs(self._machine, status="RUNNING"):
            parsed = parse_execution_name(run.name)
            if parsed is not None and parsed.dataset == dataset:
                found[run.name] = self._running(self._pipeline.describe(run.execution_arn))
        # ListExecutions may not show a start of a moment ago: the policy's own starts are asked for.
        for started in state.started_runs:
            if started.name in found:
                continue
            try:
                run = self._pipeline.describe(execution_arn(self._machine, started.name))
            except RunNotFoundError:
                if started.started_at is not None and now - started.started_at < LISTING_GRACE:
                    found[started.name] = started  # recorded, not yet visible: counted as running
                continue
            if run.status == "RUNNING":
                found[started.name] = self._running(run)
        return tuple(found.values())

    @staticmethod
    def _running(run: PipelineRun) -> RunningRun:
        parsed = parse_execution_name(run.name)
        version = run.request.dataset_version if run.request else (parsed.version_prefix if parsed else "")
        return RunningRun(name=run.name, dataset_version=version, started_at=_when(run.started_at))

    def in_service(self, dataset: str, latest: DatasetVersion | None) -> ModelInService | None:
        """The endpoint's current model version, else the newest approved one; None before any model.

        ``latest`` is the dataset's newest version (None when it has none), already read: the model's
        version, when it is that one, is not read again from the catalog.
        """
        endpoint = names.endpoint_name(self._project, dataset)
        group = names.model_package_group(names.group_prefix(self._project), dataset)
        described = self._endpoints.describe(endpoint) or {}
        number = names.version_of(described.get("EndpointConfigName"), endpoint)
        model: ModelVersion | None = None
        if number is not None:
            try:
                model = self._registry.version(group, number)
            except ModelVersionNotFoundError:
                model = None
        if model is None:
            model = next(iter(self._registry.approved_newest_first(group)), None)
        if model is None or not model.dataset_version:
            return None
        if latest is not None and latest.version == model.dataset_version:
            record: DatasetVersion | None = latest
        else:
            record = self._catalog.get(dataset, model.dataset_version)
        through = self._labels.labels_through(record) if record is not None else None
        return ModelInService(
            model_version=model.version, dataset_version=model.dataset_version, labels_through=through
        )


@dataclass(frozen=True)
class DeferralTarget:
    """Where the deferral schedule sends ``{"kind": "deferred", "dataset": ...}``, and as whom.

    Attributes
    ----------
    function_arn : str
        The policy function (read from the invocation's context).
    role_arn : str
        The schedule's execution role (the only role the function may pass).
    key_arn : str
        The platform key the payload is encrypted with.
    dead_letter_arn : str
        The queue of what the schedule could not deliver.
    """

    function_arn: str
    role_arn: str
    key_arn: str
    dead_letter_arn: str


class PolicyActions:
    """What a decision sets off (``domain.retraining.use_case.DecisionActions``)."""

    def __init__(
        self,
        *,
        project: str,
        state_machine_arn: str,
        uploads: UploadWriter,
        alerts: AlertTopic,
        deferral: DeferralTarget,
        pipeline: StepFunctionsPipeline | None = None,
    ) -> None:
        self._project, self._machine, self._uploads, self._alerts = (
            project,
            state_machine_arn,
            uploads,
            alerts,
        )
        self._deferral = deferral
        self._pipeline = pipeline or StepFunctionsPipeline()

    def start(self, decision: Decision) -> tuple[str, bool]:
        """Start the decision's run; its execution ARN, and False when the run existed already."""
        assert decision.run is not None  # the use case starts "started" decisions only
        return self._pipeline.start(self._machine, decision.run.name, execution_input(decision.run))

    def prepare(self, decision: Decision) -> str:
        """Write the retraining upload the decision plans; its key, or why it could not be written.

        Data that cannot make a version is told to the team, not raised: a retry would fail the same
        way. The decision stays "preparing" until the policy gives it up (``prepare_timeout_minutes``).
        """
        try:
            return self._uploads.write(decision)
        except CannotPrepareError as error:
            self._alerts.alert(f"Retraining of {decision.dataset}: no training data prepared", str(error))
            return f"not prepared: {error}"

    def defer(self, dataset: str, until: datetime) -> None:
        """Create, or move to ``until``, the dataset's one-time schedule that re-examines it."""
        target = self._deferral
        name = names.deferral_schedule_name(self._project, dataset)
        at = until.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
        definition: dict[str, Any] = {
            "Name": name,
            "ScheduleExpression": f"at({at})",
            "ScheduleExpressionTimezone": "UTC",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "ActionAfterCompletion": "DELETE",
            "KmsKeyArn": target.key_arn,
            "Description": f"Re-examines {dataset}'s waiting dataset version when a retraining limit ends.",
            "Target": {
                "Arn": target.function_arn,
                "RoleArn": target.role_arn,
                "Input": json.dumps(deferral_payload(dataset, until)),
                "DeadLetterConfig": {"Arn": target.dead_letter_arn},
                "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 6 * 3600},
            },
        }
        scheduler = client("scheduler")
        try:
            try:
                scheduler.create_schedule(**definition)
            except ClientError as error:
                if error_code(error) != "ConflictException":
                    raise
                scheduler.update_schedule(**definition)
        except ClientError as error:
            raise SchedulerError(f"cannot set the deferral schedule {name} to {at} UTC: {error}") from error

    def alert(self, decision: Decision) -> None:
        """Tell the team the trigger started nothing: why, and what to do."""
        advice = f"\n\nWhat to do: {decision.advice}" if decision.advice else ""
        self._alerts.alert(
            f"Retraining of {decision.dataset}: nothing started",
            f"{decision.trigger.reason}\n\nDecision {decision.decision_id}: {decision.reason}{advice}",
        )
