"""Every name the platform gives a resource or a request, built in one place.

A name is how one part of the platform finds what another made: the stacks grant ``<project>-*``, the
deployment reads the dataset back from a model package group, a retried step asks for the same training
job by name. Each builder is deterministic (no clock), so a request made twice names the same thing.

- the platform's stacks and bus: :func:`stack_name`, :func:`event_bus_name`;
- the model package group of a dataset: :func:`group_prefix`, :func:`model_package_group`,
  :func:`dataset_of_group`; its model cards: :func:`model_card_name`;
- training runs: :func:`execution_name` (Step Functions) and :func:`training_job_name` (SageMaker);
- serving: :func:`endpoint_name`, :func:`model_name`, :func:`endpoint_config_name` (read back by
  :func:`version_of`), :func:`deployment_name` (the deployment workflow's execution),
  :func:`alarm_names` and :func:`capture_prefix`; the captures of one model version:
  :func:`capture_uri_prefix` (read back by :func:`capture_version`);
- monitoring: :func:`monitoring_prefix` (its reports), :func:`drift_alarm_name`,
  :func:`no_traffic_alarm_name`, :func:`no_new_data_alarm_name` and :func:`dashboard_name`;
- ground truth: :func:`feedback_prefix` (labels uploaded), :func:`labels_prefix` (labels joined with their
  captured requests), :func:`performance_alarm_name`, :func:`feedback_errors_alarm_name`;
- retraining: :func:`retraining_upload_key` (a dataset version the policy prepares), and the policy's
  schedules :func:`retraining_schedule_name` and :func:`deferral_schedule_name`;
- imported models: :func:`import_key` (a skops file waiting for its import run), under
  :data:`IMPORTS_PREFIX`.

AWS's rules for each kind of name are in :mod:`domain.name_rules`; :mod:`domain.platform_names` checks, at
synth, the longest name each builder can produce. Builders that take unbounded input (a trigger's
reference, a model version) shorten with :func:`fit`: a stable hash of the whole name replaces its end,
so two long names stay distinct, and a name never ends in a hyphen.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Final, Protocol

from domain.name_rules import ENDPOINT, EXECUTION, MODEL_CARD, SCHEDULE, TRAINING_JOB

__all__ = [
    "FOUNDATION",
    "IMPORTS_PREFIX",
    "LIFECYCLES",
    "MONITORING",
    "RUN_VERSION_DIGITS",
    "SERVING",
    "SHA256",
    "TRAINING",
    "VALIDATION",
    "PipelineRunError",
    "alarm_names",
    "capture_prefix",
    "capture_uri_prefix",
    "capture_version",
    "dashboard_name",
    "dataset_of_group",
    "deferral_schedule_name",
    "deployment_name",
    "drift_alarm_name",
    "endpoint_config_name",
    "endpoint_name",
    "event_bus_name",
    "execution_name",
    "feedback_errors_alarm_name",
    "feedback_prefix",
    "fit",
    "group_prefix",
    "import_key",
    "labels_prefix",
    "model_card_name",
    "model_name",
    "model_package_group",
    "monitoring_prefix",
    "no_new_data_alarm_name",
    "no_traffic_alarm_name",
    "performance_alarm_name",
    "retraining_schedule_name",
    "retraining_upload_key",
    "retraining_upload_prefix",
    "stack_name",
    "training_job_name",
    "version_of",
]

IMPORTS_PREFIX: Final = "imports/"  # models trained elsewhere, by dataset and file SHA-256
RUN_VERSION_DIGITS = 12  # of the dataset version's SHA-256, in a run's execution name
_SAGEMAKER_MAX = ENDPOINT.max_length  # SageMaker's, for models, endpoint configurations and endpoints too
_SAGEMAKER_UNSAFE = re.compile(r"[^a-zA-Z0-9-]+")
_EXECUTION_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_DATASET = re.compile(r"[a-z][a-z0-9-]*")
SHA256: Final = re.compile(r"[0-9a-f]{64}")  # a SHA-256 as the platform writes it
_VERSIONED = re.compile(r"(?P<stem>.*)-v(?P<version>\d+)-[0-9a-f]{8}")
_CAPTURE_VERSION = re.compile(r"v(?P<version>[1-9][0-9]*)/")


class PipelineRunError(ValueError):
    """A run cannot be named or read back: the message says which fact is wrong."""


class _Trigger(Protocol):
    """What a run's name takes from its trigger (``domain.training.runs.Trigger``)."""

    @property
    def kind(self) -> str: ...

    @property
    def reference(self) -> str | None: ...


