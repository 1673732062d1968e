"""Registering a trained model: the model package request, its model card, and a version read back.

The registry alone must trace a model version to its dataset version, code version, hyperparameters,
pipeline run, gate decision and approver (design invariant 2). Where each fact lives:

- ``CustomerMetadataProperties`` (searchable, shown in the console; every key is named in
  :mod:`domain.model_metadata`): ``lineage.*`` (dataset, dataset version, code version, execution ARN,
  trigger kind, reference and reason; a team's module and its SHA-256, or an imported file's SHA-256,
  importer and name: :mod:`domain.training.model_origin`), ``model.family``, ``model.packages``,
  ``hp.<name>`` (every hyperparameter used, as room allows: ``model.hyperparameters_omitted``),
  ``metric.<name>`` (the challenger on the test rows), ``gate.*`` (decision, champion compared, a
  summary) and ``approval.*`` (who decided and when). Free text is cut down to what AWS allows
  (:func:`domain.model_metadata.metadata_value`) and empty values are left out.
- ``ModelMetrics.ModelQuality.Statistics``: the whole ``evaluation.json``; ``...Constraints``: the gate's
  full decision record, when one was written.
- ``DriftCheckBaselines.ModelDataQuality.Statistics``: the training rows' feature profile;
  ``DriftCheckBaselines.ModelQuality.Statistics``: the profile of the model's predictions on the test
  rows (what live predictions are compared with); ``DriftCheckBaselines.ModelDataQuality.Constraints``:
  the drift baseline (``spec.drift.baseline.DriftBaseline``: the features' and predictions' drift
  profiles and calibrated thresholds), which the drift monitor scores live traffic against. A version
  registered before drift baselines has no Constraints: the monitor upgrades its two profiles instead.
- ``ApprovalDescription``: a person's reason (written by the registry adapter on approve or reject).
- The model card: the same facts in words and numbers, for people
  (:func:`domain.training.model_card.model_card_content`).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from domain import model_metadata as keys
from domain.model_metadata import LATER_ENTRIES, MAX_ENTRIES, MAX_KEY, metadata_value
from domain.training.gate import GateDecision
from domain.training.model_origin import ModelOrigin, ModelOriginError, hyperparameter_entries
from domain.training.model_version import ModelVersion
from domain.training.runs import Trigger

__all__ = [
    "AUTO_APPROVER",
    "CONTENT_TYPES",
    "ModelVersion",
    "RegistrationError",
    "RegistrationFacts",
    "decision_metadata",
    "finite_metrics",
    "model_package_request",
    "package_description",
    "trained_by",
]

ApprovalStatus = Literal["Approved", "PendingManualApproval", "Rejected"]
CONTENT_TYPES = ["text/csv", "application/json"]
AUTO_APPROVER = "auto-approve"
_JSON = "application/json"


class RegistrationError(ValueError):
    """A model cannot be registered as asked (the gate refused it, or a fact does not fit)."""


@dataclass(frozen=True)
class RegistrationFacts:
    """Everything about a trained model that the registry records, besides its evaluation.

    Attributes
    ----------
    group : str
        The dataset's model package group.
    dataset, dataset_version, code_version : str
        What was trained on, and with which code (a commit or a build id).
    execution_arn : str
        The pipeline run (Step Functions execution).
    trigger : Trigger
        What started the run, and why.
    image_uri, model_data_url : str
        The inference container and the ``model.tar.gz`` it serves.
    evaluation_url, inputs_profile_url, predictions_profile_url : str
        The job's ``evaluation.json`` and ``baseline/*.json``, as plain JSON objects in S3.
    gate_report_url : str, optional
        The gate's decision record (JSON) in S3.
    drift_baseline_url : str, optional
        The job's ``baseline/drift_baseline.json`` in S3 (every job since drift baselines writes one).
    environment : mapping, optional
        Environment variables of the inference container.
    """

    group: str
    dataset: str
    dataset_version: str
    code_version: str
    execution_arn: str
    trigger: Trigger
    image_uri: str
    model_data_url: str
    evaluation_url: str
    inputs_profile_url: str
    predictions_profile_url: str
    gate_report_url: str | None = None
    environment: Mapping[str, str] = field(default_factory=dict)
    drift_baseline_url: str | None = None


# The model archive carries its inference code (``code/inference.py``, written by the training job):
# the scikit-learn container runs it from there.
INFERENCE_ENVIRONMENT: Mapping[str, str] = {
    "SAGEMAKER_PROGRAM": "inference.py",
    "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",
    "SAGEMAKER_CONTAINER_LOG_LEVEL": "20",
}


def finite_metrics(evaluation: Mapping[str, Any]) -> dict[str, float]:
    """``evaluation.json``'s metric values that are finite numbers, by name (the registry's, the card's)."""
    values = {name: (entry or {}).get("value") for name, entry in (evaluation.get("metrics") or {}).items()}
    return {
        name: float(v)
        for name, v in values.items()
        if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
    }


