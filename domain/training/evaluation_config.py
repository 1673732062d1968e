"""How a trained model is judged: bootstrap intervals, absolute thresholds, the champion comparison.

Parts of the training configuration (:class:`domain.training.config.TrainingConfig`); the gate that
applies them is :mod:`domain.training.gate`.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from domain.training.model_config import ConfigModel

__all__ = ["ChampionConfig", "EvaluationConfig", "GateConfig", "ThresholdConfig"]


class EvaluationConfig(ConfigModel):
    """Bootstrap confidence intervals of the test metrics (percentile method, paired across models)."""

    bootstrap_samples: Annotated[int, Field(ge=20, le=10_000)] = 200
    confidence: Annotated[float, Field(gt=0.5, lt=1)] = 0.95
    seed: int = 0


class ThresholdConfig(ConfigModel):
    """An absolute bound on a test metric: ``min`` and/or ``max`` (inclusive)."""

    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _one_bound(self) -> Self:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self


class ChampionConfig(ConfigModel):
    """How the challenger is judged against the champion (the approved version in service).

    Attributes
    ----------
    mode : {"not_worse", "better"}
        ``not_worse``: rejected when the challenger is worse by more than ``margin`` beyond doubt (the
        whole confidence interval of the difference lies past ``-margin``). ``better``: approved only
        when it is better by more than ``margin`` beyond doubt. See :mod:`domain.training.gate`.
    margin : float
        In the metric's own units (0.01 of ROC AUC, 0.5 of RMSE...).
    metric : str, optional
        Default: ``roc_auc`` for classification, ``rmse`` for regression.
    on_unscorable : {"skip", "reject"}
        When a champion exists but cannot score the test rows (e.g. the contract changed): decide on
        the thresholds alone, or reject.
    """

    mode: Literal["not_worse", "better"] = "not_worse"
    margin: Annotated[float, Field(ge=0)] = 0.0
    metric: str | None = None
    on_unscorable: Literal["skip", "reject"] = "skip"


class GateConfig(ConfigModel):
    """Absolute thresholds per metric, and the challenger-versus-champion rule.

    ``thresholds_on``: ``estimate`` judges a threshold on the metric's value on the test rows;
    ``ci`` on the pessimistic end of its confidence interval (lower bound for ``min``, upper for ``max``).
    ``auto_approve``: a model that passes is registered ``Approved`` (and so becomes the champion)
    instead of waiting for a person's decision (``PendingManualApproval``).
    """

    thresholds: dict[str, ThresholdConfig] = Field(default_factory=dict)
    thresholds_on: Literal["estimate", "ci"] = "estimate"
    champion: ChampionConfig = Field(default_factory=ChampionConfig)
    auto_approve: bool = False
