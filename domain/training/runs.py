"""Training pipeline runs: what starts one, what it is named, and the document it starts with.

A run's Step Functions execution name is derived from the dataset version and the trigger, never from
the clock: Step Functions refuses a second execution with a name it has seen (for 90 days after the
first one closed), so a trigger delivered twice (an event retried, a command typed twice, an alarm
repeated) starts one run, not two.

Names look like ``churn-0123456789ab-accepted``, ``churn-0123456789ab-manual``,
``churn-0123456789ab-retrain-<reference>`` or ``churn-0123456789ab-import-<16 hex digits of the imported
file's SHA-256>``: the dataset, the first 12 hex digits of the dataset version (its SHA-256) and the
trigger. A name that would pass 80 characters is cut and ends with 8 hex digits of
a hash of the whole name, so that two long names stay distinct.

The execution input (:func:`execution_input`) carries the full facts; it is the authority when a run is
read back (:func:`parse_run`), the name only a readable key.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal, cast, get_args

from domain.names import RUN_VERSION_DIGITS, SHA256, PipelineRunError, execution_name
from domain.state_limits import MAX_TEXT, cap_text

__all__ = [
    "IMPORT_REFERENCE_DIGITS",
    "INPUT_FORMAT",
    "MAX_CALLER",
    "MAX_FILE_NAME",
    "ImportedModel",
    "ParsedName",
    "PipelineRunError",
    "RunRequest",
    "Trigger",
    "TriggerKind",
    "execution_input",
    "parse_execution_name",
    "parse_run",
]

TriggerKind = Literal["accepted", "manual", "retrain", "import"]
INPUT_FORMAT = 1
IMPORT_REFERENCE_DIGITS = 16  # of the imported file's SHA-256, the reference of an import run
# An IAM ARN has at most 2,048 characters (the IAM API reference's ARN type): the longest caller STS
# can name. Far below a state's 256 KiB (domain.state_limits), and never cut: it says who imported.
MAX_CALLER = 2_048
MAX_FILE_NAME = 255  # characters of a file name on the file systems people save models on
_NAME = re.compile(
    rf"(?P<dataset>[a-z][a-z0-9-]*?)-(?P<version>[0-9a-f]{{{RUN_VERSION_DIGITS}}})"
    rf"-(?P<kind>{'|'.join(get_args(TriggerKind))})(?:-(?P<reference>[A-Za-z0-9_-]+))?"
)


@dataclass(frozen=True)
class Trigger:
    """Why a run starts.

    Attributes
    ----------
    kind : {"accepted", "manual", "retrain", "import"}
        The "dataset version accepted" event, a person (``mlops pipeline start``), the retraining
        policy reacting to an alarm, or a person importing a model trained elsewhere (``mlops models
        import``: evaluated, not trained).
    reference : str, optional
        What distinguishes one trigger of this kind from another for the same dataset version: required
        for ``retrain`` (the alarm and its episode, e.g. ``drift-churn-20261103T1200``) and for
        ``import`` (the first 16 hex digits of the imported file's SHA-256, so the same file imported
        onto the same version twice starts one run); for ``manual`` it lets a person deliberately start
        a second run of a version (``rerun-2``).
    reason : str
        Plain words kept with the run and the model version (who asked, which alarm, why).
    """

    kind: TriggerKind
    reference: str | None = None
    reason: str = ""

    def __post_init__(self) -> None:
        if self.kind not in get_args(TriggerKind):
            raise PipelineRunError(f"unknown trigger kind {self.kind!r}; use one of {get_args(TriggerKind)}")
        if self.kind == "retrain" and not self.reference:
            raise PipelineRunError("a retrain trigger needs a reference (the alarm and its episode)")
        if self.kind == "import" and not self.reference:
            raise PipelineRunError(
                f"an import trigger needs a reference (the first {IMPORT_REFERENCE_DIGITS} hex digits of "
                "the imported file's SHA-256)"
            )
        if self.kind == "accepted" and self.reference:
            # One dataset version is accepted once: a reference would let a duplicate event start a run.
            raise PipelineRunError("an accepted trigger takes no reference")
        # Both travel in every state of the run (domain.state_limits): refused where they enter.
        for what, text in (("reason", self.reason), ("reference", self.reference or "")):
            if len(text) > MAX_TEXT:
                raise PipelineRunError(
                    f"the {what} has {len(text):,} characters; give at most {MAX_TEXT:,} (the whole "
                    "story belongs in a document it can point to)"
                )


@dataclass(frozen=True)
class ImportedModel:
    """A model trained elsewhere that an import run evaluates instead of training one.

    Attributes
    ----------
    sha256 : str
        The SHA-256 of the skops file (64 lowercase hex digits): where it waits,
        ``names.import_key(dataset, sha256)``, and what the lineage records.
    by : str
        Who imported it: the caller's ARN as STS names it (at most 2,048 characters, IAM's limit).
    name : str
        The file's original name, without its folder (at most 255 characters).
    """

    sha256: str
    by: str
    name: str

    def __post_init__(self) -> None:
        if not isinstance(self.sha256, str) or not SHA256.fullmatch(self.sha256):
            raise PipelineRunError(
                f"the imported file's sha256 {self.sha256!r} is not a SHA-256 (64 lowercase hex digits)"
            )
        if not isinstance(self.by, str) or not self.by.strip():
            raise PipelineRunError("an imported model needs who imported it (the caller's ARN)")
        if len(self.by) > MAX_CALLER:
            raise PipelineRunError(
                f"who imported the model has {len(self.by):,} characters; an ARN has at most {MAX_CALLER:,}"
            )
        if not isinstance(self.name, str) or not self.name.strip() or self.name in (".", ".."):
            raise PipelineRunError("an imported model needs its file's name")
        if "/" in self.name or "\\" in self.name:
            raise PipelineRunError(
                f"the imported file's name {self.name!r} has a folder in it; give the file's name alone"
            )
        if len(self.name) > MAX_FILE_NAME or any(not c.isprintable() for c in self.name):
            raise PipelineRunError(
                f"the imported file's name {cap_text(self.name, 80)!r} is not a file name of at most "
                f"{MAX_FILE_NAME} printable characters; rename the file"
            )

    def document(self) -> dict[str, str]:
        """``{"sha256", "by", "name"}``: the execution input's ``imported``."""
        return {"sha256": self.sha256, "by": self.by, "name": self.name}


