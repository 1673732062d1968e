"""The model a dataset trains: its family and the family's hyperparameters, in the training configuration.

The families and their hyperparameters (kinds, bounds, defaults) are :mod:`spec.hyperparameters`'s table,
which the training job reads too; the pydantic models here are built from it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model

from spec.hyperparameters import FAMILIES, NUMBER_KINDS, Parameter

__all__ = [
    "ConfigModel",
    "HistGradientBoosting",
    "HistGradientBoostingParams",
    "LinearRegression",
    "LinearRegressionParams",
    "LogisticRegression",
    "LogisticRegressionParams",
    "ModelConfig",
    "RandomForest",
    "RandomForestParams",
]


class ConfigModel(BaseModel):
    """A part of the training configuration: unknown keys are errors, and it does not change."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class _Hyperparameters(ConfigModel):
    # Strict: ``max_iter: 1.5`` or ``learning_rate: "0.1"`` in a configuration is a mistake to report,
    # not a value to coerce (ints are still accepted where a float is expected).
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def _annotation(parameter: Parameter) -> Any:
    """The pydantic type of a hyperparameter of spec.hyperparameters' table."""
    numbers = [kind for kind in parameter.kinds if kind in NUMBER_KINDS]
    if numbers and parameter.literals:
        # One clear message instead of one per member of the union (fraction, "sqrt", "log2", null).
        def check(value: object) -> object:
            if isinstance(value, int) and not isinstance(value, bool) and "float" in numbers:
                value = float(value)
            if parameter.accepts(value):
                return value
            raise ValueError(f"must be {parameter.expected()}; got {value!r}")

        return Annotated[Any, BeforeValidator(check)]
    if numbers:
        base: Any = Annotated[
            int if numbers == ["int"] else float, Field(ge=parameter.ge, gt=parameter.gt, le=parameter.le)
        ]
    elif "bool" in parameter.kinds:
        base = bool
    else:
        base = Literal[parameter.literals]
    return base | None if "none" in parameter.kinds else base


def _hyperparameters(name: str, family: str, doc: str) -> type[_Hyperparameters]:
    fields: dict[str, Any] = {
        key: (_annotation(parameter), parameter.default) for key, parameter in FAMILIES[family].items()
    }
    return create_model(name, __base__=_Hyperparameters, __doc__=doc, **fields)


# The models of each family's hyperparameters, built from spec.hyperparameters' table (mypy sees their base).
if TYPE_CHECKING:
    HistGradientBoostingParams: TypeAlias = _Hyperparameters
    RandomForestParams: TypeAlias = _Hyperparameters
    LogisticRegressionParams: TypeAlias = _Hyperparameters
    LinearRegressionParams: TypeAlias = _Hyperparameters
else:
    HistGradientBoostingParams = _hyperparameters(
        "HistGradientBoostingParams",
        "hist_gradient_boosting",
        "``HistGradientBoostingClassifier`` / ``Regressor``.",
    )
    RandomForestParams = _hyperparameters(
        "RandomForestParams", "random_forest", "``RandomForestClassifier`` / ``Regressor``."
    )
    LogisticRegressionParams = _hyperparameters(
        "LogisticRegressionParams", "logistic_regression", "``LogisticRegression`` (L2)."
    )
    LinearRegressionParams = _hyperparameters(
        "LinearRegressionParams", "linear_regression", "Least squares, or ``Ridge(alpha)``."
    )


class _ModelBase(ConfigModel):
    seed: int = Field(0, description="random_state of the estimator")


class HistGradientBoosting(_ModelBase):
    """Histogram gradient boosting: classification and regression; nulls and categories natively."""

    family: Literal["hist_gradient_boosting"]
    hyperparameters: HistGradientBoostingParams = Field(default_factory=HistGradientBoostingParams)


class RandomForest(_ModelBase):
    """Random forest: classification and regression."""

    family: Literal["random_forest"]
    hyperparameters: RandomForestParams = Field(default_factory=RandomForestParams)


class LogisticRegression(_ModelBase):
    """Logistic regression: classification only."""

    family: Literal["logistic_regression"]
    hyperparameters: LogisticRegressionParams = Field(default_factory=LogisticRegressionParams)


class LinearRegression(_ModelBase):
    """Linear (or ridge) regression: regression only."""

    family: Literal["linear_regression"]
    hyperparameters: LinearRegressionParams = Field(default_factory=LinearRegressionParams)


ModelConfig = Annotated[
    HistGradientBoosting | RandomForest | LogisticRegression | LinearRegression, Field(discriminator="family")
]
