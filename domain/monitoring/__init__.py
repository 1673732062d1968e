"""Drift monitoring: live traffic measured against the baseline of the model version that served it.

The drift monitor's use case (``lambdas/drift_monitor`` runs it; ``bench/drift.py`` and the CLI call
its parts), in the order a check meets them:

- :mod:`.config`: a dataset's ``monitoring`` key (schedule, window, verdict rules, alarms);
- :mod:`.request`: the schedule's or a person's event as a window;
- :mod:`.captures`: the window's capture files listed and read, per model version
  (:func:`~.captures.read_window`), parsed by :mod:`.capture_envelopes`, :mod:`.capture_fast`,
  :mod:`.capture_bodies`, :mod:`.capture_columns` and :mod:`.capture_records` into columns read as
  :mod:`.columns` says (and, when the feedback join asks, each row's class probabilities:
  :mod:`.capture_probabilities`);
- :mod:`.rows`: a version's rows, as those readers give them and the comparison takes them (a module of its
  own, so that the comparison imports numpy and the statistics, not pyarrow and the contract);
- :mod:`.compare`: a version's rows against its baseline (:func:`~.compare.compare_version`), each column
  prepared once (sorted or counted) for all its statistics and its histogram;
- :mod:`.report` and :mod:`.html`: the report as JSON and as a page; :mod:`.metrics`: what it publishes;
- :mod:`.check`: the whole check behind its ports (:func:`~.check.check_drift`).

The statistics and the baselines are in :mod:`spec.drift`, shared with the training job.

Realized performance, once labels come back (the feedback function, ``domain.feedback``, runs it):
:mod:`.performance_config` (the ``monitoring.performance`` key, its defaults from the gate) and
:mod:`.performance` (each version's metrics on its labelled rows, with the training job's intervals from
:mod:`spec.metrics`); :mod:`.metrics` says what is published.
"""
