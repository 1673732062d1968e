"""Our side of the drift benchmark, one step per fresh process, timed from the process's start.

Run by ``bench/drift.py`` with the platform's Python; prints one JSON document (seconds, their split,
peak RSS from ``resource.getrusage``, and what the step found):

- ``baseline TRAIN.parquet OUT.json``: the training job's cost. ``spec.drift.baseline.build_baseline``
  on the training table's features and predicted labels (the profiles and the calibrated null bands),
  written as the job writes ``baseline/drift_baseline.json``. ``seconds`` is the build alone; the
  Parquet read is ``load_s``.
- ``monitor BASELINE.json WINDOW.parquet``: the monitor's computation. The stored baseline JSON read
  back (``load_s``) and ``domain.monitoring.compare.compare_version`` on the parsed window's columns
  (every statistic of every feature and of the predictions, thresholds at the window's size, the
  verdict; ``compute_s``) with the default monitoring configuration. ``seconds`` runs from the process's
  start (imports included) to the verdict, less ``handover_s``: turning the Parquet file into the parsed
  window's columns is the benchmark's hand-over (the monitor parses captures into them, which
  ``captures`` measures). ``cpu_s`` is the same span in the process's CPU time (``time.process_time``),
  which other processes on the shared machine do not stretch.
- ``captures FOLDER SINCE UNTIL``: the window's SageMaker capture files read as the monitor reads them
  (``domain.monitoring.captures.read_window`` over a local folder): listing the hour folders, reading
  the JSON Lines, parsing the CSV and JSON bodies with the dataset's contract into columns. ``seconds``
  runs from the process's start (imports included); ``checks`` (per column: sum and missing values, or
  counts per value) let the caller check what was read against the window that was written.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import json  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "bench"), str(ROOT)]


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _columns(path: Path) -> tuple[dict[str, Any], dict[str, list[str | None]], int]:
    """A Parquet table as the parsed window's columns: floats (NaN missing), and text (None missing)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    numeric: dict[str, Any] = {}
    text: dict[str, list[str | None]] = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        if pa.types.is_dictionary(column.type):
            # each category's str made once, the rows taking theirs by index (None for a missing one)
            combined = column.combine_chunks()
            names = np.array([*combined.dictionary.to_pylist(), None], dtype=object)
            indices = combined.indices.fill_null(len(combined.dictionary)).to_numpy()
            text[name] = names[indices].tolist()
        else:
            numeric[name] = column.to_numpy(zero_copy_only=False).astype(np.float64)
    return numeric, text, table.num_rows


def baseline(train: Path, out: Path) -> dict[str, Any]:
    """Build and write the drift baseline of the training table."""
    from _drift_data import PREDICTION

    from spec.drift.baseline import build_baseline

    numeric, text, rows = _columns(train)
    loaded = time.perf_counter()
    predictions: dict[str, tuple[Any, Any]] = {PREDICTION: ("categorical", text.pop(PREDICTION))}
    features: dict[str, tuple[Any, Any]] = {name: ("numeric", values) for name, values in numeric.items()}
    features.update({name: ("categorical", values) for name, values in text.items()})
    built = build_baseline(features, predictions)
    document = built.to_json()
    finished = time.perf_counter()
    out.write_text(document, encoding="utf-8")
    return {
        "seconds": finished - loaded,
        "load_s": loaded - STARTED,
        "peak_rss_mb": _peak_rss_mb(),
        "rows": rows,
        "baseline_bytes": len(document.encode("utf-8")),
    }


