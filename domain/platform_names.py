"""Every name the platform builds for a project and a dataset, at its longest, against AWS's rules.

Synth calls :func:`name_problems` (``stacks/config.py``) so that a configuration whose names AWS would
refuse fails before anything is deployed, instead of a model package group refused after a whole
training job. Builders whose input is unbounded (a trigger's reference, a model version, an approval
time) are called with their worst case: they shorten with a hash and must still give a valid name. The
one name that is not shortened is the model package group, ``<project>-<dataset>``: people type it
(``mlops models approve churn/3``), the stacks grant ``<project>-*`` and the deployment reads the dataset
back from it, so a pair too long for it is refused here, with the longest dataset name that fits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from domain import name_rules as rules
from domain import names
from domain.data.ingestion_model import failure_key, snapshot_prefix
from domain.name_rules import NameRule
from domain.names import (
    alarm_names,
    capture_uri_prefix,
    dashboard_name,
    deferral_schedule_name,
    deployment_name,
    drift_alarm_name,
    endpoint_config_name,
    endpoint_name,
    execution_name,
    model_card_name,
    model_name,
    monitoring_prefix,
    no_new_data_alarm_name,
    no_traffic_alarm_name,
    performance_alarm_name,
    retraining_schedule_name,
    training_job_name,
)
from domain.state_limits import MAX_TEXT
from domain.training.artifacts import run_prefix
from domain.training.runs import RunRequest, Trigger

__all__ = [
    "BuiltName",
    "NameProblem",
    "dataset_names",
    "model_package_group",
    "name_problems",
    "project_names",
]

# The longest values a builder can be given: a model package version has at most 9 digits
# (DescribeModelPackage's ``/[0-9]{1,9}``), a content hash 64, and a trigger's reference is free text.
_VERSION = 999_999_999
_SHA256 = "f" * 64
_REFERENCE = "r" * MAX_TEXT  # the longest a Trigger takes
_APPROVED_AT = "2026-12-31T23:59:59.999999+00:00"
_UPLOAD_REPORT = "upload-" + "f" * 32  # ingestion_model.upload_report_name: always this long
# What SageMaker appends to an endpoint's capture prefix, and the monitor to its reports' prefix.
_CAPTURE_FILE = "/AllTraffic/2026/12/31/23/59-59-999-" + "f" * 36 + ".jsonl"
_REPORT = "reports/20261231T235959Z/report.html"


def model_package_group(project: str, dataset: str) -> str:
    """The dataset's model package group, as the functions build it from the prefix the stacks pass."""
    return names.model_package_group(names.group_prefix(project), dataset)


@dataclass(frozen=True)
class BuiltName:
    """One name the platform builds, the rule AWS applies to it, and how it is made.

    ``granted``: the prefix the stacks' IAM policies grant for this kind (``<project>-*``), which the
    name must keep when it is shortened, or None.
    """

    rule: NameRule
    name: str
    built_as: str
    granted: str | None = None

    def problem(self) -> str | None:
        """What AWS (or the platform's own grants) would refuse about the name, or None."""
        if (problem := self.rule.problem(self.name)) is not None:
            return problem
        if self.granted is not None and not self.name.startswith(self.granted):
            return f"does not start with {self.granted!r}, which the platform's IAM policies grant"
        return None


@dataclass(frozen=True)
class NameProblem:
    """A built name AWS would refuse.

    Attributes
    ----------
    dataset : str or None
        The dataset whose name is at fault, or None when the project's is.
    built : BuiltName
    problem : str
        What is wrong ("is 70 characters, more than 63").
    fix : str
        What to change, with a value that works.
    """

    dataset: str | None
    built: BuiltName
    problem: str
    fix: str

    def describe(self) -> str:
        """The problem in one sentence, without the configuration key (the caller knows it)."""
        rule = self.built.rule
        return (
            f"the {rule.resource} name {self.built.name!r} ({self.built.built_as}) {self.problem}; "
            f"{rule.operation} allows {rule.allowed} ({rule.member}, {rule.reference}). {self.fix}"
        )


def project_names(project: str) -> list[BuiltName]:
    """The names made from the project alone: each stack's and the bus's."""
    stacks = [
        BuiltName(rules.STACK, names.stack_name(project, lifecycle), f"<project>-{lifecycle}")
        for lifecycle in names.LIFECYCLES
    ]
    return [*stacks, BuiltName(rules.EVENT_BUS, names.event_bus_name(project), "<project>-platform")]


