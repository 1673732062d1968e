"""The platform's one typed configuration, built from the ``mlops`` key of the ``cdk.json`` context.

Synth validates it before building anything: a bad value fails with a message that names the key and
what is allowed. Dataset contracts are loaded and validated here too, with the same model that the
validation Lambda uses at run time (``domain.data.contract`` is pure pydantic; importing it pulls in no
runtime dependency), so a contract that would be rejected at run time cannot be deployed.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from domain.data.contract import (
    STORAGE_HOLDS,
    ContractError,
    DatasetContract,
    load_contract,
    max_file_bytes_for,
)
from domain.deployment.serving_config import ServingConfig
from domain.feedback.config import FeedbackConfig
from domain.feedback.labelled import LabelledSchemaError, labelled_schema
from domain.instance_types import has_local_storage
from domain.monitoring.config import MonitoringConfig
from domain.monitoring.performance_config import PerformanceConfigError, resolve_performance
from domain.platform_names import NameProblem, name_problems
from domain.retraining.config import RetrainingConfig
from domain.training.config import TeamModule, TrainingConfig, TrainingConfigError, parse_training_config
from domain.training.team_code import team_code_folder, team_code_problems
from stacks import workflow_limits

CONTEXT_KEY = "mlops"
# CloudWatch refuses an alarm whose period is longer than a day; the drift alarm's is the monitor's window.
MAX_ALARM_PERIOD_MINUTES = 24 * 60
# The image training/ is checked against (its Python and packages): the only one the platform deploys.
TRAINING_CONTAINER = Path(__file__).resolve().parents[1] / "training" / "container.toml"


@cache
def recorded_image_version() -> str:
    """The SageMaker scikit-learn image version that ``training/container.toml`` records."""
    with TRAINING_CONTAINER.open("rb") as file:
        return str(tomllib.load(file)["image"]["version"])


@cache
def recorded_image_import_names() -> Mapping[str, str]:
    """The top-level names the image's packages install, each with its distribution (``[import_names]``)."""
    with TRAINING_CONTAINER.open("rb") as file:
        recorded = tomllib.load(file)["import_names"]
    # Read-only: cached, so shared by every caller.
    return MappingProxyType({name: str(dist) for dist, names in recorded.items() for name in names})