class _Run(Protocol):
    """What a training job's name takes from its run (``domain.training.runs.RunRequest``)."""

    @property
    def dataset(self) -> str: ...

    @property
    def dataset_version(self) -> str: ...

    @property
    def name(self) -> str: ...


def fit(name: str, max_length: int, *, digits: int = 8) -> str:
    """``name`` if it has at most ``max_length`` characters, else its start and a hash of all of it.

    The result never ends in a hyphen and two different long names stay different (with 16**digits
    to one odds). ``max_length`` must leave room for the hash and one more character.
    """
    if len(name) <= max_length:
        return name
    if max_length < digits + 2:
        raise ValueError(f"cannot fit a name into {max_length} characters with a {digits}-digit hash")
    digest = hashlib.sha256(name.encode()).hexdigest()[:digits]
    return f"{name[: max_length - digits - 1].rstrip('-_')}-{digest}"


def _digest(*parts: str, length: int = 8) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:length]


# Stacks and the bus

# The platform's stacks, one per lifecycle: the stateful foundation and the stateless stacks that import
# it (stacks/app.py composes them).
FOUNDATION: Final = "foundation"
VALIDATION: Final = "validation"
TRAINING: Final = "training"
SERVING: Final = "serving"
MONITORING: Final = "monitoring"
LIFECYCLES: Final = (FOUNDATION, VALIDATION, TRAINING, SERVING, MONITORING)


def stack_name(project: str, lifecycle: str) -> str:
    """A stack of the platform: ``<project>-<lifecycle>``, the lifecycle one of :data:`LIFECYCLES`."""
    return f"{project}-{lifecycle}"


def event_bus_name(project: str) -> str:
    """The platform's event bus: ``<project>-platform``."""
    return f"{project}-platform"


# Model package groups and model cards


def group_prefix(project: str) -> str:
    """What every model package group of ``project`` starts with: the stacks grant ``<prefix>*``."""
    return f"{project}-"


def model_package_group(prefix: str, dataset: str) -> str:
    """The model package group of ``dataset``: ``<project>-<dataset>``, never shortened.

    People type it (``mlops models approve churn/3``), the stacks grant its prefix, and
    :func:`dataset_of_group` reads the dataset back from it; synth refuses a pair too long for it.
    """
    return prefix + dataset


def dataset_of_group(prefix: str, group: str) -> str | None:
    """The dataset whose model package group is ``group``; None if it is not a group of ``prefix``."""
    if not group.startswith(prefix) or len(group) == len(prefix):
        return None
    return group[len(prefix) :]


def model_card_name(group: str, version: int) -> str:
    """The model card of a version: ``<group>-v<version>``, valid for ``CreateModelCard``.

    When that is too long, the group's part ends in a hash of the group (:func:`fit`): cutting it
    alone would give two groups that start alike the same card.
    """
    suffix = f"-v{version}"
    return fit(group, MODEL_CARD.max_length - len(suffix)) + suffix


# Training runs


def execution_name(dataset: str, version: str, trigger: _Trigger) -> str:
    """The execution name of a run: deterministic, distinct per trigger, valid for Step Functions.

    Step Functions refuses a second execution with a name it has seen, so a trigger delivered twice
    starts one run. A name that would pass 80 characters is cut and ends with 8 hex digits of a hash of
    the whole name.

    Parameters
    ----------
    dataset : str
        The dataset's name (lowercase letters, digits and hyphens, as contracts allow).
    version : str
        The dataset version: the 64 hex digits of its content's SHA-256.
    trigger : Trigger
        What started the run (``domain.training.runs.Trigger``).

    Returns
    -------
    str
        1 to 80 characters of ``[A-Za-z0-9_-]``, e.g. ``churn-0123456789ab-accepted``.

    Raises
    ------
    PipelineRunError
        When the dataset name or the version is malformed.
    """
    if not _DATASET.fullmatch(dataset):
        raise PipelineRunError(f"dataset name {dataset!r} is not a valid dataset name")
    if not SHA256.fullmatch(version):
        raise PipelineRunError(f"dataset version {version!r} is not a SHA-256 (64 lowercase hex digits)")
    parts = [dataset, version[:RUN_VERSION_DIGITS], trigger.kind]
    if trigger.reference:
        # Characters Step Functions (and CloudWatch Logs) reject become one hyphen.
        parts.append(_EXECUTION_UNSAFE.sub("-", trigger.reference).strip("-") or "x")
    return fit("-".join(parts), EXECUTION.max_length)


