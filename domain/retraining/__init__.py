"""The retraining policy, pure: which trigger starts a training run, on which data, and why not.

Every automatic start of the training pipeline goes through :func:`domain.retraining.policy.decide`: a
dataset version accepted, the drift or performance alarm entering ALARM, the configured schedule, a run
ending, a deferral coming due. The policy coalesces bursts (one run at a time per dataset, the newest
version when it ends), holds a cooldown after alarm-started runs and a cap on runs per day, dedupes
triggers delivered twice, and refuses to retrain on nothing new. Each decision is a record with its reason.

- :mod:`~domain.retraining.config`: the ``retraining`` key of a dataset in ``cdk.json``;
- :mod:`~domain.retraining.triggers`: an EventBridge event or a schedule's payload, read as a trigger;
- :mod:`~domain.retraining.state`: what the policy remembers per dataset between decisions;
- :mod:`~domain.retraining.decisions`: a decision, as recorded;
- :mod:`~domain.retraining.observations`: what the platform looks like when a trigger is decided;
- :mod:`~domain.retraining.policy`: :func:`~domain.retraining.policy.decide`, and every name of the API;
  the rules are in :mod:`~domain.retraining.new_data` (accepted versions, runs ending, deferrals) and
  :mod:`~domain.retraining.retrain` (alarms and the schedule), on a working copy of the state with its
  limits (:mod:`~domain.retraining.draft`).

Nothing here reads the clock, the environment or AWS: time comes from the observations.
"""
