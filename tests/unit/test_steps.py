"""The training workflow's states, typed: each input read once, written back as the very document.

The documents are those the state machine passes today: the execution input, then each step's result
under its key (``$.prepare``, ``$.training``, ``$.gate``); the registration gets the execution input under
``run``, the steps' results and the execution's ARN.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from domain.step_input import StepInputError
from domain.training.runs import ImportedModel, RunRequest, Trigger, execution_input
from domain.training.steps import GateInput, RegisterInput, SplitInput, TrainingJob

SHA = "e3" * 32
RUN = RunRequest("churn", SHA, Trigger("manual", reference="rerun-2", reason="a person asked"))
BUCKET = "s3://mlops-data"
PREPARED = {
    "train_uri": f"{BUCKET}/splits/churn/train/", "validation_uri": f"{BUCKET}/splits/churn/validation/",
    "test_uri": f"{BUCKET}/splits/churn/test/", "config_uri": f"{BUCKET}/runs/churn/r/config/",
    "champion_uri": f"{BUCKET}/runs/churn/r/champion/", "output_uri": f"{BUCKET}/runs/churn/r/training/",
    "training_job_name": "churn-e3e3e3e3-0a1b2c3d", "champion": False,
    "summary": {"rows": {"train": 1400, "validation": 300, "test": 300}, "summary_uri": f"{BUCKET}/s.json"},
}  # fmt: skip
TRAINING = {"job_name": "churn-e3e3e3e3-0a1b2c3d", "model_artifacts": f"{BUCKET}/runs/churn/r/model.tar.gz"}
GATE = {
    "approved": True, "reasons": ["roc_auc 0.81 >= 0.55"], "summary": "churn run r: approved. roc_auc",
    "evaluation_uri": f"{BUCKET}/e/evaluation.json", "inputs_profile_uri": f"{BUCKET}/e/inputs_profile.json",
    "predictions_profile_uri": f"{BUCKET}/e/predictions_profile.json",
    "drift_baseline_uri": f"{BUCKET}/e/drift_baseline.json", "gate_uri": f"{BUCKET}/e/gate.json",
    "metrics": {"roc_auc": 0.81, "accuracy": None}, "metrics_omitted": 2,
}  # fmt: skip
REPO = Path(__file__).resolve().parents[2]
EXECUTION = f"arn:aws:states:us-east-1:123456789012:execution:training:{RUN.name}"


def documents() -> dict[str, dict[str, Any]]:
    """Each state's input, as JSON brings it (the way Lambda hands it to the handler)."""
    run = execution_input(RUN)
    gate = {**run, "prepare": PREPARED, "training": TRAINING}
    register = {
        "run": run,
        "prepare": PREPARED,
        "training": TRAINING,
        "gate": GATE,
        "execution_arn": EXECUTION,
    }
    return json.loads(json.dumps({"Split": run, "Gate": gate, "Register": register}))  # type: ignore[no-any-return]


@pytest.mark.parametrize("kind", [SplitInput, GateInput, RegisterInput])
def test_each_state_s_input_is_read_and_written_back_as_the_same_document(
    kind: type[SplitInput | GateInput | RegisterInput],
) -> None:
    # Given the document the state machine passes to the state
    document = documents()[kind.STATE]

    # When the step reads it and writes it back
    state = kind.from_state(document)

    # Then it is the same document, byte for byte, and the run is the one the execution started
    assert json.dumps(state.to_state()) == json.dumps(document)
    assert state.run == RUN


def test_the_gate_reads_the_training_job_and_the_registration_the_gate_s_verdict() -> None:
    # Given the documents of a run that was trained and approved
    given = documents()

    # When the Gate and Register states read their inputs
    gate = GateInput.from_state(given["Gate"])
    register = RegisterInput.from_state(given["Register"])

    # Then each has the facts typed
    assert gate.training == TrainingJob(TRAINING["job_name"], TRAINING["model_artifacts"])
    assert gate.prepare.training_job_name == PREPARED["training_job_name"]
    assert register.gate.approved is True and register.gate.metrics == {"roc_auc": 0.81, "accuracy": None}
    assert register.gate.gate_uri == GATE["gate_uri"]
    assert register.execution_arn == EXECUTION


