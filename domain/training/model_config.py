"""The model a dataset trains, in the training configuration: a built-in family, or the team's own module.

The families and their hyperparameters (kinds, bounds, defaults) are :mod:`spec.hyperparameters`'s table,
which the training job reads too; the pydantic models here are built from it. A team's own model
(:class:`TeamModule`) names a module of the project and a builder in it; its hyperparameters are the
builder's business. What needs the file system (the module exists, defines the builder) is checked by
:mod:`domain.training.team_code`.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    create_model,
    field_validator,
)

from spec.hyperparameters import FAMILIES, NUMBER_KINDS, Parameter

__all__ = [
    "ConfigModel",
    "HistGradientBoosting",
    "HistGradientBoostingParams",
    "ImportsConfig",
    "LinearRegression",
    "LinearRegressionParams",
    "LogisticRegression",
    "LogisticRegressionParams",
    "ModelConfig",
    "RandomForest",
    "RandomForestParams",
    "TeamModule",
    "is_identifier",
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


# What numpy's RandomState takes as a seed, and so scikit-learn's random_state: out of it, the job fails.
MAX_SEED = 2**32 - 1


class _ModelBase(ConfigModel):
    seed: int = Field(0, ge=0, le=MAX_SEED, description="random_state of the estimator")


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


def is_identifier(name: str) -> bool:
    """``name`` can be a Python module or function name: an identifier that is not a keyword."""
    return name.isidentifier() and not keyword.iskeyword(name)


class TeamModule(ConfigModel):
    """The team's own model: ``builder(contract, hyperparameters)`` in ``module`` returns an estimator.

    ``module`` is a path relative to the project root, in a folder of its own (the team code folder,
    which ships whole with the training code, so the module is imported as ``<folder>.<stem>``).
    """

    family: Literal["module"] = "module"
    module: str = Field(
        description="Path of the module, relative to the project root (e.g. models/churn.py)."
    )
    builder: str = Field(description="The module's top-level function that returns the estimator.")
    hyperparameters: dict[str, Any] = Field(
        default_factory=dict, description="Passed to the builder as they are (any JSON values)."
    )
    seed: int = Field(0, ge=0, le=MAX_SEED, description="The contract's seed, for the builder's random_state")

    @field_validator("family", mode="before")
    @classmethod
    def _one_kind(cls, value: object) -> object:
        if value != "module":
            raise ValueError(
                f"family {value!r} and module are both given: choose one, family for a built-in model or "
                "module and builder for your own"
            )
        return value

    @field_validator("module")
    @classmethod
    def _module_path(cls, value: str) -> str:
        path = PurePosixPath(value)
        if "\\" in value or path.is_absolute() or re.match(r"^[A-Za-z]:", value):
            raise ValueError(
                f"{value!r} must be a path relative to the project root, with '/' (e.g. models/churn.py)"
            )
        if ".." in path.parts:
            raise ValueError(f"{value!r} leaves the project ('..'): team code must be inside the project")
        if path.suffix != ".py":
            raise ValueError(f"{value!r} must be a Python file (ending in .py)")
        if not is_identifier(path.stem):
            raise ValueError(
                f"{value!r}: {path.stem!r} cannot be imported as a Python module; name the file with "
                "letters, digits and '_' (not starting with a digit, not a keyword)"
            )
        if path.parent == PurePosixPath("."):
            raise ValueError(
                f"{value!r} must be in a folder of its own (e.g. models/{path.name}): that folder ships "
                "whole with the training code"
            )
        if path.name == "__init__.py":
            raise ValueError(
                f"{value!r} is the folder's package file, not a module of its own: put the builder in a "
                f"module beside it (e.g. {path.parent}/model.py) and name that one"
            )
        # One spelling per file ('./models/x.py', 'models//x.py' and 'models/./x.py' are models/x.py): the
        # path is recorded as the model's lineage and compared across datasets.
        return str(path)

    @field_validator("builder")
    @classmethod
    def _builder_name(cls, value: str) -> str:
        if not is_identifier(value):
            raise ValueError(
                f"{value!r} is not a Python function name (letters, digits and '_', not a keyword)"
            )
        return value


def _dotted_name(name: str) -> str:
    if not _DOTTED.fullmatch(name):
        raise ValueError(
            f"{name!r} is not a type's dotted name: write package.module.Name (e.g. "
            "lightgbm.sklearn.LGBMClassifier)"
        )
    return name


_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+")


class ImportsConfig(ConfigModel):
    """What a model trained elsewhere may contain (``mlops models import``), beyond skops's own defaults.

    Attributes
    ----------
    trusted_types : list of str
        Dotted names of the types its skops file may hold (``lightgbm.sklearn.LGBMClassifier``): skops
        refuses to load any other type that it does not trust by default.
    """

    trusted_types: list[Annotated[str, AfterValidator(_dotted_name)]] = Field(default_factory=list)

    @field_validator("trusted_types")
    @classmethod
    def _once_each(cls, value: list[str]) -> list[str]:
        if twice := sorted({name for name in value if value.count(name) > 1}):
            raise ValueError(f"listed more than once: {', '.join(twice)}")
        return value


def _model_kind(value: Any) -> str | None:
    """The union's tag: ``module`` when a module is named (with or without family), else the family."""
    if isinstance(value, Mapping):
        if "module" in value:
            return "module"
        family = value.get("family")
        return None if family is None else str(family)
    return getattr(value, "family", None)


ModelConfig = Annotated[
    Annotated[HistGradientBoosting, Tag("hist_gradient_boosting")]
    | Annotated[RandomForest, Tag("random_forest")]
    | Annotated[LogisticRegression, Tag("logistic_regression")]
    | Annotated[LinearRegression, Tag("linear_regression")]
    | Annotated[TeamModule, Tag("module")],
    Discriminator(_model_kind),
]
