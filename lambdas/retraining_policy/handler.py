"""Retraining policy: every trigger of a training run is decided here, recorded, then acted on.

Thin: the event (an accepted version on the platform's bus; a drift or performance alarm entering ALARM,
a training run that ended, on the default bus; the configured and the deferral schedules' payloads) is
read by ``domain.retraining.triggers``, decided by one use case (``domain.retraining.use_case.handle``)
against the adapters. The policies and the alarms it reacts to are the ones synth generated next to it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from adapters.catalog import DynamoDatasetCatalog
from adapters.function_settings import RetrainingPolicySettings
from adapters.lambda_function import LambdaContext, LambdaFunction
from adapters.notify import AlertTopic
from adapters.retraining import DynamoDecisions
from adapters.retraining_platform import DeferralTarget, PlatformObservations, PolicyActions
from adapters.training_data import RetrainingUploads
from domain.declared import declared_contracts, declared_retraining, declared_retraining_alarms
from domain.retraining.preparation import RetrainingPreparer
from domain.retraining.triggers import trigger_from_event
from domain.retraining.use_case import handle

function = LambdaFunction(RetrainingPolicySettings, __file__)


def _build(
    s: RetrainingPolicySettings,
) -> tuple[DynamoDecisions, PlatformObservations, RetrainingPreparer]:
    # One catalog and one label store, shared by what the policy observes and what it prepares.
    catalog, uploads = DynamoDatasetCatalog(s.catalog_table), RetrainingUploads(s.data_bucket)
    return (
        DynamoDecisions(s.decisions_table),
        PlatformObservations(
            project=s.project, state_machine_arn=s.state_machine_arn, labels=uploads.labels, catalog=catalog
        ),
        RetrainingPreparer(declared_contracts(function.here), catalog, uploads),
    )


adapters = function.adapter(_build)


@function.handler()
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Decide the event's trigger under its dataset's policy; the decisions and what was done."""
    settings, here = function.settings(), function.here
    trigger = trigger_from_event(
        event, alarms=declared_retraining_alarms(here), state_machine_arn=settings.state_machine_arn
    )
    if trigger is None:
        function.report("not a retraining trigger", {"detail_type": event.get("detail-type")})
        return {"decisions": [], "trigger": None}
    policies = declared_retraining(here)
    function.tag(trigger.dataset, dataset=trigger.dataset, trigger=trigger.kind, trigger_key=trigger.key)
    if trigger.dataset not in policies:
        function.report(f"{trigger.dataset} is not a dataset of this platform", {"trigger": trigger.kind})
        return {"decisions": [], "trigger": trigger.kind}
    store, observations, uploads = adapters()
    actions = PolicyActions(
        project=settings.project,
        state_machine_arn=settings.state_machine_arn,
        uploads=uploads,
        alerts=AlertTopic(settings.alerts_topic_arn),
        deferral=DeferralTarget(
            # The function itself, unqualified: the schedule invokes $LATEST, as the drift schedules do.
            function_arn=":".join(context.invoked_function_arn.split(":")[:7]),
            role_arn=settings.schedule_role_arn,
            key_arn=settings.kms_key_arn,
            dead_letter_arn=settings.dead_letter_queue_arn,
        ),
    )
    handled = handle(trigger, config=policies[trigger.dataset], store=store, observations=observations,
                     actions=actions, now=lambda: datetime.now(UTC))  # fmt: skip
    for decision in handled.decisions:
        function.count(f"RetrainingDecisions{decision.outcome.capitalize()}")
    # The dashboard's training outcomes (stacks/constructs/dashboard.py): runs this trigger really started
    # (a recorded start acted on again, whose run existed already, is not one more).
    function.count("PipelineRunsStarted", handled.runs_started)
    outcomes = ", ".join(f"{d.outcome}: {d.reason}" for d in handled.decisions)
    function.report(f"{trigger.kind} {trigger.key}: {outcomes}", handled.summary())
    return {"trigger": trigger.kind, **handled.summary()}
