"""Drift benchmark: the monitor's computation from a stored baseline against Evidently on the same window.

Run with ``.venv/bin/python bench/drift.py`` (``make bench``, which first installs
``bench/requirements-evidently.txt`` into a virtualenv of its own, ``.cache/bench-evidently``: Evidently
0.7.23 does not import under the platform's pandas 3, and is a benchmark-only dependency).

The data (``bench/_drift_data.py``): 1,000,000 training rows x 20 features (15 numeric: normal,
lognormal, integer counts, uniform, exponential, beta, bimodal, four with missing values; 5 categorical
with 3 to 50 categories, one with missing values) and a predicted label; two 100,000-row windows drawn
afresh from the same distribution, one undrifted and one with three features shifted
(``_drift_data.SHIFTED``: a normal's mean by 0.5 standard deviations, a lognormal scaled by 1.6, a
categorical's top share moved to a rare category), by amounts Evidently's defaults flag too.

Each step runs in a fresh process, timed from the process's start (imports included), pinned to one core
with one BLAS thread, one after the other. The shared machine's load stretches a wall-clock time by up to
3x from one minute to the next, and the contenders cannot run in the same minute, so the ratio is taken on
CPU time (``time.process_time``; the wall-clock times are beside it). Peak RSS is each process's
``resource.getrusage`` ``ru_maxrss``; as Linux carries the forking process's high-water mark across
``execve``, this parent holds no data (standard library only): the data are made and checked in processes
of their own (``bench/_drift_prepare.py``).

- ``baseline_s``: ``spec.drift.baseline.build_baseline`` on the training rows (profiles and calibrated
  null bands), as the training job runs it: its cost is paid once per model version, not per window;
- ``drift_s``, ``peak_rss_mb``: the monitor's computation (``bench/_drift_ours.py monitor``): the stored
  baseline JSON and the parsed window in, ``domain.monitoring.compare`` with the default monitoring
  configuration, the verdict out; the run of median CPU time of ``--repeats`` per window. Turning the
  Parquet hand-over into the parsed window's columns is not counted (the monitor parses captures into
  them: ``capture_read_s``), nor is Evidently's reading of its Parquet files;
- ``evidently_s``, ``evidently_peak_rss_mb``: Evidently's DataDriftPreset (its defaults; the columns'
  types declared as ours are) on the same window with the full 1M-row reference, both handed over as
  Parquet (``bench/_drift_evidently.py``); one run per window. ``ratio_vs_evidently`` is on the shifted
  window, in CPU time (``ratio_vs_evidently_wall`` in wall-clock time);
- ``flagged_shifted``, ``evidently_flagged_shifted``: the features each flags on the shifted window;
  ``false_alarms_undrifted``: what ours flags on the undrifted one;
- ``ks_max_abs_error``: KS from the stored profile (``spec.drift.numeric.ks_statistic``) against
  ``scipy.stats.ks_2samp`` on the raw training and window values, the largest difference over the numeric
  features of both windows (missing values left out on both sides);
- ``capture_read_s``: the shifted window written as SageMaker capture files (JSON Lines records, CSV bodies
  for every other request and JSON ``instances`` bodies for the rest, requests of 1 to 100 rows, files of
  1,000 records, under ``capture/<dataset>/v1/<endpoint>/AllTraffic/yyyy/mm/dd/hh/``) and read back as
  the monitor reads them (``bench/_drift_ours.py captures``), imports included.

The machine is shared: compare ratios, not absolute times.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "bench"), str(ROOT)]
from _drift_results import assemble, checks_agree, report  # noqa: E402
from _results import save  # noqa: E402

RESULTS = ROOT / "bench" / "results"
EVIDENTLY_VENV = ROOT / ".cache" / "bench-evidently"
SEEDS = {"train": 1, "shifted": 2, "undrifted": 3, "captures": 4}
WINDOWS = ("shifted", "undrifted")
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


class StepError(Exception):
    """A benchmark step's process failed."""