class ConfigError(Exception):
    """The ``cdk.json`` configuration is invalid; the message names the key and what is allowed."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatasetConfig(_Strict):
    """A dataset: its contract (a path relative to the project root), how it trains, is served, is monitored.

    Its endpoint is monitored the same way whether it is served real-time or serverless; with
    ``monitoring.enabled`` false it has no drift schedule and no monitoring alarms.
    """

    contract: str = Field(description="Path of the dataset's contract (YAML or JSON).")
    training: dict[str, Any] = Field(
        default_factory=dict, description="Its training configuration (domain/training/config.py)."
    )
    serving: ServingConfig = Field(
        default_factory=ServingConfig,
        description="How its model is served (domain/deployment/serving_config.py).",
    )
    monitoring: MonitoringConfig = Field(
        default_factory=MonitoringConfig,
        description="How its endpoint is watched for drift (domain/monitoring/config.py).",
    )
    feedback: FeedbackConfig = Field(
        default_factory=FeedbackConfig,
        description="How its labels are joined with captured requests (domain/feedback/config.py).",
    )
    retraining: RetrainingConfig = Field(
        default_factory=RetrainingConfig,
        description="What may start a training run, and how often (domain/retraining/config.py).",
    )

    @model_validator(mode="after")
    def _drift_alarm_period(self) -> DatasetConfig:
        window = self.monitoring.window_minutes
        if window > MAX_ALARM_PERIOD_MINUTES:
            # At the key itself (not the dataset's), so that the message names monitoring.window_minutes.
            problem = PydanticCustomError(
                "value_error",
                "{message}",
                {
                    "message": f"{window} minutes is the drift alarm's period, and CloudWatch refuses an "
                    f"alarm period longer than a day: set it to at most {MAX_ALARM_PERIOD_MINUTES}"
                },
            )
            details = InitErrorDetails(type=problem, loc=("monitoring", "window_minutes"), input=window)
            raise ValidationError.from_exception_data("DatasetConfig", [details])
        return self


class TrainingInfraConfig(_Strict):
    """Where and how long the training jobs run."""

    instance_type: str = Field("ml.m5.large", pattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
    volume_size_gb: int = Field(30, ge=1, le=16384)
    max_runtime_minutes: int = Field(60, ge=1, le=7 * 24 * 60)
    pipeline_timeout_minutes: int = Field(240, ge=5, le=365 * 24 * 60)
    image_version: str = Field(
        default_factory=recorded_image_version,
        description="The SageMaker scikit-learn container's version: the one training/container.toml records",
    )
    managed_spot: bool = Field(
        False, description="Train on spot capacity (up to 90% cheaper); an interrupted job starts over."
    )
    max_wait_minutes: int | None = Field(
        None,
        ge=1,
        le=7 * 24 * 60,
        description="With managed_spot: the longest a job may wait for spot capacity and run, in all. "
        "Default: twice max_runtime_minutes.",
    )

    @field_validator("image_version")
    @classmethod
    def _recorded_image(cls, version: str) -> str:
        recorded = recorded_image_version()
        if version != recorded:
            raise ValueError(
                f"{version!r} is not the image training/ is checked against ({recorded!r}, recorded in "
                "training/container.toml): to move to another, record its Python and packages there"
            )
        return version

    @model_validator(mode="after")
    def _spot_wait(self) -> TrainingInfraConfig:
        if self.max_wait_minutes is None:
            return self
        if not self.managed_spot:
            raise ValueError("max_wait_minutes applies to managed spot training only: set managed_spot: true")
        if self.max_wait_minutes < self.max_runtime_minutes:
            raise ValueError(
                f"max_wait_minutes ({self.max_wait_minutes}) must be at least max_runtime_minutes "
                f"({self.max_runtime_minutes}): it is the waiting for capacity and the running, in all"
            )
        return self

    @property
    def local_storage(self) -> bool:
        """The instance type's volume is NVMe instance store, encrypted by the instance itself.

        SageMaker refuses ``ResourceConfig.VolumeKmsKeyId`` with such a type, so the job is created
        without one (``domain.instance_types``).
        """
        return has_local_storage(self.instance_type)

    @property
    def spot_max_wait_minutes(self) -> int:
        """``StoppingCondition.MaxWaitTimeInSeconds`` in minutes, when training on spot."""
        return self.max_wait_minutes or min(2 * self.max_runtime_minutes, 7 * 24 * 60)


class DeploymentInfraConfig(_Strict):
    """How the deployment workflow waits: for an endpoint to settle, for another deployment to end.

    Its waits and its timeout bound how many history events an execution writes; synth refuses a
    combination that could reach Step Functions' 25,000 (``stacks/workflow_limits.py``).
    """

    poll_seconds: int = Field(30, ge=1, le=600, description="Between two looks at an updating endpoint.")
    lock_wait_seconds: int = Field(60, ge=1, le=3600, description="Between two tries to take the endpoint.")
    timeout_minutes: int = Field(720, ge=10, le=365 * 24 * 60)

    @model_validator(mode="after")
    def _bounded_history(self) -> DeploymentInfraConfig:
        waits = {"poll_seconds": self.poll_seconds, "lock_wait_seconds": self.lock_wait_seconds}
        events = workflow_limits.worst_case_events(**waits, timeout_minutes=self.timeout_minutes)
        if events <= workflow_limits.HISTORY_BUDGET:
            return self
        poll = workflow_limits.shortest_safe_wait(timeout_minutes=self.timeout_minutes, lock=False)
        lock = workflow_limits.shortest_safe_wait(timeout_minutes=self.timeout_minutes, lock=True)
        longest = workflow_limits.slowest_safe_timeout(**waits)
        raise ValueError(
            f"poll_seconds {self.poll_seconds} and lock_wait_seconds {self.lock_wait_seconds} for "
            f"timeout_minutes {self.timeout_minutes} let one deployment write up to {events:,} history "
            f"events, and Step Functions fails an execution at {workflow_limits.MAX_HISTORY_EVENTS:,}: "
            f"with this timeout, set poll_seconds to at least {poll} and lock_wait_seconds to at least "
            f"{lock}, or with these waits set timeout_minutes to at most {longest}"
        )


class ValidationFunctionConfig(_Strict):
    """Sizing of the dataset validation Lambda."""

    memory_mb: int = Field(1769, ge=512, le=10240, description="1,769 MB is one full vCPU.")
    timeout_minutes: int = Field(15, ge=1, le=15)
    ephemeral_storage_gb: int = Field(10, ge=1, le=10, description="Room to spool Parquet uploads.")
    architecture: Literal["arm64", "x86_64"] = "arm64"


class PlatformConfig(_Strict):
    """Everything that differs between deployments of the platform."""

    project: str = Field("mlops", description="Prefix of stack and resource names.")
    datasets: dict[str, DatasetConfig] = Field(min_length=1)
    alert_emails: list[str] = Field(default_factory=list)
    retain_data: bool = Field(True, description="Keep buckets, key and catalog when a stack is deleted.")
    log_retention_days: Literal[7, 14, 30, 60, 90, 180, 365, 731, 1827, 3653] = 90
    noncurrent_version_transition_days: int = Field(30, ge=1, le=3650)
    noncurrent_version_expiration_days: int | None = Field(
        None, ge=1, le=36500, description="Unset: noncurrent versions are kept (moved to Glacier IR)."
    )
    access_log_expiration_days: int = Field(365, ge=1, le=36500)
    validation: ValidationFunctionConfig = ValidationFunctionConfig()
    training: TrainingInfraConfig = TrainingInfraConfig()
    deployment: DeploymentInfraConfig = DeploymentInfraConfig()

    @field_validator("project")
    @classmethod
    def _project_name(cls, value: str) -> str:
        # No hyphen: resources are named and granted by "<project>-" (model package groups, endpoints,
        # the approval rule), and project "ml-x"'s names would start with project "ml"'s prefix.
        if not re.fullmatch(r"[a-z][a-z0-9]{1,20}", value):
            raise ValueError(
                f"{value!r} must be 2-21 characters: lowercase letters and digits, starting with a letter "
                "(no '-': names are '<project>-<dataset>', so project 'ml' would own the names of 'ml-x')"
            )
        return value

    @field_validator("alert_emails")
    @classmethod
    def _emails(cls, value: list[str]) -> list[str]:
        for email in value:
            if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
                raise ValueError(f"{email!r} is not an email address")
        return value

    @model_validator(mode="after")
    def _rollouts_within_the_deployment_timeout(self) -> PlatformConfig:
        # A deployment cut by the workflow's timeout never runs Finish: the endpoint stays taken.
        timeout = self.deployment.timeout_minutes * 60
        for name, dataset in self.datasets.items():
            serving = dataset.serving
            rollout = serving.rollout.max_seconds if serving.mode == "realtime" else 0
            needed = rollout + workflow_limits.ENDPOINT_START_SECONDS
            if needed > timeout:
                raise ValueError(
                    f"deployment.timeout_minutes ({self.deployment.timeout_minutes}) is shorter than a "
                    f"deployment of dataset {name!r} may take: its rollout (datasets.{name}.serving.rollout) "
                    f"may last {rollout} s and starting the endpoint "
                    f"{workflow_limits.ENDPOINT_START_SECONDS} s; set timeout_minutes to at least "
                    f"{-(-needed // 60)} or shorten the rollout"
                )
        return self

    @model_validator(mode="after")
    def _expiration_after_transition(self) -> PlatformConfig:
        expiration = self.noncurrent_version_expiration_days
        if expiration is not None and expiration <= self.noncurrent_version_transition_days:
            raise ValueError(
                "noncurrent_version_expiration_days must be greater than noncurrent_version_transition_days"
            )
        return self


class Platform(BaseModel):
    """The validated configuration together with the dataset contracts it names."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    config: PlatformConfig
    contracts: dict[str, DatasetContract]
    training: dict[str, TrainingConfig]
    # The team code folder (absolute): the parent of the modules that datasets' training.model names;
    # None when every dataset trains a built-in family (domain/training/team_code.py).
    team_code: Path | None = None


