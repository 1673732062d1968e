"""After training: the gate's verdict on the job's model, and its registration when it passed.

Both steps free of AWS. The gate step takes ``evaluation.json`` and the three baselines out of the job's
archives (the small ``output.tar.gz``; the ``model.tar.gz`` next to it, streamed, only for what that
lacks) and keeps them as plain objects under ``runs/<d>/<run>/evaluation/``: the registry and the
monitoring read them there, never inside an archive. The gate's record (``gate.json``) is written
whatever the outcome, so a rejected run can be explained later. Registration reads those objects back
rather than trusting the state machine's copy: the record in S3 is what the model version points at.
"""

from __future__ import annotations

import json
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO

from domain.registry import ModelRegistry
from domain.state_limits import cap_mapping, cap_text, cap_texts
from domain.training import artifacts as run_artifacts
from domain.training.artifacts import ArtifactMissingError, ArtifactStore, run_prefix
from domain.training.config import TrainingConfig
from domain.training.gate import GateCheck, GateDecision, decide
from domain.training.registration import INFERENCE_ENVIRONMENT, RegistrationFacts
from domain.training.runs import RunRequest

__all__ = ["GateOutcome", "Registration", "TrainingOutputError", "gate_run", "register_run"]

# Archive member -> object name under runs/<d>/<run>/evaluation/.
JOB_OUTPUTS = {
    "evaluation.json": "evaluation.json",
    "baseline/inputs_profile.json": "inputs_profile.json",
    "baseline/predictions_profile.json": "predictions_profile.json",
    "baseline/drift_baseline.json": "drift_baseline.json",
}


class TrainingOutputError(Exception):
    """The training job's archives lack a file the gate needs (or the gate's record is missing)."""


@dataclass(frozen=True)
class GateOutcome:
    """The gate step's output (``$.gate``), bounded (``domain.state_limits``) whatever the evaluation.

    ``reasons`` are the first reasons (failures first), then "... and N more (see <gate_uri>)";
    ``metrics`` the challenger's first metrics by name, ``metrics_omitted`` how many more the
    evaluation has. The whole decision is ``gate.json``, the whole evaluation ``evaluation.json``.
    """

    approved: bool
    reasons: list[str]
    summary: str
    evaluation_uri: str
    inputs_profile_uri: str
    predictions_profile_uri: str
    drift_baseline_uri: str
    gate_uri: str
    metrics: dict[str, float | None]
    metrics_omitted: int = 0

    def to_state(self) -> dict[str, Any]:
        """The step's output, as the state machine keeps it at ``$.gate``."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class Registration:
    """The registration step's output (``$.registration``): the version, and whether this run created it.

    ``created`` is False when a retry of the step found the version its first attempt registered.
    """

    model_package_arn: str
    version: int
    approval_status: str
    created: bool

    def to_state(self) -> dict[str, Any]:
        """The step's output, as the state machine keeps it at ``$.registration``."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def _members(stream: BinaryIO, uri: str, wanted: set[str]) -> dict[str, dict[str, Any]]:
    """The wanted JSON members of the ``.tar.gz`` being read from ``stream``, read as it arrives.

    The archive is read once, front to back, and never stored: nothing goes to disk (the function's
    ``/tmp`` is small next to a model archive) and only the wanted members are held in memory, each at
    most ``MAX_DOCUMENT_BYTES``. Reading stops as soon as all of them have been found.
    """
    found: dict[str, dict[str, Any]] = {}
    with tarfile.open(fileobj=stream, mode="r|gz") as tar:
        for member in tar:
            name = member.name.removeprefix("./")
            if name not in wanted or not member.isfile():
                continue
            if member.size > run_artifacts.MAX_DOCUMENT_BYTES:
                raise TrainingOutputError(
                    f"{name} in {uri} is {member.size:,} bytes; the gate reads at most "
                    f"{run_artifacts.MAX_DOCUMENT_BYTES:,}: have the training script write a smaller one"
                )
            extracted = tar.extractfile(member)
            if extracted is not None:
                found[name] = json.loads(extracted.read())
            if set(found) == wanted:
                break
    return found


def read_job_outputs(model_artifacts: str, store: ArtifactStore) -> dict[str, dict[str, Any]]:
    """``evaluation.json`` and the baselines from the job's archives, by archive member name.

    The small ``output.tar.gz`` first; the model archive (which can be many GB) is read only for what
    the output archive lacks (a job from before it held them), and then streamed, never stored.

    Raises
    ------
    TrainingOutputError
        Neither archive holds one of them, or one is too large to read.
    """
    found: dict[str, dict[str, Any]] = {}
    sibling = model_artifacts.rsplit("/", 1)[0] + "/output.tar.gz"
    for uri in (sibling, model_artifacts):
        missing = set(JOB_OUTPUTS) - set(found)
        if not missing:
            break
        try:
            stream = store.open(uri)
        except ArtifactMissingError:
            continue
        try:
            found |= _members(stream, uri, missing)
        finally:
            stream.close()
    lacking = sorted(set(JOB_OUTPUTS) - set(found))
    if lacking:
        raise TrainingOutputError(
            f"the training job's archives ({model_artifacts}) lack {', '.join(lacking)}"
        )
    return found