def run_step(python: Path, script: str, args: list[str], core: int) -> dict[str, Any]:
    """One step in a fresh process pinned to ``core``: its JSON document."""
    started = time.perf_counter()
    done = subprocess.run(
        [str(python), str(ROOT / "bench" / script), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **ONE_THREAD},
        preexec_fn=lambda: os.sched_setaffinity(0, {core}),
        check=False,
    )
    if done.returncode != 0:
        raise StepError(f"{script} {args[0]} exited {done.returncode}: {done.stderr.strip()[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall_s"] = time.perf_counter() - started
    return result


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run of median CPU time (with every run's seconds beside it)."""
    ordered = sorted(runs, key=lambda run: run["cpu_s"])
    chosen = dict(ordered[len(ordered) // 2])
    chosen["runs_s"] = [round(run["seconds"], 3) for run in runs]
    chosen["runs_cpu_s"] = [round(run["cpu_s"], 3) for run in runs]
    chosen["peak_rss_mb"] = max(run["peak_rss_mb"] for run in runs)
    return chosen


def measure(args: argparse.Namespace, workspace: Path) -> dict[str, Any]:
    """Every step; the results document."""
    core, python = args.core, Path(sys.executable)
    print(f"generating {args.train_rows:,} training rows and two windows of {args.window_rows:,}", flush=True)
    sizes = [str(workspace), str(args.train_rows), str(args.window_rows), json.dumps(SEEDS)]
    prepared = run_step(python, "_drift_prepare.py", ["prepare", *sizes], core)
    paths, captures = prepared["paths"], prepared["captures"]

    print("building the baseline (the training job's cost)", flush=True)
    baseline_json = workspace / "drift_baseline.json"
    baseline = run_step(python, "_drift_ours.py", ["baseline", paths["train"], str(baseline_json)], core)
    errors = run_step(python, "_drift_prepare.py", ["ks", str(baseline_json), str(workspace)], core)["errors"]

    ours: dict[str, dict[str, Any]] = {}
    for name in WINDOWS:
        runs = [
            run_step(python, "_drift_ours.py", ["monitor", str(baseline_json), paths[name]], core)
            for _ in range(args.repeats)
        ]
        ours[name] = median_run(runs)
        print(
            f"  ours on {name}: {ours[name]['runs_cpu_s']} s CPU, flagged {ours[name]['flagged']}", flush=True
        )

    bounds = [captures["since"], captures["until"]]
    read = run_step(python, "_drift_ours.py", ["captures", captures["folder"], *bounds], core)
    read["agrees_with_window"] = checks_agree(read.pop("checks"), captures["expected"])
    print(f"  captures: {captures['written']}; read in {read['cpu_s']:.2f} s CPU", flush=True)

    evidently: dict[str, dict[str, Any]] = {}
    for name in WINDOWS:
        evidently[name] = run_step(
            args.evidently_python, "_drift_evidently.py", [paths["train"], paths[name]], core
        )
        found = evidently[name]
        print(f"  Evidently on {name}: {found['cpu_s']:.1f} s CPU, flagged {found['flagged']}", flush=True)

    settings = {
        "train_rows": args.train_rows,
        "window_rows": args.window_rows,
        "features": len(prepared["numeric"]) + len(prepared["categorical"]),
        "numeric": prepared["numeric"],
        "categorical": prepared["categorical"],
        "ours_repeats": args.repeats,
        "core": core,
        "seeds": SEEDS,
    }
    return assemble(
        baseline=baseline,
        ours=ours,
        evidently=evidently,
        ks_errors=errors,
        captures={"written": captures["written"], "read": read},
        shifted=tuple(prepared["shifted"]),
        settings=settings,
        method=(__doc__ or "").strip(),
    )


def main(argv: list[str] | None = None) -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--train-rows", type=int, default=1_000_000)
    parser.add_argument("--window-rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3, help="runs of ours per window (the median is kept)")
    parser.add_argument("--core", type=int, default=sorted(os.sched_getaffinity(0))[-1])
    parser.add_argument("--evidently-python", type=Path, default=EVIDENTLY_VENV / "bin" / "python")
    parser.add_argument("--out", type=Path, default=RESULTS / "drift.json")
    args = parser.parse_args(argv)
    if not args.evidently_python.exists():
        raise SystemExit(
            f"no Evidently at {args.evidently_python}: `make bench` installs it from "
            "bench/requirements-evidently.txt (or pass --evidently-python)"
        )
    with tempfile.TemporaryDirectory(prefix="bench-drift-") as tmp:
        try:
            results = measure(args, Path(tmp))
        except StepError as error:
            raise SystemExit(f"drift benchmark: {error}") from None
    save(results, args.out, report(results))


if __name__ == "__main__":
    main()
