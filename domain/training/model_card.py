"""A registered version's model card: the registry's facts in words and numbers, for people.

SageMaker's model card schema (the model package card's, kept small) bounds its fields: texts of 1,024 or
2,096 characters, and a training hyperparameter's name and value of 1-255 characters, at most 100 of them.
A team's hyperparameters are free JSON, so they are fitted to it here; CreateModelCard refuses what does
not fit, after the package itself was created.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from domain.training.gate import GateDecision
from domain.training.model_origin import origin_words
from domain.training.registration import RegistrationFacts, finite_metrics, package_description

__all__ = ["card_hyperparameters", "model_card_content"]

# The model card schema's training_hyper_parameter: a name and a value of 1-255 characters, at most 100.
CARD_HYPERPARAMETERS = 100
CARD_TEXT = 255


def card_hyperparameters(hyperparameters: Mapping[str, Any]) -> list[dict[str, str]]:
    """The model card's ``hyper_parameters``: each value its JSON text, within the card schema's limits.

    A team's hyperparameters are free JSON (a list of columns, a nested grid): CreateModelCard refuses a
    name or value over 255 characters, or more than 100 of them, and the registration would fail after
    the package was created. What is cut ends in ``...``; all of them are in ``evaluation.json``.

    Parameters
    ----------
    hyperparameters : mapping
        ``evaluation.json``'s ``hyperparameters``.

    Returns
    -------
    list of dict
        ``{"name", "value"}`` by name, the first 100 with a name.
    """
    named = [(str(name), value) for name, value in sorted(hyperparameters.items()) if str(name)]
    return [
        {"name": _card_text(name), "value": _card_text(json.dumps(value))}
        for name, value in named[:CARD_HYPERPARAMETERS]
    ]


def _card_text(text: str) -> str:
    return text if len(text) <= CARD_TEXT else text[: CARD_TEXT - 3] + "..."


def _interval(entry: Mapping[str, Any], confidence: float) -> str:
    low, high = entry.get("ci_low"), entry.get("ci_high")
    return f"{confidence:.0%} CI {low:.4g} to {high:.4g}" if low is not None and high is not None else "no CI"


def model_card_content(
    evaluation: Mapping[str, Any], decision: GateDecision, facts: RegistrationFacts, *, version: int
) -> dict[str, Any]:
    """The model card of a registered version (SageMaker model card schema, kept small).

    Parameters
    ----------
    evaluation, decision, facts
        As given to :func:`domain.training.registration.model_package_request`.
    version : int
        The model package version the registry assigned.

    Returns
    -------
    dict
        ``model_overview``, ``intended_uses``, ``training_details`` and ``evaluation_details``; dump it
        as JSON for ``CreateModelCard``'s ``Content``.
    """
    target = evaluation.get("target") or "the target"
    confidence = float(evaluation.get("confidence", 0.95))
    metrics = finite_metrics(evaluation)
    intervals = {name: (evaluation.get("metrics") or {}).get(name) or {} for name in metrics}
    metric_data = [
        {"name": name, "type": "number", "value": value, "notes": _interval(intervals[name], confidence)}
        for name, value in sorted(metrics.items())
    ]
    dataset = f"{facts.dataset}@{facts.dataset_version}"
    return {
        "model_overview": {
            "model_description": package_description(evaluation, facts),
            "model_name": facts.group,
            "model_version": version,
            "problem_type": str(evaluation.get("task") or "unknown"),
            "algorithm_type": str(evaluation.get("family") or "unknown"),
            "model_artifact": [facts.model_data_url],
            "inference_environment": {"container_image": [facts.image_uri]},
        },
        "intended_uses": {
            "purpose_of_model": f"Predict {target} from the features of dataset {facts.dataset}.",
            "intended_uses": "Rows that satisfy the dataset's contract, served by the platform's endpoint.",
            "risk_rating": "Unknown",
        },
        "training_details": {
            "training_observations": (
                f"Run {facts.execution_arn}, code {facts.code_version}, "
                f"trigger {facts.trigger.kind}: {facts.trigger.reason or 'no reason given'}."
                + origin_words(evaluation)
            )[:1024],
            "training_job_details": {
                "training_datasets": [dataset],
                "hyper_parameters": card_hyperparameters(evaluation.get("hyperparameters") or {}),
            },
        },
        "evaluation_details": [
            {
                "name": "test rows",
                "datasets": [dataset],
                "evaluation_observation": " ".join(decision.reasons)[:2096],
                "metric_groups": [{"name": "challenger on the test rows", "metric_data": metric_data}],
            }
        ],
    }