@pytest.mark.parametrize(
    ("kind", "drop", "named"),
    [
        (SplitInput, ("dataset_version",), "the Split state's input has no dataset_version"),
        (SplitInput, ("trigger", "kind"), "the Split state's input has no trigger.kind"),
        (GateInput, ("training", "job_name"), "the Gate state's input has no training.job_name"),
        (GateInput, ("training",), "the Gate state's input has no training"),
        (RegisterInput, ("gate", "gate_uri"), "the Register state's input has no gate.gate_uri"),
        (RegisterInput, ("execution_arn",), "the Register state's input has no execution_arn"),
        (RegisterInput, ("run", "trigger", "kind"), "the Register state's input has no run.trigger.kind"),
    ],
)
def test_a_state_without_a_key_its_step_reads_fails_naming_the_state_and_the_key(
    kind: type[SplitInput | GateInput | RegisterInput], drop: tuple[str, ...], named: str
) -> None:
    # Given a state's input that lacks one key
    document = documents()[kind.STATE]
    holder = document
    for key in drop[:-1]:
        holder = holder[key]
    del holder[drop[-1]]

    # When the step reads it, then the error says which state and which key, not a bare KeyError
    with pytest.raises(StepInputError) as raised:
        kind.from_state(document)
    assert str(raised.value) == named


def test_a_step_s_result_that_is_not_an_object_fails_naming_the_state_and_the_key() -> None:
    # Given a Gate state's input whose training job is a number, not the job's result
    document = documents()["Gate"]
    document["training"] = 5

    # When the step reads it, then the error names the state and the first key it needed
    with pytest.raises(StepInputError) as raised:
        GateInput.from_state(document)
    assert str(raised.value) == "the Gate state's input has no training.job_name"


def test_a_run_of_an_unknown_format_fails_naming_the_state() -> None:
    # Given a Split state's input written in a format this code does not know
    document = documents()["Split"]
    document["format"] = 2

    # When the step reads it, then the error names the state and what is wrong with the run
    with pytest.raises(StepInputError) as raised:
        SplitInput.from_state(document)
    assert str(raised.value) == (
        "the Split state's input has a run that is not one: unknown run input format 2"
    )


def test_a_key_with_a_default_may_be_absent() -> None:
    # Given a gate's result from before it counted omitted metrics
    document = documents()["Register"]
    del document["gate"]["metrics_omitted"]

    # When the registration reads it, then nothing is omitted
    assert RegisterInput.from_state(document).gate.metrics_omitted == 0


def test_the_gate_and_the_registration_read_their_states_without_the_data_libraries() -> None:
    # Given a fresh interpreter, as a Lambda cold start
    code = (
        "import sys, domain.training.steps, domain.training.verdict; "
        "print(sorted(m for m in ('pyarrow', 'numpy') if m in sys.modules))"
    )

    # When the Gate's and the Register state's code is imported
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)

    # Then neither pyarrow nor numpy came with it (only the Split state splits)
    assert out.stdout.strip() == "[]"


def test_the_registration_reads_an_import_run_whole_from_the_execution_input() -> None:
    # Given an import run: its execution input carries the imported model, which only it has
    imported = ImportedModel(sha256="ab" * 32, by="arn:aws:iam::123456789012:user/alice", name="m.skops")
    run = RunRequest("churn", SHA, Trigger("import", reference=imported.sha256[:16]), imported)
    document = documents()["Register"] | {"run": execution_input(run)}

    # When the Register state reads its input, then the run is the import run, imported model included
    register = RegisterInput.from_state(document)
    assert register.run == run
    assert register.to_state() == document


def test_a_run_started_before_the_run_moved_under_its_key_still_registers() -> None:
    # Given the Register state's input as the definition of an earlier release wrote it (an execution
    # keeps its definition through a deployment; the function it invokes does not): the run's fields at
    # the top, beside the steps' results
    register = documents()["Register"]
    document = register.pop("run") | register

    # When the Register state reads it
    read = RegisterInput.from_state(document)

    # Then the run, its channels and its verdict are those the execution had
    assert read.run == RUN
    assert read.to_state() == documents()["Register"]
