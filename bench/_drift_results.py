"""The drift benchmark's results document (``bench/results/drift.json``) and its printed summary."""

from __future__ import annotations

import math
import platform
import time
from typing import Any

from _results import PEAK_RSS_GOAL_MB, _cpu_model

RATIO_GOAL = 40  # at least 40x Evidently's time (issue 12)
KS_ERROR_GOAL = 0.002


def checks_agree(found: dict[str, Any], expected: dict[str, Any]) -> bool:
    """Whether two sets of per-version ``_drift_data.column_checks`` agree: the same versions and columns,
    sums to 1e-9 relative (the reader adds in another order), missing values and counts exactly."""
    if set(found) != set(expected):
        return False
    for version, columns in expected.items():
        if set(found[version]) != set(columns):
            return False
        for name, wanted in columns.items():
            got = found[version][name]
            if set(wanted) == {"sum", "missing"} and isinstance(wanted["sum"], float):
                if got.get("missing") != wanted["missing"] or not math.isclose(
                    got["sum"], wanted["sum"], rel_tol=1e-9
                ):
                    return False
            elif got != wanted:
                return False
    return True


def assemble(
    *,
    baseline: dict[str, Any],
    ours: dict[str, dict[str, Any]],
    evidently: dict[str, dict[str, Any]],
    ks_errors: dict[str, float],
    captures: dict[str, Any],
    shifted: tuple[str, ...],
    settings: dict[str, Any],
    method: str,
) -> dict[str, Any]:
    """The results document: the issue's keys first, then the goals, the details and the method.

    Parameters
    ----------
    baseline : dict
        ``bench/_drift_ours.py baseline``'s output.
    ours, evidently : dict
        Per window (``shifted``, ``undrifted``), each contender's output.
    ks_errors : dict
        Per ``<window>/<feature>``, |KS from the stored profile - scipy's ks_2samp on the raw data|.
    captures : dict
        What was written, and ``bench/_drift_ours.py captures``'s output.
    shifted : tuple of str
        The features the shifted window moved.
    """
    ours_shifted, evidently_shifted = ours["shifted"], evidently["shifted"]
    # CPU seconds: other processes on the shared machine stretch a wall-clock time by up to 3x from one
    # minute to the next, and the contenders cannot run at the same minute
    ratio = evidently_shifted["cpu_s"] / ours_shifted["cpu_s"]
    peak = max(run["peak_rss_mb"] for run in ours.values())
    ks_max = max(ks_errors.values())
    false_alarms = ours["undrifted"]["flagged"]
    results: dict[str, Any] = {
        "drift_s": round(ours_shifted["seconds"], 3),
        "evidently_s": round(evidently_shifted["seconds"], 2),
        "ratio_vs_evidently": round(ratio, 1),
        "ratio_basis": "CPU seconds of each contender's process (imports included, hand-over excluded)",
        "peak_rss_mb": round(peak, 1),
        "evidently_peak_rss_mb": round(max(run["peak_rss_mb"] for run in evidently.values()), 1),
        "flagged_shifted": ours_shifted["flagged"],
        "evidently_flagged_shifted": evidently_shifted["flagged"],
        "false_alarms_undrifted": false_alarms,
        "ks_max_abs_error": round(ks_max, 6),
        "capture_read_s": round(captures["read"]["seconds"], 3),
        "baseline_s": round(baseline["seconds"], 2),
        "drift_cpu_s": round(ours_shifted["cpu_s"], 3),
        "evidently_cpu_s": round(evidently_shifted["cpu_s"], 2),
        "ratio_vs_evidently_wall": round(evidently_shifted["seconds"] / ours_shifted["seconds"], 1),
        "capture_read_cpu_s": round(captures["read"]["cpu_s"], 3),
        "capture_read_matches_window": captures["read"]["agrees_with_window"],
        "goals": {
            "ratio_vs_evidently_at_least_40": ratio >= RATIO_GOAL,
            "same_shifted_features_as_evidently": sorted(ours_shifted["flagged"])
            == sorted(evidently_shifted["flagged"]),
            "flags_exactly_the_shifted_features": sorted(ours_shifted["flagged"]) == sorted(shifted),
            "no_false_alarm_undrifted": not false_alarms,
            "peak_rss_under_300_mb": peak < PEAK_RSS_GOAL_MB,
            "ks_within_0_002": ks_max <= KS_ERROR_GOAL,
        },
        "shifted_features": list(shifted),
        "evidently_false_alarms_undrifted": evidently["undrifted"]["flagged"],
        "ours": ours,
        "evidently": evidently,
        "baseline": baseline,
        "captures": captures,
        "ks_abs_error": {name: round(error, 6) for name, error in sorted(ks_errors.items())},
        "settings": settings,
        "environment": {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpu": _cpu_model(),
            "date": time.strftime("%Y-%m-%d"),
        },
        "method": method,
    }
    return results


def report(results: dict[str, Any]) -> str:
    """A short human-readable summary."""
    r = results
    ours, evidently = r["ours"]["shifted"], r["evidently"]["shifted"]
    lines = [
        f"ours      {r['drift_s']:>7.2f} s, {r['drift_cpu_s']:.2f} s CPU (imports {ours['import_s']:.2f} s, "
        f"baseline read {ours['load_s']:.2f} s, compare {ours['compute_s']:.2f} s)  "
        f"peak {r['peak_rss_mb']:.0f} MB",
        f"evidently {r['evidently_s']:>7.2f} s, {r['evidently_cpu_s']:.2f} s CPU (imports "
        f"{evidently['import_s']:.2f} s, report {evidently['compute_s']:.2f} s)  "
        f"peak {r['evidently_peak_rss_mb']:.0f} MB",
        f"ratio {r['ratio_vs_evidently']}x in CPU time ({r['ratio_vs_evidently_wall']}x wall); "
        f"baseline (training job) {r['baseline_s']} s",
        f"capture read {r['capture_read_s']} s for {r['captures']['written']['rows']:,} rows in "
        f"{r['captures']['written']['records']:,} records (matches the window: "
        f"{r['capture_read_matches_window']})",
        f"shifted {r['shifted_features']}: ours flagged {r['flagged_shifted']}, Evidently "
        f"{r['evidently_flagged_shifted']}",
        f"undrifted: ours flagged {r['false_alarms_undrifted']}, Evidently "
        f"{r['evidently_false_alarms_undrifted']}",
        f"KS from the profile vs ks_2samp: max |error| {r['ks_max_abs_error']:.6f}",
        "goals: " + ", ".join(f"{k}={'yes' if v else 'NO'}" for k, v in r["goals"].items()),
    ]
    return "\n".join(lines)