def _summary(run: RunRequest, approved: bool, reasons: list[str]) -> str:
    verdict = "approved" if approved else "rejected"
    first = reasons[0] if reasons else "no reason given"
    return cap_text(f"{run.dataset} run {run.name}: {verdict}. {first}")


def gate_run(
    run: RunRequest,
    *,
    training_job_name: str,
    model_artifacts: str,
    config: TrainingConfig,
    store: ArtifactStore,
) -> GateOutcome:
    """Judge a training job's model and keep the evidence.

    Parameters
    ----------
    run : RunRequest
        The execution's input.
    training_job_name, model_artifacts : str
        The job, and its ``model.tar.gz`` URI.
    config : TrainingConfig
        The dataset's resolved configuration (its ``gate`` section decides).
    store : ArtifactStore

    Returns
    -------
    GateOutcome

    Raises
    ------
    TrainingOutputError
        The job's archives lack ``evaluation.json`` or a baseline.
    """
    outputs = read_job_outputs(model_artifacts, store)
    folder = run_prefix(run.dataset, run.name) + "evaluation/"
    uris: dict[str, str] = {}
    for member, name in JOB_OUTPUTS.items():
        store.put_json(folder + name, outputs[member])
        uris[name] = store.uri(folder + name)
    evaluation = outputs["evaluation.json"]
    decision = decide(evaluation, config.gate)
    record = decision.to_dict() | {
        "context": {
            "dataset": run.dataset,
            "dataset_version": run.dataset_version,
            "run_name": run.name,
            "training_job_name": training_job_name,
            "model_artifacts": model_artifacts,
            "gate": config.gate.model_dump(mode="json"),
        }
    }
    store.put_json(folder + "gate.json", record)
    metrics = {name: _value(entry) for name, entry in (evaluation.get("metrics") or {}).items()}
    gate_uri = store.uri(folder + "gate.json")
    shown = cap_mapping(metrics)
    return GateOutcome(
        approved=decision.approved,
        reasons=cap_texts(decision.reasons, where=gate_uri),
        summary=_summary(run, decision.approved, decision.reasons),
        evaluation_uri=uris["evaluation.json"],
        inputs_profile_uri=uris["inputs_profile.json"],
        predictions_profile_uri=uris["predictions_profile.json"],
        drift_baseline_uri=uris["drift_baseline.json"],
        gate_uri=gate_uri,
        metrics=shown,
        metrics_omitted=len(metrics) - len(shown),
    )


def _value(entry: Any) -> float | None:
    value = entry.get("value") if isinstance(entry, Mapping) else None
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def decision_from_record(record: Mapping[str, Any]) -> GateDecision:
    """The gate's decision from its record (``gate.json``)."""
    fields = GateCheck.__dataclass_fields__
    checks = [GateCheck(**{k: v for k, v in check.items() if k in fields}) for check in record["checks"]]
    return GateDecision(
        approved=bool(record["approved"]),
        reasons=list(record["reasons"]),
        checks=checks,
        champion_compared=bool(record["champion_compared"]),
    )


def _read(store: ArtifactStore, uri: str) -> dict[str, Any]:
    document = store.read_json(uri)
    if document is None:
        raise TrainingOutputError(f"{uri} does not exist")
    return document


def register_run(
    run: RunRequest,
    *,
    execution_arn: str,
    gate: GateOutcome,
    model_artifacts: str,
    group: str,
    image_uri: str,
    code_version: str,
    auto_approve: bool,
    store: ArtifactStore,
    registry: ModelRegistry,
) -> Registration:
    """Register the run's model in its dataset's group (once per run, whatever the retries).

    Parameters
    ----------
    run : RunRequest
    execution_arn : str
        The pipeline run (kept as lineage; it also makes the registration idempotent).
    gate : GateOutcome
        The gate step's output (its URIs say where the evidence is).
    model_artifacts : str
        The ``model.tar.gz`` the inference container serves.
    group, image_uri, code_version : str
    auto_approve : bool
        Register as ``Approved`` instead of ``PendingManualApproval``.
    store, registry
        The adapters.

    Returns
    -------
    Registration

    Raises
    ------
    TrainingOutputError
        The evaluation or the gate's record is missing.
    domain.training.registration.RegistrationError
        The gate's record says the model was rejected.
    """
    evaluation = _read(store, gate.evaluation_uri)
    decision = decision_from_record(_read(store, gate.gate_uri))
    facts = RegistrationFacts(
        group=group,
        dataset=run.dataset,
        dataset_version=run.dataset_version,
        code_version=code_version,
        execution_arn=execution_arn,
        trigger=run.trigger,
        image_uri=image_uri,
        model_data_url=model_artifacts,
        evaluation_url=gate.evaluation_uri,
        inputs_profile_url=gate.inputs_profile_uri,
        predictions_profile_url=gate.predictions_profile_uri,
        gate_report_url=gate.gate_uri,
        drift_baseline_url=gate.drift_baseline_uri,
        environment=INFERENCE_ENVIRONMENT,
    )
    registry.ensure_group(group, f"Models of the {run.dataset} dataset")
    version, created = registry.register(evaluation, decision, facts, auto_approve=auto_approve)
    return Registration(
        model_package_arn=version.arn,
        version=version.version,
        approval_status=version.approval_status,
        created=created,
    )
