"""The drift benchmark's untimed steps, each in a process of its own, so that ``bench/drift.py`` stays small.

A child's ``ru_maxrss`` starts from its parent's resident size: Linux carries the high-water mark of the
forking process's memory across ``execve``. The parent therefore holds no data (standard library only,
like ``bench/validate.py``), and the data is made and checked here. Prints one JSON document.

- ``prepare WORKDIR TRAIN_ROWS WINDOW_ROWS SEEDS``: the training table and both windows as Parquet, the
  shifted window as SageMaker capture files, and what the captures hold (``_drift_data.column_checks``);
- ``ks BASELINE.json WORKDIR``: per numeric feature and window, |KS from the stored profile -
  ``scipy.stats.ks_2samp`` on the raw training and window values| (missing values left out on both sides).
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "bench"), str(ROOT)]

WINDOWS = ("shifted", "undrifted")


def prepare(workdir: Path, train_rows: int, window_rows: int, seeds: dict[str, int]) -> dict[str, Any]:
    """Write the benchmark's files; where they are, what the captures hold, and the data's shape."""
    import _drift_data as data

    train = data.generate(train_rows, seeds["train"])
    windows = {
        "shifted": data.generate(window_rows, seeds["shifted"], shifted=True),
        "undrifted": data.generate(window_rows, seeds["undrifted"]),
    }
    paths = {"train": str(data.write_parquet(train, workdir / "train.parquet"))}
    paths |= {name: str(data.write_parquet(t, workdir / f"{name}.parquet")) for name, t in windows.items()}
    shifted, since = windows["shifted"], data.window_start()
    written = data.write_captures(shifted, workdir / "captures", start=since, seed=seeds["captures"])
    columns: dict[str, Any] = {**shifted.numeric}
    columns |= {name: shifted.strings(name) for name in shifted.categorical}
    columns[data.PREDICTION] = shifted.predicted_labels()
    return {
        "paths": paths,
        "captures": {
            "folder": str(workdir / "captures"),
            "since": since.isoformat(),
            "until": (since + timedelta(hours=1)).isoformat(),
            "written": written,
            "expected": {"1": data.column_checks(columns)},
        },
        "dataset": data.DATASET,
        "shifted": list(data.SHIFTED),
        "numeric": list(data.NUMERIC),
        "categorical": {name: count for name, (count, _) in data.CATEGORICAL.items()},
    }


def ks_errors(baseline_json: Path, workdir: Path) -> dict[str, float]:
    """|KS from the stored profile - scipy's exact two-sample KS|, per ``<window>/<feature>``."""
    import numpy as np
    import pyarrow.parquet as pq
    from scipy.stats import ks_2samp

    from spec.drift.baseline_format import DriftBaseline
    from spec.drift.numeric import NumericProfile, ks_statistic

    stored = DriftBaseline.from_json(baseline_json.read_bytes())
    numeric = [f.name for f in stored.features if isinstance(f.profile, NumericProfile)]

    def present(path: Path, name: str) -> Any:
        values = pq.read_table(path, columns=[name]).column(0).to_numpy(zero_copy_only=False)
        values = values.astype(np.float64)
        return values[~np.isnan(values)]

    errors: dict[str, float] = {}
    for name in numeric:
        profile = stored.feature(name).profile
        assert isinstance(profile, NumericProfile)
        reference = present(workdir / "train.parquet", name)
        for window in WINDOWS:
            current = present(workdir / f"{window}.parquet", name)
            exact = float(ks_2samp(reference, current).statistic)
            errors[f"{window}/{name}"] = abs(ks_statistic(profile, current) - exact)
    return errors


def main(argv: list[str]) -> dict[str, Any]:
    """Run the step ``argv[0]`` names."""
    step, *args = argv
    if step == "prepare":
        return prepare(Path(args[0]), int(args[1]), int(args[2]), json.loads(args[3]))
    if step == "ks":
        return {"errors": ks_errors(Path(args[0]), Path(args[1]))}
    raise SystemExit(f"unknown step {step!r}: prepare or ks")


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))