def training_job_name(run: _Run) -> str:
    """A SageMaker training job name for the run: ``<dataset>-<version[:8]>-<hash of the run name>``.

    SageMaker allows 63 characters of ``[a-zA-Z0-9-]`` (``name_rules.TRAINING_JOB``) and never reuses a
    name, so the name is derived from the run name (unique per trigger) rather than the clock: a
    retried step asks for the same job. The dataset's part is cut to fit and never ends in a hyphen.
    """
    digest = hashlib.sha256(run.name.encode()).hexdigest()[:8]
    suffix = f"-{run.dataset_version[:8]}-{digest}"
    room = TRAINING_JOB.max_length - len(suffix)
    dataset = _SAGEMAKER_UNSAFE.sub("-", run.dataset)[:room].strip("-") or "run"
    return dataset + suffix


# Serving


def endpoint_name(project: str, dataset: str) -> str:
    """The dataset's endpoint: ``<project>-<dataset>``, stable for the life of the deployment.

    Apps invoke this name; every model version of the dataset is served behind it.
    """
    return fit(_SAGEMAKER_UNSAFE.sub("-", f"{project}-{dataset}").strip("-"), _SAGEMAKER_MAX)


def _versioned(endpoint: str, version: int, digest: str, max_length: int) -> str:
    # A long endpoint name ends in a hash of itself (fit): cut alone, two endpoints that start
    # alike would name the same model, and the second deployment would reuse the first one's.
    suffix = f"-v{version}-{digest}"
    return fit(endpoint, max_length - len(suffix)) + suffix


def model_name(endpoint: str, version: int, environment: Mapping[str, str], *, isolated: bool) -> str:
    """The SageMaker model of one model package version with one serving environment, for one endpoint.

    Reused when the same version is deployed again with the same settings (a rollback); a changed
    setting (the payload limit, network isolation) makes a new model, since a model cannot be changed:
    the isolated model of a real-time endpoint is never reused on a serverless one, which refuses it.
    """
    settings = sorted(f"{k}={v}" for k, v in environment.items())
    # Models made before isolation depended on the mode were all isolated: those names stay as they were.
    if not isolated:
        settings.append("network-isolation=off")
    return _versioned(endpoint, version, _digest(*settings), _SAGEMAKER_MAX)


def endpoint_config_name(endpoint: str, version: int, deployment: str) -> str:
    """The endpoint configuration of one deployment (new for every deployment, even of a version again)."""
    return _versioned(endpoint, version, _digest(deployment), _SAGEMAKER_MAX)


def deployment_name(endpoint: str, version: int, approved_at: str) -> str:
    """The deployment workflow's execution name for an approval (the same approval: the same name)."""
    return _versioned(endpoint, version, _digest(approved_at, length=12), EXECUTION.max_length)


def version_of(name: str | None, endpoint: str) -> int | None:
    """The model version in a model or endpoint configuration name made here for ``endpoint``, else None."""
    match = _VERSIONED.fullmatch(name or "")
    if match is None:
        return None
    # The stem is the endpoint's name, fitted to leave room for the suffix when it is long.
    suffix = len(match[0]) - len(match["stem"])
    return int(match["version"]) if match["stem"] == fit(endpoint, _SAGEMAKER_MAX - suffix) else None


def alarm_names(endpoint: str) -> list[str]:
    """The CloudWatch alarms that roll an update of ``endpoint`` back (created by the stack)."""
    return [f"{endpoint}-invocation-5xx-errors", f"{endpoint}-model-latency"]


def capture_prefix(dataset: str) -> str:
    """Where the data bucket keeps a dataset's captured requests and responses."""
    return f"capture/{dataset}/"


def capture_uri_prefix(dataset: str, version: int) -> str:
    """Where the captures of model version ``version`` of ``dataset`` go: ``capture/<dataset>/v<version>/``.

    The endpoint configuration of a version captures there (each blue/green fleet with its own), and
    the serverless invocation API writes there with the version its endpoint runs, so the monitor
    splits a canary's traffic by version from the key alone. SageMaker appends
    ``<endpoint>/AllTraffic/<yyyy>/<mm>/<dd>/<hh>/<file>.jsonl``.
    """
    return f"{capture_prefix(dataset)}v{version}/"


