"""Model registration: a model that passed the gate becomes a version in its dataset's group.

Whether a version is approved at once is the dataset's ``gate.auto_approve``, from the resolved
configurations generated into this function's asset as ``training.json``.
"""

from __future__ import annotations

from typing import Any

from adapters.artifacts import S3ArtifactStore
from adapters.function_settings import ModelRegistrationSettings
from adapters.lambda_function import LambdaContext, LambdaFunction
from adapters.registry import SageMakerModelRegistry
from domain.declared import declared_training
from domain.names import model_package_group
from domain.training.steps import RegisterInput
from domain.training.verdict import register_run

function = LambdaFunction(ModelRegistrationSettings, __file__)
adapters = function.adapter(lambda s: (S3ArtifactStore(s.data_bucket), SageMakerModelRegistry()))


@function.step
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Register the run's model (once per run: a retry finds the version it created)."""
    state, config, (store, registry) = RegisterInput.from_state(event), function.settings(), adapters()
    run = state.run
    function.tag(run.dataset, **run.log_keys)
    registered = register_run(
        run, gate=state.gate, execution_arn=state.execution_arn,
        model_artifacts=state.trained.training.model_artifacts,
        group=model_package_group(config.model_package_group_prefix, run.dataset),
        image_uri=config.inference_image_uri, code_version=config.code_version,
        auto_approve=declared_training(function.here)[run.dataset].gate.auto_approve,
        store=store, registry=registry,
    )  # fmt: skip
    function.count("ModelsRegistered", 1 if registered.created else 0)
    function.logger.info("model registered", extra={"registration": registered.to_state()})
    return registered.to_state()
