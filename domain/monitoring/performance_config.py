"""How realized performance is watched: the ``performance`` key of a dataset's ``monitoring``.

Example
-------
.. code-block:: json

    "monitoring": {"performance": {"metric": "accuracy", "floor": 0.8, "min_labels": 200}}

Every key is optional. Synth resolves the defaults from the dataset's training gate
(:func:`resolve_performance`), and refuses what cannot work, naming ``monitoring.performance.<key>``:

- ``metric``: the metric the performance alarm watches. Default: the first of the gate's thresholds
  (``training.gate.thresholds``), so that live traffic is held to the bar the model passed (churn's
  ``roc_auc``, min 0.65). ``roc_auc`` and ``log_loss`` are scored from the class probabilities each
  captured JSON answer carries (kept with the labelled rows); a version with a row answered without them
  (a CSV answer) publishes no value of them, so the alarm holds its state, and ``accuracy`` and ``f1``
  are still reported. Without a threshold: ``accuracy`` (classification) or ``rmse`` (regression), with
  no default floor.
- ``floor``: the alarm fires when the metric is worse (below it; above it for ``log_loss``, ``rmse`` and
  ``mae``). Default: that threshold's ``min`` (its ``max`` for a lower-is-better metric).
- ``min_labels``: a model version with fewer labelled rows publishes no metric value. Default 200.
- ``enabled``: whether the metrics are published and the performance alarm exists. Default: true when
  the metric has a floor (given, or from the gate); ``true`` without a floor is refused.

Pure pydantic, like the rest of the monitoring configuration; shipped inside ``monitoring.json``.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, field_validator

from domain.training.config import HIGHER_IS_BETTER, METRICS, TrainingConfig

__all__ = ["PerformanceConfig", "PerformanceConfigError", "PerformanceSettings", "resolve_performance"]

DEFAULT_MIN_LABELS = 200
_FALLBACK = {"classification": "accuracy", "regression": "rmse"}


class PerformanceConfigError(ValueError):
    """The ``performance`` key cannot work with the dataset's training; ``key`` is the offending key."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key
        self.message = message


class PerformanceConfig(BaseModel):
    """The ``performance`` key as written (see the module's description for the defaults).

    Attributes
    ----------
    enabled : bool or None
        None: true when the metric has a floor.
    metric : str or None
        None: from the gate.
    floor : float or None
        None: from the gate.
    min_labels : int
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool | None = None
    metric: str | None = None
    floor: float | None = None
    min_labels: int = Field(DEFAULT_MIN_LABELS, ge=1)

    @field_validator("metric")
    @classmethod
    def _known(cls, metric: str | None) -> str | None:
        if metric is not None and metric not in HIGHER_IS_BETTER:
            raise ValueError(f"unknown metric {metric!r}; choose among {', '.join(HIGHER_IS_BETTER)}")
        return metric


@dataclass(frozen=True)
class PerformanceSettings:
    """The ``performance`` key resolved against the dataset's training configuration.

    Attributes
    ----------
    enabled : bool
    metric : str
        The metric the alarm watches.
    floor : float or None
        None only when not enabled.
    higher_is_better : bool
        The metric's direction: the alarm fires below the floor when true, above it otherwise.
    min_labels : int
    """

    enabled: bool
    metric: str
    floor: float | None
    higher_is_better: bool
    min_labels: int


def resolve_performance(config: PerformanceConfig, training: TrainingConfig) -> PerformanceSettings:
    """The defaults filled in from the gate, and what cannot work refused.

    Parameters
    ----------
    config : PerformanceConfig
    training : TrainingConfig
        The dataset's resolved training configuration (``parse_training_config``: its task is known).

    Returns
    -------
    PerformanceSettings

    Raises
    ------
    PerformanceConfigError
        A metric the task cannot compute, or ``enabled`` true with no floor to compare against.
    """
    task = training.task
    if task is None:
        raise ValueError(
            "resolve the training configuration first (parse_training_config): its task is unknown"
        )
    thresholds = training.gate.thresholds
    metric = config.metric
    if metric is not None and metric not in METRICS[task]:
        raise PerformanceConfigError(
            "metric",
            f"{metric!r} is not a {task} metric (the dataset's training task); choose among "
            f"{', '.join(METRICS[task])}",
        )
    if metric is None:
        metric = next(iter(thresholds), _FALLBACK[task])
    higher = HIGHER_IS_BETTER[metric]
    floor = config.floor
    if floor is None and metric in thresholds:
        bound = thresholds[metric]
        floor = bound.min if higher else bound.max
    if config.enabled and floor is None:
        raise PerformanceConfigError(
            "floor",
            f"the performance alarm needs a floor for {metric}, and the gate has no "
            f"{'min' if higher else 'max'} threshold for it: set monitoring.performance.floor",
        )
    enabled = floor is not None if config.enabled is None else config.enabled
    return PerformanceSettings(enabled, metric, floor, higher, config.min_labels)