def monitor(baseline_json: Path, window_path: Path) -> dict[str, Any]:
    """The monitor's computation on a parsed window: the stored baseline read, every column scored."""
    from domain.monitoring.compare import compare_version
    from domain.monitoring.config import MonitoringConfig
    from domain.monitoring.rows import VersionRows
    from spec.drift.baseline import DriftBaseline

    imported, cpu_imported = time.perf_counter(), time.process_time()
    numeric, text, rows = _columns(window_path)
    window = VersionRows(version=1, rows=rows, requests=0, columns={**numeric, **text})
    handed_over, cpu_handed_over = time.perf_counter(), time.process_time()
    stored = DriftBaseline.from_json(baseline_json.read_bytes())
    loaded = time.perf_counter()
    result = compare_version(window, stored, MonitoringConfig(), baseline_uri=str(baseline_json))
    finished = time.perf_counter()
    handover = handed_over - imported
    return {
        "cpu_s": time.process_time() - (cpu_handed_over - cpu_imported),
        # the window's hand-over (Parquet into the parsed window's columns) is the benchmark's, not the
        # monitor's: the monitor gets its columns from the captures (capture_read_s)
        "seconds": finished - STARTED - handover,
        "wall_with_handover_s": finished - STARTED,
        "import_s": imported - STARTED,
        "handover_s": handover,
        "load_s": loaded - handed_over,
        "compute_s": finished - loaded,
        "peak_rss_mb": _peak_rss_mb(),
        "status": result.status,
        "flagged": sorted(result.drifted_features),
        "prediction_drift": result.prediction_drifted,
        "drifted_share": result.drifted_share,
        "tail": result.tail,
        "columns": {
            column.name: {
                "statistic": column.primary,
                "score": column.score,
                "threshold": column.threshold,
                "drifted": column.drifted,
                "ks": column.scores.get("ks"),
            }
            for column in (*result.features, *([result.prediction] if result.prediction else []))
        },
    }


class FolderSource:
    """``domain.monitoring.captures.CaptureSource`` over a local folder that mirrors the bucket's keys."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def folders(self, prefix: str) -> list[str]:
        """The folders directly under ``prefix``."""
        here = self.root / prefix
        if not here.is_dir():
            return []
        return sorted(f"{prefix}{path.name}/" for path in here.iterdir() if path.is_dir())

    def keys(self, prefix: str) -> list[str]:
        """Every file under ``prefix``."""
        here = self.root / prefix
        if not here.is_dir():
            return []
        return sorted(str(path.relative_to(self.root)) for path in here.rglob("*") if path.is_file())

    def read(self, key: str) -> bytes:
        """A file's bytes."""
        return (self.root / key).read_bytes()


def captures(folder: Path, since_text: str, until_text: str) -> dict[str, Any]:
    """Read the window's capture files as the monitor does; what was read, and sums to check it by."""
    from datetime import datetime

    from _drift_data import DATASET, column_checks, contract

    from domain.monitoring.captures import read_window
    from domain.monitoring.columns import CaptureSchema
    from domain.training.config import parse_training_config

    dataset = contract()
    schema = CaptureSchema.of(dataset, parse_training_config({}, contract=dataset))
    imported = time.perf_counter()
    since, until = datetime.fromisoformat(since_text), datetime.fromisoformat(until_text)
    window = read_window(FolderSource(folder), DATASET, schema, since, until)
    finished, cpu = time.perf_counter(), time.process_time()
    checks = {str(version): column_checks(rows.columns) for version, rows in window.versions.items()}
    return {
        "seconds": finished - STARTED,
        "cpu_s": cpu,
        "import_s": imported - STARTED,
        "read_s": finished - imported,
        "peak_rss_mb": _peak_rss_mb(),
        "rows": window.rows,
        "requests": sum(v.requests for v in window.versions.values()),
        "files": window.files,
        "refused": window.refused,
        "unreadable": window.unreadable,
        "unattributed": window.unattributed,
        "checks": checks,
    }


def main(argv: list[str]) -> dict[str, Any]:
    """Run the step ``argv[0]`` names."""
    step, *args = argv
    if step == "baseline":
        return baseline(Path(args[0]), Path(args[1]))
    if step == "monitor":
        return monitor(Path(args[0]), Path(args[1]))
    if step == "captures":
        return captures(Path(args[0]), args[1], args[2])
    raise SystemExit(f"unknown step {step!r}: baseline, monitor or captures")


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))
