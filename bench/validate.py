"""Validation benchmark: the project's streaming validator against what a user would otherwise write.

Run with ``.venv/bin/python bench/validate.py`` (``make bench``). It

1. generates (once, cached under ``bench/data/``) the demo churn dataset of ``examples/churn.py``:
   1,000,000 rows x 20 columns (15 numeric, 5 categorical, about 1% nulls in nullable columns) as CSV
   and as Parquet, the same CSV at 4x the rows, and a smaller CSV with planted violations;
2. runs, alternately and each run in its own process pinned to one core with one thread (a Lambda
   with 1,769 MB has one vCPU), several times each:

   - ``validator``: ``domain.data.validation.validate_dataset`` (SHA-256, every contract check, full profile);
   - ``baseline``: ``pandas.read_csv`` + a pandera schema with the same checks + the same profile
     with pandas (``bench/_baseline.py``);
   - ``floor``: pyarrow's streaming CSV reader with the validator's own options, parsing and nothing
     else, and ``floor_default``: the same with pyarrow's default options (type inference);

   then the validator with the Parquet snapshot, both on Parquet, the validator at 4x the size (peak
   memory must not grow), and the import time of the validation Lambda's handler against
   ``import boto3``;
3. checks that the validator finds the same violations and computes the same profile as the
   baseline (``bench/_agreement.py``), and writes ``bench/results/validate.json``.

Times are medians; MB/s are 10**6 bytes of input file per second; peak memory is the child's
``ru_maxrss`` (the largest over its runs).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import RUNS, assemble, report, save

# The parent stays lean (standard library only): on Linux a child's ru_maxrss starts from its
# parent's at fork time, so a parent holding pyarrow or pandas would inflate every child's peak.
ROOT = Path(__file__).resolve().parents[1]

DATA = ROOT / "bench" / "data"
RESULTS = ROOT / "bench" / "results"
HANDLER = ROOT / "lambdas" / "dataset_validation" / "handler.py"
CHILD = ROOT / "bench" / "_contenders.py"
SEED = 7


def dataset(rows: int, fmt: str, variant: str = "good") -> Path:
    """The cached generated file (made on first use)."""
    suffix = {"csv": "csv", "parquet": "parquet"}[fmt]
    path = DATA / f"churn-{variant}-{rows}.{suffix}"
    if not path.exists():
        started = time.perf_counter()
        command = [
            sys.executable,
            str(ROOT / "examples" / "churn.py"),
            "--rows",
            str(rows),
            "--seed",
            str(SEED),
            "--format",
            fmt,
            "--variant",
            variant,
            "--out",
            str(path),
        ]
        subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
        print(
            f"  generated {path.relative_to(ROOT)} ({path.stat().st_size / 1e6:.0f} MB) in "
            f"{time.perf_counter() - started:.0f} s",
            flush=True,
        )
    return path


def child(contender: str, path: Path | str, core: int, keep: Path | None = None) -> dict[str, Any]:
    """Run one contender in a fresh process and return its measurements (``keep``: also save them)."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        target = Path(out.name)
    try:
        completed = subprocess.run(
            [sys.executable, str(CHILD), contender, str(path), str(target), str(core)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
            env=_child_environment(),
        )
        if completed.returncode != 0:
            return {"contender": contender, "error": completed.stderr.strip().splitlines()[-1:]}
        result: dict[str, Any] = json.loads(target.read_text())
        if keep is not None:
            keep.parent.mkdir(parents=True, exist_ok=True)
            keep.write_text(target.read_text())
        result.pop("result", None)  # profiles and findings are read from the kept file when needed
        return result
    finally:
        target.unlink(missing_ok=True)


def _child_environment() -> dict[str, str]:
    """Bytecode cached outside the source tree, as a deployment would ship compiled modules."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(DATA / "pycache")
    return env


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Run every contender and assemble the results document."""
    core = args.core
    csv_1x, parquet_1x = dataset(args.rows, "csv"), dataset(args.rows, "parquet")
    csv_4x = dataset(args.rows * 4, "csv")
    bad = dataset(args.bad_rows, "csv", "bad")
    sizes = {path: path.stat().st_size for path in (csv_1x, parquet_1x, csv_4x, bad)}
    runs: dict[str, list[dict[str, Any]]] = defaultdict(list)

    def run(label: str, contender: str, path: Path | str) -> None:
        keep = (
            RUNS / f"{label}.json" if not runs[label] else None
        )  # the first run's output, for the agreement
        result = child(contender, path, core, keep)
        result.setdefault("file", str(path))
        runs[label].append(result)
        shown = (
            f"{result['seconds']:.3f} s, {result['peak_rss_mb']:.0f} MB" if "seconds" in result else result
        )
        print(f"  {label:<24} {shown}", flush=True)

    csv_contenders = [
        ("validator", "validator"),
        ("baseline", "baseline"),
        ("floor", "floor"),
        ("floor_default", "floor_default"),
    ]
    for repeat in range(args.repeats):
        # Rotate the order so that no contender always runs first (cache and frequency effects).
        for label, contender in csv_contenders[repeat % 4 :] + csv_contenders[: repeat % 4]:
            run(label, contender, csv_1x)
    for _ in range(max(2, args.repeats // 2)):
        run("validator_snapshot", "validator_snapshot", csv_1x)
        run("validator_parquet", "validator", parquet_1x)
        run("baseline_parquet", "baseline", parquet_1x)
        run("floor_parquet", "floor", parquet_1x)
    for _ in range(2):
        run("validator_4x", "validator", csv_4x)
    run("floor_4x", "floor", csv_4x)
    if not args.skip_baseline_4x:
        run("baseline_4x", "baseline", csv_4x)
    handler = "import_handler" if HANDLER.exists() else "import_fallback"
    for contender in ("import_boto3", handler, "import_domain_validation", "import_powertools"):
        child(contender, "-", core)  # warm-up: compiles and caches the bytecode, not measured
    for _ in range(args.import_repeats):
        run("import_boto3", "import_boto3", "-")
        run("import_handler", handler, "-")
        run("import_domain_validation", "import_domain_validation", "-")
        run("import_powertools", "import_powertools", "-")
    if "error" in runs["import_handler"][0] and handler == "import_handler":
        handler = "import_fallback"
        runs["import_handler"] = []
        for _ in range(args.import_repeats):
            run("import_handler", handler, "-")
    run("validator_bad", "validator", bad)
    run("baseline_bad", "baseline", bad)
    results = assemble(runs, sizes, csv_1x, parquet_1x, csv_4x, bad, handler, args)
    results["method"] = (__doc__ or "").strip()
    return results


def main(argv: list[str] | None = None) -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--bad-rows", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--import-repeats", type=int, default=7)
    parser.add_argument("--core", type=int, default=max(os.sched_getaffinity(0)))
    parser.add_argument("--skip-baseline-4x", action="store_true", help="skip pandera at 4x (needs ~2.5 GB)")
    parser.add_argument("--out", type=Path, default=RESULTS / "validate.json")
    args = parser.parse_args(argv)
    print(f"validation benchmark: {args.rows:,} rows, {args.repeats} repeats, core {args.core}", flush=True)
    results = measure(args)
    save(results, args.out, report(results), indent=2)


if __name__ == "__main__":
    main()
