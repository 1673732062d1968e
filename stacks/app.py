"""Builds the CDK app from the configuration: the one place where stacks are composed."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from stacks.config import CONTEXT_KEY, load_platform
from stacks.data_stack import DataStack

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def build_app(context: dict[str, Any] | None = None, outdir: str | None = None) -> cdk.App:
    """Compose the platform's stacks into a new app, with cdk-nag as a gate.

    Parameters
    ----------
    context
        Context values that take precedence over ``cdk.json`` (tests use it to vary the configuration).
        The CDK CLI's own context (``--context``) still wins over both.
    outdir
        Where to write the cloud assembly; by default ``CDK_OUTDIR`` or a temporary folder.

    The account and region come from the CDK CLI's environment when it provides them; without them the
    stacks are environment-agnostic, so synth needs no AWS account.
    """
    app = cdk.App(context=cdk_json_context() | (context or {}), outdir=outdir)
    platform = load_platform(app.node.try_get_context(CONTEXT_KEY), PROJECT_ROOT)
    config = platform.config
    env = cdk.Environment(
        account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION")
    )
    data = DataStack(
        app,
        f"{config.project}-data",
        config=config,
        contracts=platform.contracts,
        training=platform.training,
        env=env,
        description="MLOps platform: the data plane (uploads become validated, versioned datasets)",
    )
    cdk.Tags.of(data).add("project", config.project)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
    return app


def cdk_json_context() -> dict[str, Any]:
    """The ``context`` of the project's ``cdk.json``.

    The CDK CLI passes it to the app itself; reading it here makes ``python app.py`` (no CLI, no node
    package) synthesize the same app.
    """
    context: dict[str, Any] = json.loads((PROJECT_ROOT / "cdk.json").read_text(encoding="utf-8"))["context"]
    return context
