"""Training prepare: the pipeline's first state writes the training job's channels.

The contracts and training configurations synth validated are generated into this asset (``contracts.json``,
``training.json``). A snapshot that cannot be split raises ``SplitRejectedError``, caught by name.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from adapters.artifacts import S3ArtifactStore
from adapters.function_settings import TrainingPrepareSettings
from adapters.lambda_function import LambdaContext, LambdaFunction
from adapters.registry import SageMakerModelRegistry
from domain.declared import declared_contracts, declared_training
from domain.names import model_package_group
from domain.training.prepare import SplitRejectedError, prepare_run
from domain.training.steps import SplitInput

function = LambdaFunction(TrainingPrepareSettings, __file__)
adapters = function.adapter(lambda s: (S3ArtifactStore(s.data_bucket), SageMakerModelRegistry()))
REJECTED = {"metric": "SplitsRejected", "message": "the snapshot cannot be split"}


@function.step
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Split the snapshot (or reuse its split) and write the config and champion channels."""
    run, (store, registry), here = SplitInput.from_state(event).run, adapters(), function.here
    function.tag(run.dataset, **run.log_keys)
    group = model_package_group(function.settings().model_package_group_prefix, run.dataset)
    scratch = tempfile.TemporaryDirectory(prefix="prepare-")
    with scratch, function.noting(SplitRejectedError, **REJECTED):
        prepared = prepare_run(run, contract=declared_contracts(here)[run.dataset], group=group,
                               config=declared_training(here)[run.dataset], store=store,
                               champions=registry, scratch=Path(scratch.name))  # fmt: skip
    function.report("training channels ready", {"champion": prepared.champion, "rows": prepared.summary})
    function.count("RunsPrepared")
    return prepared.to_state()
