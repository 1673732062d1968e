"""Builds the CDK app from the configuration: the one place where stacks are composed.

One stateful stack, ``<project>-foundation``, and stateless stacks by lifecycle that import it:
``<project>-validation``, ``<project>-training``, ``<project>-serving``, ``<project>-monitoring``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from stacks.config import CONTEXT_KEY, ConfigError, load_platform
from stacks.constructs.training_job import supported_regions
from stacks.foundation_stack import FoundationStack
from stacks.monitoring_stack import MonitoringStack
from stacks.serving_stack import ServingStack
from stacks.training_stack import TrainingStack
from stacks.validation_stack import ValidationStack

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def build_app(
    context: dict[str, Any] | None = None,
    outdir: str | None = None,
    environment: cdk.Environment | None = None,
) -> cdk.App:
    """Compose the platform's stacks into a new app, with cdk-nag as a gate.

    Parameters
    ----------
    context
        Context values that take precedence over ``cdk.json`` (tests use it to vary the configuration).
        The CDK CLI's own context (``--context``) still wins over both.
    outdir
        Where to write the cloud assembly; by default ``CDK_OUTDIR`` or a temporary folder.
    environment
        The account and region to deploy to; by default the CDK CLI's (``CDK_DEFAULT_ACCOUNT``,
        ``CDK_DEFAULT_REGION``, which ``cdk synth`` and ``cdk deploy`` always set). Without them the stacks
        are environment-agnostic, so synth needs no AWS account.

    Raises
    ------
    ConfigError
        The configuration is invalid, or the region is one where the platform cannot run.
    """
    given = cdk_json_context() | (context or {})
    app = cdk.App(context=given, outdir=outdir)
    platform = load_platform(platform_context(given), PROJECT_ROOT)
    config = platform.config
    env = environment or cdk.Environment(
        account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION")
    )
    if env.region:
        check_region(env.region, config.training.image_version)
    # The stateful foundation first; each stateless stack imports it through fixed export names.
    foundation = FoundationStack(
        app,
        config=config,
        env=env,
        description="MLOps platform: the foundation (key, data, catalog, deployment records, bus, alerts)",
    )
    exports = foundation.exports
    serving = ServingStack(
        app,
        description="MLOps platform: serving (approved model versions go live on their endpoints)",
        foundation=exports,
        config=config,
        env=env,
    )
    stacks: list[cdk.Stack] = [
        foundation,
        ValidationStack(
            app,
            contracts=platform.contracts,
            description="MLOps platform: data validation (uploads become validated, versioned datasets)",
            foundation=exports,
            config=config,
            env=env,
        ),
        TrainingStack(
            app,
            contracts=platform.contracts,
            training=platform.training,
            team_code=platform.team_code,
            description="MLOps platform: training (accepted dataset versions become registered models)",
            foundation=exports,
            config=config,
            env=env,
        ),
        serving,
        MonitoringStack(
            app,
            contracts=platform.contracts,
            training=platform.training,
            # The endpoints' names (plain strings): monitoring deploys after the foundation alone.
            endpoints=serving.deployment.endpoints,
            description="MLOps platform: monitoring (drift of live traffic, alarms, dashboards)",
            foundation=exports,
            config=config,
            env=env,
        ),
    ]
    for stack in stacks:
        # The CLI and the local cloud find the project's stacks, and merge their outputs, by this tag.
        cdk.Tags.of(stack).add("project", config.project)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
    return app


def check_region(region: str, image_version: str) -> None:
    """Fail with a clear message if ``region`` is one where SageMaker's scikit-learn image is not published.

    The training jobs and endpoints run that image, so those regions are the ones the platform supports.
    """
    regions = supported_regions(image_version)
    if region not in regions:
        raise ConfigError(
            f"region {region!r} (from CDK_DEFAULT_REGION, which the CDK CLI takes from AWS_REGION or your "
            f"profile): SageMaker does not publish its scikit-learn image {image_version} there "
            f"(mlops.training.image_version), so the platform cannot train or serve in it. Deploy to one of "
            f"{', '.join(regions)}: for example `AWS_REGION=eu-west-1 cdk deploy --all`."
        )


def platform_context(given: dict[str, Any]) -> Any:
    """The ``mlops`` context as the app sees it, read here so that its nulls survive.

    A null is how a key says "none" (``monitoring.no_traffic_minutes: null``: no such alarm), and jsii
    drops None from every mapping it hands across, both ways: ``app.node.try_get_context`` would
    return the key absent, and the default would apply. So the context is merged here as the app
    merges it (``App.loadContext``): the given context, then the CDK CLI's (``CDK_CONTEXT_JSON``: cdk.json,
    cdk.context.json and ``--context``), then the CLI's overflow file, each key replacing the last.
    """
    merged = dict(given)
    if cli := os.environ.get("CDK_CONTEXT_JSON"):
        merged |= json.loads(cli)
    if overflow := os.environ.get("CONTEXT_OVERFLOW_LOCATION_ENV"):
        merged |= json.loads(Path(overflow).read_text(encoding="utf-8"))
    return merged.get(CONTEXT_KEY)


def cdk_json_context() -> dict[str, Any]:
    """The ``context`` of the project's ``cdk.json``.

    The CDK CLI passes it to the app itself; reading it here makes ``python app.py`` (no CLI, no node
    package) synthesize the same app.
    """
    context: dict[str, Any] = json.loads((PROJECT_ROOT / "cdk.json").read_text(encoding="utf-8"))["context"]
    return context
