"""Results of the validation benchmark: medians per contender, the results document, the printed summary.

:func:`save` writes any benchmark's results document.

Standard library only, like ``bench/validate.py``: the parent process must stay small (see there).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RUNS = ROOT / "bench" / "results" / "runs"
PEAK_RSS_GOAL_MB = 300


def save(results: dict[str, Any], out: Path, summary: str, *, indent: int = 1) -> None:
    """Write a benchmark's results document to ``out``, then print its summary and where it went."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=indent) + "\n")
    print(summary)
    print(f"wrote {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")


def summarize(runs: list[dict[str, Any]], size: int) -> dict[str, Any]:
    """Median time, throughput and peak memory of one contender's runs."""
    good = [r for r in runs if "seconds" in r]
    if not good:
        return {"error": runs[0].get("error") if runs else "no runs"}
    seconds = statistics.median(r["seconds"] for r in good)
    return {
        "runs": len(good),
        "median_s": round(seconds, 4),
        "min_s": round(min(r["seconds"] for r in good), 4),
        "throughput_mb_s": round(size / 1e6 / seconds, 1),
        "peak_rss_mb": round(max(r["peak_rss_mb"] for r in good), 1),
    }


def assemble(
    runs: dict[str, list[dict[str, Any]]],
    sizes: dict[Path, int],
    csv_1x: Path,
    parquet_1x: Path,
    csv_4x: Path,
    bad: Path,
    handler: str,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """Turn the raw runs into the results document."""
    table = {
        label: summarize(items, sizes.get(_file(items), 0))
        for label, items in runs.items()
        if not label.startswith("import")
    }
    imports = {
        label: statistics.median(r["seconds"] for r in runs[label] if "seconds" in r)
        for label in ("import_boto3", "import_handler", "import_domain_validation", "import_powertools")
    }
    validator, pandera, floor = table["validator"], table["baseline"], table["floor"]
    agreement = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "_agreement.py"),
            str(csv_1x),
            *(
                str(RUNS / f"{label}.json")
                for label in ("validator", "baseline", "validator_bad", "baseline_bad")
            ),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    checked = json.loads(agreement.stdout)
    profile_check, findings_check = checked["profile"], checked["findings"]
    peak_1x, peak_4x = validator["peak_rss_mb"], table["validator_4x"]["peak_rss_mb"]
    results: dict[str, Any] = {
        "throughput_mb_s": validator["throughput_mb_s"],
        "pandera_throughput_mb_s": pandera["throughput_mb_s"],
        "ratio_vs_pandera": round(validator["throughput_mb_s"] / pandera["throughput_mb_s"], 2),
        "ratio_to_parse_floor": round(validator["median_s"] / floor["median_s"], 2),
        "peak_rss_mb_1x": peak_1x,
        "peak_rss_mb_4x": peak_4x,
        "handler_import_s": round(imports["import_handler"], 3),
        "handler_import_ratio_vs_boto3": round(imports["import_handler"] / imports["import_boto3"], 2),
        "agrees_with_baseline": profile_check["agrees"] and findings_check["agrees"],
        # Context for the figures above.
        "parse_floor_mb_s": floor["throughput_mb_s"],
        "parse_floor_default_options_mb_s": table["floor_default"]["throughput_mb_s"],
        "ratio_to_default_parse_floor": round(validator["median_s"] / table["floor_default"]["median_s"], 2),
        "throughput_with_snapshot_mb_s": table["validator_snapshot"]["throughput_mb_s"],
        "snapshot_extra_s": round(table["validator_snapshot"]["median_s"] - validator["median_s"], 3),
        "pandera_peak_rss_mb_1x": pandera["peak_rss_mb"],
        "pandera_peak_rss_mb_4x": table.get("baseline_4x", {}).get("peak_rss_mb"),
        "parquet_throughput_mb_s": table["validator_parquet"]["throughput_mb_s"],
        "pandera_parquet_throughput_mb_s": table["baseline_parquet"]["throughput_mb_s"],
        "parquet_floor_mb_s": table["floor_parquet"]["throughput_mb_s"],
        "boto3_import_s": round(imports["import_boto3"], 3),
        "import_breakdown_s": {
            "boto3": round(imports["import_boto3"], 3),
            "domain.data.validation (pyarrow, numpy, pydantic)": round(
                imports["import_domain_validation"], 3
            ),
            "aws_lambda_powertools Logger, Metrics, Tracer": round(imports["import_powertools"], 3),
            "handler (all of it)": round(imports["import_handler"], 3),
        },
        "handler_import_measured": (
            "lambdas/dataset_validation/handler.py"
            if handler == "import_handler"
            else "fallback: domain.data.validation + aws_lambda_powertools Logger/Metrics/Tracer + boto3 "
            "(the handler module is missing or failed to import)"
        ),
        "goals": {
            "ratio_vs_pandera_at_least_3": validator["throughput_mb_s"] / pandera["throughput_mb_s"] >= 3,
            "at_most_1_3x_parse_floor_time": validator["median_s"] / floor["median_s"] <= 1.3,
            "peak_rss_under_300_mb_at_1x_and_4x": max(peak_1x, peak_4x) < PEAK_RSS_GOAL_MB,
            "peak_rss_flat_with_size": peak_4x <= peak_1x * 1.15,
            "handler_import_at_most_1_8x_boto3": imports["import_handler"] / imports["import_boto3"] <= 1.8,
        },
        "agreement": {"profile": profile_check, "findings": findings_check},
        "files": {
            "csv_1x": {"path": str(csv_1x.relative_to(ROOT)), "bytes": sizes[csv_1x], "rows": args.rows},
            "parquet_1x": {
                "path": str(parquet_1x.relative_to(ROOT)),
                "bytes": sizes[parquet_1x],
                "rows": args.rows,
            },
            "csv_4x": {"path": str(csv_4x.relative_to(ROOT)), "bytes": sizes[csv_4x], "rows": args.rows * 4},
            "bad_csv": {"path": str(bad.relative_to(ROOT)), "bytes": sizes[bad], "rows": args.bad_rows},
        },
        "contenders": table,
        "environment": {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpu": _cpu_model(),
            "core": args.core,
            "repeats": args.repeats,
            "date": time.strftime("%Y-%m-%d"),
        },
    }
    return results


