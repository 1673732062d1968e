"""Serving: approved model versions go live on their endpoints; serverless ones get an invocation API."""

from __future__ import annotations

from constructs import Construct

from domain import names
from stacks.config import PlatformConfig
from stacks.constructs.model_deployment import ModelDeployment
from stacks.constructs.serving_api import ServingApi
from stacks.constructs.training_job import ScikitLearnImage
from stacks.foundation_stack import Foundation
from stacks.stateless_stack import StatelessStack


def endpoint_output(dataset: str) -> str:
    """The stack output holding a dataset's endpoint name: ``EndpointName<Dataset>``."""
    return "EndpointName" + "".join(part.title() for part in dataset.split("-"))


class ServingStack(StatelessStack):
    """The deployment workflow and trigger, each endpoint's rollback alarms, and the serving API."""

    def __init__(
        self, scope: Construct, *, foundation: Foundation, config: PlatformConfig, **kwargs: object
    ) -> None:
        super().__init__(scope, lifecycle=names.SERVING, foundation=foundation, config=config, **kwargs)
        shared = self.shared
        serving = {name: dataset.serving for name, dataset in config.datasets.items()}
        # The image the training jobs ran: endpoints serve the model archives with it.
        image = ScikitLearnImage(self, "Image", version=config.training.image_version)
        self.deployment = ModelDeployment(
            self,
            "Deployment",
            project=config.project,
            serving=serving,
            settings=config.deployment,
            data_bucket=shared.data_bucket,
            table=shared.deployments,
            alerts=shared.alerts,
            key=shared.key,
            image_repository_arn=image.repository_arn,
            architecture=self.architecture,
            log_retention=self.log_retention,
        )
        outputs = {
            "DeploymentStateMachineArn": self.deployment.state_machine.state_machine_arn,
            **{endpoint_output(dataset): name for dataset, name in self.deployment.endpoints.items()},
        }
        self.serving_api: ServingApi | None = None
        if any(c.mode == "serverless" for c in serving.values()):
            self.serving_api = ServingApi(
                self,
                "ServingApi",
                project=config.project,
                serving=serving,
                data_bucket=shared.data_bucket,
                key=shared.key,
                architecture=self.architecture,
                log_retention=self.log_retention,
            )
            outputs["ServingApiUrl"] = self.serving_api.api.url
            outputs["ServingApiInvokePolicyArn"] = self.serving_api.invoke_policy.managed_policy_arn
        self.outputs(outputs)