def _lineage_metadata(
    evaluation: Mapping[str, Any], decision: GateDecision, facts: RegistrationFacts
) -> dict[str, str]:
    entries: dict[str, Any] = {
        keys.LINEAGE_DATASET: facts.dataset,
        keys.LINEAGE_DATASET_VERSION: facts.dataset_version,
        keys.LINEAGE_CODE_VERSION: facts.code_version,
        keys.LINEAGE_EXECUTION_ARN: facts.execution_arn,
        keys.LINEAGE_TRIGGER: facts.trigger.kind,
        keys.LINEAGE_TRIGGER_REFERENCE: facts.trigger.reference or "",
        keys.LINEAGE_TRIGGER_REASON: facts.trigger.reason,
        keys.MODEL_FAMILY: evaluation.get("family") or "",
        keys.MODEL_TASK: evaluation.get("task") or "",
        keys.GATE_DECISION: "approved" if decision.approved else "rejected",
        keys.GATE_CHAMPION_COMPARED: decision.champion_compared,
        keys.GATE_SUMMARY: " ".join(decision.reasons),
    }
    entries |= {keys.METRIC + k: v for k, v in sorted(finite_metrics(evaluation).items())}
    cleaned = {name[:MAX_KEY]: metadata_value(value) for name, value in entries.items()}
    metadata = {name: value for name, value in cleaned.items() if value}
    try:
        origin = ModelOrigin.from_evaluation(evaluation)
    except ModelOriginError as error:
        raise RegistrationError(str(error)) from None
    if origin is not None:
        metadata |= origin.metadata()
    # A team's hyperparameters are any number: they get the room the later entries leave.
    room = MAX_ENTRIES - len(metadata) - len(LATER_ENTRIES)
    return metadata | hyperparameter_entries(evaluation.get("hyperparameters") or {}, room)


def model_package_request(
    evaluation: Mapping[str, Any], decision: GateDecision, facts: RegistrationFacts, *, auto_approve: bool
) -> dict[str, Any]:
    """The ``CreateModelPackage`` request of a model that passed the gate.

    Parameters
    ----------
    evaluation : mapping
        The training job's ``evaluation.json``.
    decision : GateDecision
        The gate's verdict on it; only an approved model is registered.
    facts : RegistrationFacts
        Lineage and where the artifacts are.
    auto_approve : bool
        The dataset's configuration: ``Approved`` at once, else ``PendingManualApproval``.

    Returns
    -------
    dict
        Keyword arguments of ``sagemaker.create_model_package``, ``ClientToken`` included (derived
        from the execution ARN, so that AWS itself refuses a second package for one run).

    Raises
    ------
    RegistrationError
        When the gate rejected the model, or the facts need more metadata entries than AWS allows.
    """
    if not decision.approved:
        raise RegistrationError("the gate rejected this model: " + " ".join(decision.reasons))
    metadata = _lineage_metadata(evaluation, decision, facts)
    if auto_approve:
        metadata |= decision_metadata({}, approver=AUTO_APPROVER, at="")
    if len(metadata) > MAX_ENTRIES:
        raise RegistrationError(
            f"{len(metadata)} metadata entries; AWS allows {MAX_ENTRIES} per model package"
        )
    container: dict[str, Any] = {"Image": facts.image_uri, "ModelDataUrl": facts.model_data_url}
    if facts.environment:
        container["Environment"] = dict(facts.environment)
    quality: dict[str, Any] = {"Statistics": {"ContentType": _JSON, "S3Uri": facts.evaluation_url}}
    if facts.gate_report_url:
        quality["Constraints"] = {"ContentType": _JSON, "S3Uri": facts.gate_report_url}
    data_quality: dict[str, Any] = {"Statistics": {"ContentType": _JSON, "S3Uri": facts.inputs_profile_url}}
    if facts.drift_baseline_url:
        data_quality["Constraints"] = {"ContentType": _JSON, "S3Uri": facts.drift_baseline_url}
    status: ApprovalStatus = "Approved" if auto_approve else "PendingManualApproval"
    return {
        "ModelPackageGroupName": facts.group,
        "ModelPackageDescription": package_description(evaluation, facts),
        "InferenceSpecification": {
            "Containers": [container],
            "SupportedContentTypes": list(CONTENT_TYPES),
            "SupportedResponseMIMETypes": list(CONTENT_TYPES),
        },
        "ModelMetrics": {"ModelQuality": quality},
        "DriftCheckBaselines": {
            "ModelDataQuality": data_quality,
            "ModelQuality": {"Statistics": {"ContentType": _JSON, "S3Uri": facts.predictions_profile_url}},
        },
        "CustomerMetadataProperties": metadata,
        "ModelApprovalStatus": status,
        "ClientToken": hashlib.sha256(facts.execution_arn.encode()).hexdigest()[:36],
    }


def trained_by(execution_arn: str) -> str:
    """How a version's description names the pipeline run that trained it (``ModelPackageDescription``).

    The description is in ``ListModelPackages``' summaries where the metadata is not: the registry
    finds a run's version by it without describing every version of the group.
    """
    return f"trained by {execution_arn.rsplit(':', 1)[-1]}"


def package_description(evaluation: Mapping[str, Any], facts: RegistrationFacts) -> str:
    """The version's one-line description (``ModelPackageDescription``, also the card's): at most 1,024."""
    family = evaluation.get("family") or "model"
    task = evaluation.get("task") or ""
    text = (
        f"{family} {task} model of dataset {facts.dataset} version {facts.dataset_version[:12]}, "
        f"code {facts.code_version}, {trained_by(facts.execution_arn)} ({facts.trigger.kind})."
    )
    return " ".join(text.split())[:1024]


def decision_metadata(existing: Mapping[str, str], *, approver: str, at: str) -> dict[str, str]:
    """The metadata of a version after a decision on it: every entry kept, who and when replaced.

    The registry adapter writes the whole map back: AWS merges it, moto replaces; both end equal.
    """
    merged = {k: v for k, v in existing.items() if k not in (keys.APPROVAL_BY, keys.APPROVAL_AT)}
    merged[keys.APPROVAL_BY] = metadata_value(approver) or "unknown"
    if metadata_value(at):
        merged[keys.APPROVAL_AT] = metadata_value(at)
    return merged
