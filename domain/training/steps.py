"""The training workflow's states, typed: what each step is given, read once at its edge.

The state machine (``stacks/constructs/training_pipeline.py``) passes one document along, each step's
result added under its own key::

    execution input   {"format", "dataset", "dataset_version", "run_name", "trigger"[, "imported"]}
                                                                                     (SplitInput)
    Split    -> $.prepare       PreparedRun (domain.training.artifacts)
    Train    -> $.training      TrainingJob ({"job_name", "model_artifacts"}, the job's result selector)
    Gate     -> $.gate          GateOutcome (domain.training.verdict)             (input: GateInput)
    Register -> $.registration  Registration (domain.training.verdict)        (input: RegisterInput:
                                {"run": the execution input, "prepare", "training", "gate",
                                "execution_arn"})

The Register state's task names its payload's fields (ASL cannot merge ``$`` with the execution's ARN, a
context field); the run is the execution input itself (``$$.Execution.Input``), whose keys vary with the
kind of run (``imported`` only for an import), so that no run field is left behind.

Each input is read with ``from_state`` and written back with ``to_state``, which gives the document it
was read from, key for key. A document that lacks a key a step reads fails with
:class:`domain.step_input.StepInputError`, which names the state and the key, instead of a
``KeyError`` deep in a handler.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, dataclass, fields
from typing import Any, TypeVar

from domain.step_input import StepInputError, state_value
from domain.training.artifacts import PreparedRun
from domain.training.runs import PipelineRunError, RunRequest, execution_input, parse_run
from domain.training.verdict import GateOutcome

__all__ = [
    "GateInput",
    "RegisterInput",
    "SplitInput",
    "TrainingJob",
]

RecordT = TypeVar("RecordT")
_RUN_KEYS = (("format",), ("dataset",), ("dataset_version",), ("trigger",), ("trigger", "kind"))


def _run(document: Mapping[str, Any], state: str, *within: str) -> RunRequest:
    """The run the execution input describes (``domain.training.runs.parse_run`` checks its values).

    ``within`` is the key path of the execution input in the state's input (empty: the input itself).
    """
    for path in _RUN_KEYS:
        state_value(document, state, *within, *path)
    run = state_value(document, state, *within) if within else document
    try:
        return parse_run(dict(run))
    except PipelineRunError as error:
        raise StepInputError(f"the {state} state's input has a run that is not one: {error}") from None


def _record(kind: type[RecordT], document: Mapping[str, Any], state: str, key: str) -> RecordT:
    """The dataclass ``kind`` from ``document[key]``: each field without a default is required."""
    given = state_value(document, state, key)
    values = {
        field.name: state_value(document, state, key, field.name)
        for field in fields(kind)  # type: ignore[arg-type]  # a dataclass, as every caller passes
        # A value that is not an object fails on its first required field, named (not a TypeError).
        if (isinstance(given, Mapping) and field.name in given)
        or (field.default is MISSING and field.default_factory is MISSING)
    }
    return kind(**values)


@dataclass(frozen=True)
class TrainingJob:
    """The Train state's result (``$.training``): the job's name and its ``model.tar.gz``."""

    job_name: str
    model_artifacts: str

    def to_state(self) -> dict[str, Any]:
        """The document the state machine keeps at ``$.training``."""
        return {"job_name": self.job_name, "model_artifacts": self.model_artifacts}


@dataclass(frozen=True)
class SplitInput:
    """The Split state's input (``training_prepare``): the execution input, a run."""

    STATE = "Split"
    run: RunRequest

    @classmethod
    def from_state(cls, document: Mapping[str, Any]) -> SplitInput:
        """Read the state's input."""
        return cls(run=_run(document, cls.STATE))

    def to_state(self) -> dict[str, Any]:
        """The state's input, as the execution started with it."""
        return execution_input(self.run)


@dataclass(frozen=True)
class GateInput:
    """The Gate state's input (``training_gate``): the run, its channels and its training job."""

    STATE = "Gate"
    run: RunRequest
    prepare: PreparedRun
    training: TrainingJob

    @classmethod
    def from_state(cls, document: Mapping[str, Any], state: str = STATE) -> GateInput:
        """Read the state's input (or the same part of a later state's, named ``state``)."""
        return cls(
            run=_run(document, state),
            prepare=_record(PreparedRun, document, state, "prepare"),
            training=_record(TrainingJob, document, state, "training"),
        )

    def to_state(self) -> dict[str, Any]:
        """The state's input, as the state machine passes it."""
        return execution_input(self.run) | {
            "prepare": self.prepare.to_state(),
            "training": self.training.to_state(),
        }


@dataclass(frozen=True)
class RegisterInput:
    """The Register state's input (``model_registration``): the Gate's input, its verdict, the execution.

    Attributes
    ----------
    trained : GateInput
        The run, its channels and its training job, as the Gate state was given them.
    gate : GateOutcome
        The Gate state's verdict (its URIs say where the evidence is).
    execution_arn : str
        The pipeline run, kept with the version as its lineage.
    """

    STATE = "Register"
    trained: GateInput
    gate: GateOutcome
    execution_arn: str

    @property
    def run(self) -> RunRequest:
        """The run the execution started with."""
        return self.trained.run

    @classmethod
    def from_state(cls, document: Mapping[str, Any]) -> RegisterInput:
        """Read the state's input.

        An execution keeps the definition it started with when the state machine is updated, while the
        function it invokes is replaced at once: a run started before the run moved under ``"run"``
        (its fields at the top, :data:`_RUN_KEYS`) still registers after the deployment that moved it.
        """
        state = cls.STATE
        within = ("run",) if "run" in document else ()
        return cls(
            trained=GateInput(
                run=_run(document, state, *within),
                prepare=_record(PreparedRun, document, state, "prepare"),
                training=_record(TrainingJob, document, state, "training"),
            ),
            gate=_record(GateOutcome, document, state, "gate"),
            execution_arn=str(state_value(document, state, "execution_arn")),
        )

    def to_state(self) -> dict[str, Any]:
        """The state's input, as the state machine passes it."""
        return {
            "run": execution_input(self.run),
            "prepare": self.trained.prepare.to_state(),
            "training": self.trained.training.to_state(),
            "gate": self.gate.to_state(),
            "execution_arn": self.execution_arn,
        }
