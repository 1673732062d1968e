"""A dataset's training configuration: what to train, how to split, how to evaluate and when to approve.

It sits next to the dataset's contract in the platform configuration and is validated at synth time
against that contract with :func:`parse_training_config`, which returns the configuration with every
default resolved (the task, the champion metric, the hyperparameters). That resolved form, dumped as
JSON, is what the training job receives as ``training.json``. Pure pydantic: the CDK app imports it.

Example
-------
.. code-block:: json

    {"task": "classification",
     "model": {"family": "hist_gradient_boosting",
               "hyperparameters": {"learning_rate": 0.05, "max_iter": 300}},
     "split": {"key_column": "customer_id", "validation_fraction": 0.15, "test_fraction": 0.2},
     "evaluation": {"bootstrap_samples": 200, "confidence": 0.95},
     "gate": {"thresholds": {"roc_auc": {"min": 0.7}},
              "champion": {"mode": "not_worse", "margin": 0.01, "metric": "roc_auc"}}}

A team's own model replaces the family: ``"model": {"module": "models/churn.py", "builder": "build",
"hyperparameters": {...}}`` (:class:`domain.training.model_config.TeamModule`). ``imports.trusted_types``
lists the types a model trained elsewhere may hold beyond skops's defaults (``mlops models import``).

Which columns are features is :mod:`spec.features`'s rule, which the training job applies too.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any, Literal, Self

from pydantic import Field, ValidationError, model_validator

from domain.data.contract import Column, DatasetContract
from domain.data.contract_sections import FieldError
from domain.training.config_messages import describe_errors, problem_line
from domain.training.evaluation_config import ChampionConfig, EvaluationConfig, GateConfig, ThresholdConfig
from domain.training.model_config import (
    ConfigModel,
    HistGradientBoosting,
    ImportsConfig,
    ModelConfig,
    TeamModule,
)
from spec.features import is_feature
from spec.hyperparameters import FAMILY_TASKS

__all__ = [
    "FAMILY_TASKS",
    "HIGHER_IS_BETTER",
    "METRICS",
    "ChampionConfig",
    "EvaluationConfig",
    "GateConfig",
    "ImportsConfig",
    "ModelConfig",
    "SplitConfig",
    "Task",
    "TeamModule",
    "ThresholdConfig",
    "TrainingConfig",
    "TrainingConfigError",
    "default_metric",
    "feature_columns",
    "infer_task",
    "parse_training_config",
]

Task = Literal["classification", "regression"]

# Metric name -> whether a higher value is better. Names are unique across tasks on purpose: the gate
# knows a metric's direction from its name alone.
METRICS: dict[Task, dict[str, bool]] = {
    "classification": {"accuracy": True, "f1": True, "roc_auc": True, "log_loss": False},
    "regression": {"rmse": False, "mae": False, "r2": True},
}
HIGHER_IS_BETTER: dict[str, bool] = {name: up for by_task in METRICS.values() for name, up in by_task.items()}
_DEFAULT_METRIC: dict[Task, str] = {"classification": "roc_auc", "regression": "rmse"}
# An integer target with at most this many declared values is taken as class labels.
MAX_INTEGER_CLASSES = 20


class TrainingConfigError(ValueError):
    """A training configuration is invalid; one line per problem: ``<source>.<key path>: <message>``."""


class SplitConfig(ConfigModel):
    """How a snapshot is split into train, validation and test rows (see :mod:`domain.training.splitting`).

    Attributes
    ----------
    key_column : str, optional
        Rows with the same key always land in the same split (e.g. a customer id, so that no customer
        is both trained on and tested on). Without it, a row's split depends on all of its values.
    validation_fraction, test_fraction : float
        Expected shares of rows; the rest is training data.
    min_rows_per_split : int
        Fewer usable rows than this in any split fails the run.
    seed : int
        Mixed into the hash: changing it reshuffles every row.
    """

    key_column: str | None = None
    validation_fraction: Annotated[float, Field(gt=0, lt=1)] = 0.15
    test_fraction: Annotated[float, Field(gt=0, lt=1)] = 0.2
    min_rows_per_split: Annotated[int, Field(ge=1)] = 30
    seed: int = 0

    @model_validator(mode="after")
    def _leaves_training_rows(self) -> Self:
        if self.validation_fraction + self.test_fraction > 0.9:
            raise ValueError("validation_fraction + test_fraction must leave at least 10% for training")
        return self

    @property
    def fingerprint(self) -> str:
        """16 hex digits naming this split (same configuration, same rows): a storage prefix."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


class TrainingConfig(ConfigModel):
    """The training configuration of one dataset (see the module docstring)."""

    task: Task | None = None
    positive_class: str | int | None = None
    exclude_columns: list[str] = Field(default_factory=list)
    model: ModelConfig = Field(default_factory=lambda: HistGradientBoosting(family="hist_gradient_boosting"))
    split: SplitConfig = Field(default_factory=SplitConfig)
    evaluation: EvaluationConfig = Field(default_factory=EvaluationConfig)
    gate: GateConfig = Field(default_factory=GateConfig)
    imports: ImportsConfig = Field(default_factory=ImportsConfig)

    @model_validator(mode="after")
    def _consistent_with_task(self) -> Self:
        if self.task is None:
            return self
        # A team's builder is given the task in the contract: which tasks it can do is its own business.
        if not isinstance(self.model, TeamModule):
            self._family_can_do(self.task)
        valid = METRICS[self.task]
        for metric in self.gate.thresholds:
            if metric not in valid:
                raise FieldError(f"gate.thresholds.{metric}", _unknown_metric(metric, self.task))
        compared = self.gate.champion.metric
        if compared is not None and compared not in valid:
            raise FieldError("gate.champion.metric", _unknown_metric(compared, self.task))
        if self.task == "regression" and self.positive_class is not None:
            raise FieldError("positive_class", "positive_class is for classification only")
        return self

    def _family_can_do(self, task: Task) -> None:
        family = self.model.family
        if task not in FAMILY_TASKS[family]:
            allowed = sorted(f for f, tasks in FAMILY_TASKS.items() if task in tasks)
            raise FieldError(
                "model.family", f"{family} cannot do {task}; families for {task}: {', '.join(allowed)}"
            )
        class_weight = getattr(self.model.hyperparameters, "class_weight", None)
        if task == "regression" and class_weight is not None:
            raise FieldError("model.hyperparameters.class_weight", "class_weight is for classification only")


