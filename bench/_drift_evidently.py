"""Evidently's DataDriftPreset on one window against the full reference, in a fresh process of its own venv.

Run by ``bench/drift.py`` with ``.cache/bench-evidently/bin/python`` (``bench/requirements-evidently.txt``:
Evidently 0.7.23 does not import under the platform's pandas 3). Standard library, pandas and Evidently
only: it cannot import the platform. Prints one JSON document: the seconds from the process's start
(imports included) to the verdict less the reading of the Parquet files (the benchmark's hand-over, as
for ours), split into imports, reading and Evidently's run; the same span in CPU time; the peak RSS; and
the columns whose drift test failed (Evidently's own verdict, its default method and threshold per
column: for a reference over 1,000 rows normed Wasserstein for numeric columns and Jensen-Shannon
distance for categorical ones, threshold 0.1).

Usage: ``python bench/_drift_evidently.py REFERENCE.parquet WINDOW.parquet``
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import json  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import warnings  # noqa: E402
from typing import Any  # noqa: E402


def main(reference_path: str, window_path: str) -> dict[str, Any]:
    """Evidently's verdict on the window, timed."""
    warnings.simplefilter("ignore")  # Evidently's deprecation chatter is not the benchmark's output
    import pandas as pd
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    imported, cpu_imported = time.perf_counter(), time.process_time()
    reference = pd.read_parquet(reference_path)
    window = pd.read_parquet(window_path)
    loaded, cpu_loaded = time.perf_counter(), time.process_time()
    categorical = [c for c in reference.columns if isinstance(reference[c].dtype, pd.CategoricalDtype)]
    numerical = [c for c in reference.columns if c not in categorical]
    # Declared as ours are (the contract's types): Evidently would otherwise guess integer counts with
    # few distinct values to be categorical.
    definition = DataDefinition(numerical_columns=numerical, categorical_columns=categorical)
    snapshot = Report([DataDriftPreset()], include_tests=True).run(
        Dataset.from_pandas(window, data_definition=definition),
        Dataset.from_pandas(reference, data_definition=definition),
    )
    document = snapshot.dict()
    finished, cpu = time.perf_counter(), time.process_time()
    scores: dict[str, dict[str, Any]] = {}
    for metric in document["metrics"]:
        config = metric["config"]
        if config.get("type", "").endswith(":ValueDrift"):
            scores[config["column"]] = {
                "score": metric["value"],
                "method": config.get("method"),
                "threshold": config.get("threshold"),
            }
    flagged = sorted(
        test["metric_config"]["params"]["column"]
        for test in document["tests"]
        if test["metric_config"]["params"].get("type", "").endswith(":ValueDrift")
        and test["status"] == "FAIL"
    )
    return {
        # as for ours, reading the hand-over files is the benchmark's, not the contender's
        "seconds": finished - STARTED - (loaded - imported),
        "wall_with_handover_s": finished - STARTED,
        "cpu_s": cpu - (cpu_loaded - cpu_imported),
        "import_s": imported - STARTED,
        "load_s": loaded - imported,
        "compute_s": finished - loaded,
        # ru_maxrss is in KiB on Linux
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "flagged": flagged,
        "scores": scores,
        "reference_rows": len(reference),
        "window_rows": len(window),
        "versions": {"evidently": _version("evidently"), "pandas": pd.__version__},
    }


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2])))
