"""Deployment start: an approved model version starts one deployment to its dataset's endpoint.

Thin by design: SageMaker's "Model Package State Change" (``domain.events``), one use case, the adapters.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent

from adapters.function_settings import DeploymentStartSettings
from adapters.lambda_function import LambdaContext, LambdaFunction
from adapters.pipeline import StepFunctionsPipeline
from adapters.registry import SageMakerModelRegistry
from domain.declared import declared_serving
from domain.deployment.request import deploy_approval
from domain.events import ModelPackageStateChange

function = LambdaFunction(DeploymentStartSettings, __file__)
adapters = function.adapter(lambda settings: (settings, SageMakerModelRegistry(), StepFunctionsPipeline()))


@function.handler(EventBridgeEvent)
def handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    """Start the deployment of the approved version (at most once per approval)."""
    change, (config, registry, executions) = ModelPackageStateChange.from_detail(event.detail), adapters()
    function.logger.append_keys(model_package_arn=change.arn)
    approval = deploy_approval(change, project=config.project, group_prefix=config.model_package_group_prefix,
                               datasets=declared_serving(function.here), registry=registry,
                               workflow=config.state_machine_arn, executions=executions,
                               announced_at=str(event.time))  # fmt: skip
    if approval.dataset is not None:
        function.metrics.add_dimension(name="dataset", value=approval.dataset)
    if (started := approval.deployment) is None:
        function.count("DeploymentsSkipped")
    else:  # an approval announced again starts none
        function.count("DeploymentsStarted", started.started)
    function.report(approval.summary, approval.facts)
    return approval.to_result()