def load_platform(context: dict[str, Any] | None, project_root: Path) -> Platform:
    """Validate the ``mlops`` context and load every dataset contract it names.

    Parameters
    ----------
    context
        The value of the ``mlops`` key of the CDK context (``cdk.json`` or ``--context``).
    project_root
        The folder that contract paths are relative to.

    Returns
    -------
    Platform
        The configuration and the contracts, keyed by dataset name.

    Raises
    ------
    ConfigError
        When a key is missing, unknown or has a value that is not allowed, or a contract is invalid.
    """
    if context is None:
        raise ConfigError(f"cdk.json: the context has no '{CONTEXT_KEY}' key; see README.md, 'Configuration'")
    try:
        config = PlatformConfig.model_validate(context)
    except ValidationError as error:
        raise ConfigError(_describe(error)) from None
    contracts: dict[str, DatasetContract] = {}
    for name, dataset in config.datasets.items():
        path = project_root / dataset.contract
        try:
            contract = load_contract(path)
        except ContractError as error:
            raise ConfigError(f"{CONTEXT_KEY}.datasets.{name}.contract: {error}") from None
        if contract.name != name:
            raise ConfigError(
                f"{CONTEXT_KEY}.datasets.{name}.contract: {dataset.contract} declares dataset "
                f"{contract.name!r}; the key and the contract's name must be the same"
            )
        # The validation function holds an upload and its snapshot in /tmp: the contract's limit must fit.
        most = max_file_bytes_for(config.validation.ephemeral_storage_gb * 1024**3)
        if contract.limits.max_file_bytes > most:
            raise ConfigError(
                f"{CONTEXT_KEY}.datasets.{name}.contract: {dataset.contract}: limits.max_file_bytes is "
                f"{contract.limits.max_file_bytes:,} bytes, but {STORAGE_HOLDS} ({CONTEXT_KEY}.validation."
                f"ephemeral_storage_gb = {config.validation.ephemeral_storage_gb}), so at most {most:,}: "
                "lower limits.max_file_bytes or raise ephemeral_storage_gb (at most 10)"
            )
        try:
            labelled_schema(contract)  # its labels are kept beside columns of the platform's own
        except LabelledSchemaError as error:
            raise ConfigError(f"{CONTEXT_KEY}.datasets.{name}.contract: {error}") from None
        contracts[name] = contract
    training: dict[str, TrainingConfig] = {}
    for name, dataset in config.datasets.items():
        try:
            training[name] = parse_training_config(
                dataset.training,
                contract=contracts[name],
                source=f"cdk.json: {CONTEXT_KEY}.datasets.{name}.training",
            )
        except TrainingConfigError as error:
            raise ConfigError(str(error)) from None
        try:
            resolve_performance(dataset.monitoring.performance, training[name])
        except PerformanceConfigError as error:
            key = f"{CONTEXT_KEY}.datasets.{name}.monitoring.performance.{error.key}"
            raise ConfigError(f"cdk.json: {key}: {error.message}") from None
    # Names AWS would refuse fail here, not in the account after a training job (domain/names.py).
    if problems := name_problems(config.project, config.datasets):
        raise ConfigError("\n".join(_name_problem(problem) for problem in problems))
    # A team's module that is missing or lacks its builder fails here, not in a training job.
    modules = {name: t.model for name, t in training.items() if isinstance(t.model, TeamModule)}
    if team_problems := team_code_problems(project_root, modules, image_names=recorded_image_import_names()):
        raise ConfigError("\n".join(f"cdk.json: {CONTEXT_KEY}.{p.path}: {p.message}" for p in team_problems))
    team_code = team_code_folder(project_root, modules)
    return Platform(config=config, contracts=contracts, training=training, team_code=team_code)


def _name_problem(problem: NameProblem) -> str:
    key = "project" if problem.dataset is None else f"datasets.{problem.dataset}"
    return f"cdk.json: {CONTEXT_KEY}.{key}: {problem.describe()}"


def _describe(error: ValidationError) -> str:
    lines = []
    for problem in error.errors():
        key = ".".join(str(part) for part in (CONTEXT_KEY, *problem["loc"]))
        message = problem["msg"].removeprefix("Value error, ")
        if problem["type"] == "extra_forbidden":
            message = f"unknown key; allowed keys: {', '.join(_allowed_keys(problem['loc'][:-1]))}"
        elif problem["type"] == "literal_error":
            message = message.replace("Input should be", "must be one of")
        lines.append(f"cdk.json: {key}: {message}")
    return "\n".join(lines)


def _allowed_keys(location: tuple[int | str, ...]) -> list[str]:
    model: type[BaseModel] = PlatformConfig
    for part in location:
        field = model.model_fields.get(str(part))
        annotation = field.annotation if field else None
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model = annotation
        elif str(part) not in model.model_fields:
            # A dict of sub-models (datasets.<name>): the next level is the value model.
            model = DatasetConfig
    return sorted(model.model_fields)