def dataset_names(project: str, dataset: str) -> list[BuiltName]:
    """The longest name of each kind the platform builds for ``dataset`` (model versions, runs...)."""
    group = model_package_group(project, dataset)
    endpoint = endpoint_name(project, dataset)
    run = RunRequest(dataset, _SHA256, Trigger("retrain", reference=_REFERENCE))
    run_name = execution_name(dataset, _SHA256, run.trigger)
    prefix = names.group_prefix(project)
    built = [
        BuiltName(rules.MODEL_PACKAGE_GROUP, group, "<project>-<dataset>", prefix),
        BuiltName(rules.MODEL_CARD, model_card_name(group, _VERSION), "<group>-v<version>", prefix),
        BuiltName(rules.EXECUTION, run_name, "<dataset>-<version>-<trigger>"),
        BuiltName(rules.TRAINING_JOB, training_job_name(run), "<dataset>-<version>-<hash>"),
        BuiltName(rules.ENDPOINT, endpoint, "<project>-<dataset>", prefix),
        BuiltName(
            rules.MODEL,
            model_name(endpoint, _VERSION, {"K": "V"}, isolated=False),
            "<endpoint>-v<version>-<hash>",
            prefix,
        ),
        BuiltName(
            rules.ENDPOINT_CONFIG,
            endpoint_config_name(endpoint, _VERSION, _APPROVED_AT),
            "<endpoint>-v<version>-<hash>",
            prefix,
        ),
        BuiltName(
            rules.EXECUTION, deployment_name(endpoint, _VERSION, _APPROVED_AT), "<endpoint>-v<version>-<hash>"
        ),
        *(BuiltName(rules.ALARM, alarm, "<endpoint>-<metric>") for alarm in alarm_names(endpoint)),
        BuiltName(rules.ALARM, drift_alarm_name(endpoint), "<endpoint>-drift"),
        BuiltName(rules.ALARM, no_traffic_alarm_name(endpoint), "<endpoint>-no-traffic"),
        BuiltName(rules.ALARM, performance_alarm_name(endpoint), "<endpoint>-performance"),
        BuiltName(rules.ALARM, no_new_data_alarm_name(project, dataset), "<project>-<dataset>-no-new-data"),
        BuiltName(rules.DASHBOARD, dashboard_name(project, dataset), "<project>-<dataset>"),
        BuiltName(
            rules.SCHEDULE, retraining_schedule_name(project, dataset), "<project>-<dataset>-retraining"
        ),
        BuiltName(
            rules.SCHEDULE,
            deferral_schedule_name(project, dataset),
            "<project>-<dataset>-retraining-deferred",
        ),
        BuiltName(rules.S3_KEY, snapshot_prefix(dataset, _SHA256) + "profile.json", "datasets/<dataset>/..."),
        BuiltName(rules.S3_KEY, failure_key(dataset, _UPLOAD_REPORT), "quarantine/<dataset>/..."),
        BuiltName(rules.S3_KEY, run_prefix(dataset, run_name) + "evaluation/gate.json", "runs/<dataset>/..."),
        BuiltName(
            rules.S3_KEY,
            capture_uri_prefix(dataset, _VERSION) + endpoint + _CAPTURE_FILE,
            "capture/<dataset>/v<version>/<endpoint>/...",
        ),
        BuiltName(rules.S3_KEY, monitoring_prefix(dataset) + _REPORT, "monitoring/<dataset>/reports/..."),
    ]
    return built


def name_problems(project: str, datasets: Iterable[str]) -> list[NameProblem]:
    """Every built name AWS would refuse, for the project and each dataset, with a fix that works.

    Parameters
    ----------
    project : str
        ``mlops.project``.
    datasets : iterable of str
        The datasets' names.

    Returns
    -------
    list of NameProblem
        Empty when AWS accepts every name the platform can build.
    """
    problems = [
        NameProblem(None, built, problem, f"Choose a shorter project name, e.g. {project[:20]!r}.")
        for built in project_names(project)
        if (problem := built.problem()) is not None
    ]
    for dataset in datasets:
        for built in dataset_names(project, dataset):
            problem = built.problem()
            if problem is not None:
                problems.append(NameProblem(dataset, built, problem, _dataset_fix(project, dataset)))
    return problems


def _dataset_fix(project: str, dataset: str) -> str:
    """A dataset name close to ``dataset`` whose names all pass, or advice on the project."""
    for length in range(min(len(dataset), rules.SAGEMAKER_MAX), 1, -1):
        candidate = dataset[:length].rstrip("-")
        if len(candidate) >= 2 and all(b.problem() is None for b in dataset_names(project, candidate)):
            return (
                f"Rename the dataset (its key under mlops.datasets and the name in its contract) to at most "
                f"{length} characters, ending in a letter or digit, e.g. {candidate!r}; or choose a "
                f"shorter mlops.project."
            )
    return "Choose a shorter dataset name (ending in a letter or digit) or a shorter mlops.project."