@dataclass(frozen=True)
class RunRequest:
    """A request to train on one dataset version: the execution's input, as a record.

    ``imported`` is the model an import run evaluates (trigger kind ``import``, whose reference is the
    first 16 hex digits of its SHA-256); every other kind trains and has none.
    """

    dataset: str
    dataset_version: str
    trigger: Trigger
    imported: ImportedModel | None = None

    def __post_init__(self) -> None:
        if self.trigger.kind == "import":
            if self.imported is None:
                raise PipelineRunError("an import run needs the imported model (its file's sha256, by, name)")
            expected = self.imported.sha256[:IMPORT_REFERENCE_DIGITS]
            if self.trigger.reference != expected:
                raise PipelineRunError(
                    f"an import run's reference is the first {IMPORT_REFERENCE_DIGITS} hex digits of the "
                    f"imported file's sha256 ({expected}), not {self.trigger.reference!r}"
                )
        elif self.imported is not None:
            raise PipelineRunError(
                f"a {self.trigger.kind} run trains a model; only an import run carries an imported one"
            )

    @property
    def name(self) -> str:
        """The Step Functions execution name (see :func:`execution_name`)."""
        return execution_name(self.dataset, self.dataset_version, self.trigger)

    @property
    def log_keys(self) -> dict[str, str]:
        """What each step's log lines carry to find the run: its dataset, version and name."""
        return {"dataset": self.dataset, "dataset_version": self.dataset_version, "run_name": self.name}


def execution_input(request: RunRequest) -> dict[str, Any]:
    """The document an execution starts with (JSON-serialisable, no timestamps).

    It carries no clock: a duplicate trigger produces the same name and the same input, which Step
    Functions treats as the same request.

    Parameters
    ----------
    request : RunRequest
        The dataset version and the trigger.

    Returns
    -------
    dict
        ``{"format", "dataset", "dataset_version", "run_name", "trigger": {"kind", "reference",
        "reason"}}``, and ``"imported": {"sha256", "by", "name"}`` for an import run only.
    """
    document: dict[str, Any] = {
        "format": INPUT_FORMAT,
        "dataset": request.dataset,
        "dataset_version": request.dataset_version,
        "run_name": request.name,
        "trigger": {
            "kind": request.trigger.kind,
            "reference": request.trigger.reference,
            "reason": request.trigger.reason,
        },
    }
    if request.imported is not None:
        document["imported"] = request.imported.document()
    return document


def parse_run(document: str | dict[str, Any]) -> RunRequest:
    """Read a run back from its execution input.

    Parameters
    ----------
    document : str or dict
        The execution's input, as Step Functions returns it (a JSON string) or parsed.

    Returns
    -------
    RunRequest

    Raises
    ------
    PipelineRunError
        When the document is not a run input of a known format.
    """
    try:
        data = json.loads(document) if isinstance(document, str) else document
        if data.get("format") != INPUT_FORMAT:
            raise PipelineRunError(f"unknown run input format {data.get('format')!r}")
        trigger = data["trigger"]
        imported = data.get("imported")
        request = RunRequest(
            dataset=str(data["dataset"]),
            dataset_version=str(data["dataset_version"]),
            trigger=Trigger(kind=trigger["kind"], reference=trigger.get("reference"),
                            reason=str(trigger.get("reason") or "")),
            imported=None if imported is None else ImportedModel(
                sha256=imported["sha256"], by=imported["by"], name=imported["name"]
            ),
        )  # fmt: skip
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        if isinstance(error, PipelineRunError):
            raise
        raise PipelineRunError(f"not a pipeline run input: {error}") from None
    return request


@dataclass(frozen=True)
class ParsedName:
    """What an execution name says (the version is its 12-digit prefix)."""

    dataset: str
    version_prefix: str
    kind: TriggerKind
    reference: str | None


def parse_execution_name(name: str) -> ParsedName | None:
    """The facts in an execution name, or None if the name is not one this module makes.

    A name shortened to 80 characters ends in a hash: its reference comes back cut. Use
    :func:`parse_run` on the execution input for the exact facts.
    """
    match = _NAME.fullmatch(name)
    if match is None:
        return None
    return ParsedName(
        dataset=match["dataset"],
        version_prefix=match["version"],
        kind=cast(TriggerKind, match["kind"]),  # the pattern admits only the trigger kinds
        reference=match["reference"],
    )