def _file(items: list[dict[str, Any]]) -> Path:
    return Path(items[0].get("file", "")) if items else Path()


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def report(results: dict[str, Any]) -> str:
    """A short human-readable summary."""
    r = results
    lines = [
        f"validator   {r['throughput_mb_s']:>7} MB/s  peak {r['peak_rss_mb_1x']:.0f} MB (1x) / "
        f"{r['peak_rss_mb_4x']:.0f} MB (4x)",
        f"pandera     {r['pandera_throughput_mb_s']:>7} MB/s  peak {r['pandera_peak_rss_mb_1x']:.0f} MB (1x)"
        + (f" / {r['pandera_peak_rss_mb_4x']:.0f} MB (4x)" if r["pandera_peak_rss_mb_4x"] else ""),
        f"parse floor {r['parse_floor_mb_s']:>7} MB/s  (same options; pyarrow defaults: "
        f"{r['parse_floor_default_options_mb_s']} MB/s)",
        f"ratio vs pandera {r['ratio_vs_pandera']}x; time vs parse floor {r['ratio_to_parse_floor']}x "
        f"(vs default-options floor {r['ratio_to_default_parse_floor']}x)",
        f"with snapshot {r['throughput_with_snapshot_mb_s']} MB/s; Parquet: validator "
        f"{r['parquet_throughput_mb_s']} MB/s, pandera {r['pandera_parquet_throughput_mb_s']} MB/s",
        f"handler import {r['handler_import_s']} s = {r['handler_import_ratio_vs_boto3']}x import boto3 "
        f"({r['boto3_import_s']} s)",
        f"agrees with baseline: {r['agrees_with_baseline']} (max quantile rank error "
        f"{r['agreement']['profile']['max_quantile_rank_error']:.4%})",
        "goals: " + ", ".join(f"{k}={'yes' if v else 'NO'}" for k, v in r["goals"].items()),
    ]
    return "\n".join(lines)
