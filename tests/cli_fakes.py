"""Fakes for the CLI's unit tests: the deployed platform, as ``cli.target.Platform`` is read."""

from __future__ import annotations

import pytest


class FakePlatform:
    """A deployed platform: its project and its stacks' outputs (no AWS call)."""

    def __init__(self, project: str, outputs: dict[str, str]) -> None:
        self.project = project
        self.outputs = outputs

    def output(self, name: str) -> str:
        """One output (KeyError for one the fake was not given: a test asking for it is wrong)."""
        return self.outputs[name]

    @property
    def bucket(self) -> str:
        """The data bucket."""
        return self.outputs["DataBucketName"]


def churn_endpoint_served_by(monkeypatch: pytest.MonkeyPatch, runtime: object) -> None:
    """Point ``mlops endpoints`` at a platform whose one endpoint is ``mlops-churn``, and its SageMaker
    runtime at ``runtime`` (a fake with ``invoke_endpoint``)."""
    from cli import endpoints

    target = FakePlatform("mlops", {"EndpointNameChurn": "mlops-churn"})
    monkeypatch.setattr(endpoints, "platform", lambda cloud: target)
    monkeypatch.setattr(endpoints, "client", lambda service: runtime)