def _unknown_metric(metric: str, task: Task) -> str:
    return f"unknown {task} metric {metric!r}; use one of {', '.join(METRICS[task])}"


def default_metric(task: Task) -> str:
    """The metric that the champion comparison uses when none is configured."""
    return _DEFAULT_METRIC[task]


def infer_task(target: Column) -> Task | None:
    """The task a target column implies, or None when its type cannot be learnt.

    Boolean, category and string targets are classification; float targets regression; an integer
    target is classification when its declared bounds allow at most 20 values (0/1 flags, ratings),
    regression otherwise. Timestamps cannot be targets.
    """
    if target.type in ("boolean", "category", "string"):
        return "classification"
    if target.type == "float":
        return "regression"
    if target.type == "integer":
        bounded = target.min is not None and target.max is not None
        small = bounded and target.max - target.min + 1 <= MAX_INTEGER_CLASSES  # type: ignore[operator]
        return "classification" if small else "regression"
    return None


def feature_columns(contract: DatasetContract, config: TrainingConfig) -> list[Column]:
    """The columns a model learns from, in contract order (:func:`spec.features.is_feature`)."""
    return [
        c
        for c in contract.columns
        if is_feature(
            c.name,
            c.type,
            target=contract.target,
            key_column=config.split.key_column,
            exclude_columns=config.exclude_columns,
        )
    ]


def _resolve(config: TrainingConfig, contract: DatasetContract) -> TrainingConfig:
    """Check the configuration against the contract and fill the defaults that depend on it."""
    target = contract.column(contract.target)
    task = config.task or infer_task(target)
    if task is None:
        raise FieldError("task", f"target {target.name!r} is a {target.type} column, which cannot be learnt")
    if task == "regression" and target.type not in ("integer", "float"):
        raise FieldError("task", f"regression needs a numeric target; {target.name!r} is {target.type}")
    if task == "classification" and target.type == "float":
        raise FieldError("task", f"classification needs class labels; {target.name!r} is a float column")
    names = set(contract.column_names)
    key = config.split.key_column
    if key is not None and (key not in names or key == contract.target):
        raise FieldError("split.key_column", f"{key!r} must be a declared column other than the target")
    for index, name in enumerate(config.exclude_columns):
        if name not in names:
            raise FieldError(f"exclude_columns.{index}", f"{name!r} is not a declared column")
    _check_positive_class(config.positive_class, target)
    champion = config.gate.champion.model_copy(
        update={"metric": config.gate.champion.metric or default_metric(task)}
    )
    resolved = config.model_copy(
        update={"task": task, "gate": config.gate.model_copy(update={"champion": champion})}
    )
    # Re-validate: the task-dependent checks run now that the task is known.
    resolved = TrainingConfig.model_validate(resolved.model_dump())
    if not feature_columns(contract, resolved):
        raise FieldError("exclude_columns", "no feature columns are left to learn from")
    return resolved


def _check_positive_class(value: str | int | None, target: Column) -> None:
    if value is None:
        return
    if target.type == "category" and value not in target.categories:
        raise FieldError(
            "positive_class", f"{value!r} is not one of the target's categories {target.categories}"
        )
    if target.type == "integer" and (not isinstance(value, int) or isinstance(value, bool)):
        raise FieldError("positive_class", f"the target is an integer column; got {value!r}")
    if target.type == "boolean":
        raise FieldError("positive_class", "a boolean target's positive class is always true")


def parse_training_config(
    data: Any, *, contract: DatasetContract, source: str = "training"
) -> TrainingConfig:
    """Validate a dataset's training configuration against its contract, and resolve its defaults.

    Parameters
    ----------
    data : Any
        The mapping from the platform configuration (e.g. ``cdk.json``).
    contract : DatasetContract
        The dataset's contract: the target decides the task; columns named must exist.
    source : str
        Prefix of error messages, the key's own path: ``cdk.json: mlops.datasets.churn.training``.

    Returns
    -------
    TrainingConfig
        With ``task`` and ``gate.champion.metric`` set and every hyperparameter filled in.

    Raises
    ------
    TrainingConfigError
        One line per problem, naming the key: ``<source>.model.hyperparameters.max_iter: Input
        should be a valid integer``.
    """
    if not isinstance(data, dict):
        raise TrainingConfigError(problem_line(source, "", f"must be a mapping, got {type(data).__name__}"))
    try:
        config = TrainingConfig.model_validate(data)
        return _resolve(config, contract)
    except ValidationError as error:
        raise TrainingConfigError(describe_errors(error, source)) from None
    except FieldError as error:
        raise TrainingConfigError(problem_line(source, error.field, str(error))) from None