def capture_version(key: str, dataset: str) -> int | None:
    """The model version whose captures hold ``key`` (:func:`capture_uri_prefix`), else None.

    None for a key outside that layout: one of another dataset, or one written before captures were
    kept per version (``capture/<dataset>/<endpoint>/...``), which no version can be credited with.
    """
    prefix = capture_prefix(dataset)
    if not key.startswith(prefix):
        return None
    match = _CAPTURE_VERSION.match(key, len(prefix))
    return int(match["version"]) if match is not None else None


# Monitoring


def monitoring_prefix(dataset: str) -> str:
    """Where the data bucket keeps a dataset's drift reports: ``monitoring/<dataset>/``."""
    return f"monitoring/{dataset}/"


def drift_alarm_name(endpoint: str) -> str:
    """The alarm on the drift of ``endpoint``'s traffic: ``<endpoint>-drift``."""
    return f"{endpoint}-drift"


def no_traffic_alarm_name(endpoint: str) -> str:
    """The alarm on ``endpoint`` receiving no requests: ``<endpoint>-no-traffic``."""
    return f"{endpoint}-no-traffic"


def no_new_data_alarm_name(project: str, dataset: str) -> str:
    """The alarm on ``dataset`` getting no accepted version: ``<project>-<dataset>-no-new-data``."""
    return f"{project}-{dataset}-no-new-data"


def dashboard_name(project: str, dataset: str) -> str:
    """The CloudWatch dashboard of ``dataset``: ``<project>-<dataset>``."""
    return f"{project}-{dataset}"


# Ground truth


def feedback_prefix(dataset: str) -> str:
    """Where teams upload the labels of served requests: ``feedback/<dataset>/``."""
    return f"feedback/{dataset}/"


def labels_prefix(dataset: str) -> str:
    """Where accepted labels are kept, joined with their captured requests: ``labels/<dataset>/``.

    Each accepted feedback file gets ``labels/<dataset>/<sha256 of the file>/`` (``rows.parquet`` and
    ``report.json``).
    """
    return f"labels/{dataset}/"


def performance_alarm_name(endpoint: str) -> str:
    """The alarm on the realized performance of ``endpoint``'s model: ``<endpoint>-performance``."""
    return f"{endpoint}-performance"


def feedback_errors_alarm_name(project: str) -> str:
    """The alarm on the feedback function failing (a file without report): ``<project>-feedback-errors``."""
    return f"{project}-feedback-errors"


# Retraining


def retraining_upload_prefix(dataset: str) -> str:
    """Where the retraining policy's uploads of ``dataset`` go: ``incoming/<dataset>/retraining/``."""
    return f"incoming/{dataset}/retraining/"


def retraining_upload_key(dataset: str, decision_id: str) -> str:
    """The upload of a dataset version the retraining policy prepares (accepted data plus labelled rows).

    ``incoming/<dataset>/retraining/<decision id>.parquet``: an upload like any other, so the data plane
    validates and versions it; the key names the decision that wrote it.
    """
    return f"{retraining_upload_prefix(dataset)}{decision_id}.parquet"


def retraining_schedule_name(project: str, dataset: str) -> str:
    """The configured periodic retraining of ``dataset``: ``<project>-<dataset>-retraining``.

    Fitted to Scheduler's 64 characters (a long dataset's name ends in a hash).
    """
    return fit(f"{project}-{dataset}-retraining", SCHEDULE.max_length)


def deferral_schedule_name(project: str, dataset: str) -> str:
    """The one-time schedule that re-examines ``dataset``'s deferred data when a limit ends.

    ``<project>-<dataset>-retraining-deferred``, fitted to Scheduler's 64 characters.
    """
    return fit(f"{project}-{dataset}-retraining-deferred", SCHEDULE.max_length)


# Imported models


def import_key(dataset: str, sha256: str) -> str:
    """Where ``mlops models import`` puts a skops file for its run: ``imports/<dataset>/<sha256>.skops``.

    Content-addressed: the same file imported twice is one object, and the run's prepare step finds it
    from the run's input alone.

    Raises
    ------
    PipelineRunError
        When the dataset name or the SHA-256 is malformed.
    """
    if not _DATASET.fullmatch(dataset):
        raise PipelineRunError(f"dataset name {dataset!r} is not a valid dataset name")
    if not SHA256.fullmatch(sha256):
        raise PipelineRunError(f"imported file sha256 {sha256!r} is not a SHA-256 (64 lowercase hex digits)")
    return f"{IMPORTS_PREFIX}{dataset}/{sha256}.skops"
