"""A CDK app of stacks bound by an explicit export, as a platform split by lifecycle is.

``Shared`` (stateful: termination protection) exports its topic's ARN under a fixed name; ``Consumer``
imports it with ``Fn::ImportValue`` into a parameter and depends on ``Shared``; ``Orphan`` imports an
export that no stack makes. Every stack is tagged ``project=exports-fixture``. No assets: it
synthesizes and deploys in a second or two.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT = "exports-fixture"
SHARED_STACK, CONSUMER_STACK, ORPHAN_STACK = (
    "ExportsFixtureShared",
    "ExportsFixtureConsumer",
    "ExportsFixtureOrphan",
)
TOPIC_EXPORT = "exports-fixture-TopicArn"
MISSING_EXPORT = "exports-fixture-Missing"
IMPORTED_PARAMETER = "/exports-fixture/topic-arn"


def synthesize(outdir: Path) -> Path:
    """The app's cloud assembly in ``outdir``, synthesized unless it is there already."""
    if (outdir / "manifest.json").is_file():
        return outdir
    os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    import aws_cdk as cdk
    from aws_cdk import aws_sns as sns
    from aws_cdk import aws_ssm as ssm

    app = cdk.App(outdir=str(outdir))
    # The consumer is declared first: the deploy order comes from the dependencies, not the declaration.
    consumer = cdk.Stack(app, CONSUMER_STACK)
    shared = cdk.Stack(app, SHARED_STACK, termination_protection=True)
    orphan = cdk.Stack(app, ORPHAN_STACK)
    topic = sns.Topic(shared, "Topic")
    cdk.CfnOutput(shared, "TopicArn", value=topic.topic_arn, export_name=TOPIC_EXPORT)
    imported = ssm.StringParameter(
        consumer,
        "Imported",
        parameter_name=IMPORTED_PARAMETER,
        string_value=cdk.Fn.import_value(TOPIC_EXPORT),
    )
    cdk.CfnOutput(consumer, "ImportedParameterName", value=imported.parameter_name)
    consumer.add_stack_dependency(shared)
    ssm.StringParameter(orphan, "Orphaned", string_value=cdk.Fn.import_value(MISSING_EXPORT))
    for stack in (consumer, shared, orphan):
        # moto's CloudFormation fails on a parameter's tags (a map there, not a list); the platform has none.
        cdk.Tags.of(stack).add("project", PROJECT, exclude_resource_types=["AWS::SSM::Parameter"])
    app.synth()
    return outdir
