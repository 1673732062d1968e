"""Training gate: after the training job, judge its model and keep the evidence.

The resolved training configurations (whose ``gate`` section decides) are generated into this
function's asset as ``training.json``.
"""

from __future__ import annotations

from typing import Any

from adapters.artifacts import S3ArtifactStore
from adapters.function_settings import TrainingGateSettings
from adapters.lambda_function import LambdaContext, LambdaFunction
from domain.declared import declared_training
from domain.training.steps import GateInput
from domain.training.verdict import gate_run

function = LambdaFunction(TrainingGateSettings, __file__)
store = function.adapter(lambda s: S3ArtifactStore(s.data_bucket))


@function.step
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Read the job's evaluation, decide, and record the decision whatever it is."""
    state = GateInput.from_state(event)
    run, job = state.run, state.training
    function.tag(run.dataset, **run.log_keys)
    # The job's archives are streamed, never stored: /tmp stays empty whatever the model's size.
    outcome = gate_run(run, training_job_name=job.job_name, model_artifacts=job.model_artifacts,
                       config=declared_training(function.here)[run.dataset], store=store())  # fmt: skip
    function.count("ModelsApproved" if outcome.approved else "ModelsRejected")
    function.logger.info(outcome.summary, extra={"approved": outcome.approved, "metrics": outcome.metrics})
    return outcome.to_state()
