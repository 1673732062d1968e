"""Pipeline start: a "Dataset Version Accepted" event starts one training run of that version.

The run's name is derived from the version and the trigger, so an event delivered twice starts one run.
Datasets without a training configuration in the generated ``training.json`` are not trained.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent

from adapters.function_settings import PipelineStartSettings
from adapters.lambda_function import LambdaContext, LambdaFunction
from adapters.pipeline import StepFunctionsPipeline
from domain.declared import declared_training
from domain.events import DatasetVersionAccepted
from domain.training.start import start_accepted_run

function = LambdaFunction(PipelineStartSettings, __file__)
pipeline = function.adapter(lambda _: StepFunctionsPipeline())


@function.handler(EventBridgeEvent)
def handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    """Start the training run of the accepted dataset version (at most once per version)."""
    accepted = DatasetVersionAccepted.from_detail(event.detail)
    function.tag(accepted.dataset, dataset=accepted.dataset, dataset_version=accepted.version)
    trained, workflow = declared_training(function.here), function.settings().state_machine_arn
    run = start_accepted_run(accepted, trained=trained, workflow=workflow, executions=pipeline())
    if run.reason is not None:
        function.logger.info(run.reason)
        function.count("PipelineRunsSkipped")
    else:
        function.count("PipelineRunsStarted", 1 if run.started else 0)
        already = "training run started" if run.started else "training run already started: duplicate event"
        function.logger.info(already, extra={"execution_arn": run.execution_arn})
    return run.to_dict()
