"""The serving benchmark's measurements, its results document (``bench/results/serving.json``) and summary."""

from __future__ import annotations

import json
import statistics
from typing import Any

from _load import Load, percentile

PAYLOADS = {"1row": 1, "100rows": 100}  # name: rows


def predicted_labels(body: bytes) -> list[Any]:
    """The labels in a server's JSON answer (ours: objects with ``prediction``; MLflow's: the labels)."""
    predictions = json.loads(body)["predictions"]
    return [p["prediction"] if isinstance(p, dict) else p for p in predictions]


class Pool:
    """What one contender measured on one payload."""

    def __init__(self) -> None:
        self.latencies: list[float] = []  # seconds: one request at a time (or one in-process call)
        self.loaded: list[float] = []  # seconds: several connections
        self.slice_rps: list[float] = []  # several connections, per slice
        self.answered = 0  # several connections
        self.loaded_seconds = 0.0
        self.non_200 = 0
        self.agrees = True

    def answer(self, status: int, body: bytes, expected: list[Any]) -> None:
        """Check one answer of a server."""
        if status != 200:
            self.non_200 += 1
            self.agrees = False
        elif predicted_labels(body) != expected:
            self.agrees = False

    def add_load(self, load: Load, expected: list[Any]) -> None:
        """One throughput slice of a server."""
        self.non_200 += sum(n for status, n in load.statuses.items() if status != 200)
        self.answer(200 if load.ok else 0, load.sample, expected)
        self.loaded += load.latencies
        self.answered += len(load.latencies)
        self.loaded_seconds += load.seconds
        self.slice_rps.append(load.rps)


def _server(pool: Pool) -> dict[str, float]:
    """A server's figures: latency with one connection, throughput with several."""
    return {
        "rps": pool.answered / pool.loaded_seconds,
        "p50_ms": percentile(pool.latencies, 50) * 1e3,
        "p99_ms": percentile(pool.latencies, 99) * 1e3,
        "loaded_p50_ms": percentile(pool.loaded, 50) * 1e3,
        "loaded_p99_ms": percentile(pool.loaded, 99) * 1e3,
    }


def _payload(n: str, pools: dict[str, Pool], steps: dict[str, list[float]]) -> dict[str, Any]:
    """One payload's figures, ratios and goals (keys end in ``_<n>``), and our endpoint's breakdown."""
    ours = _server(pools["ours"])
    floor = {
        key: percentile(pools["floor"].latencies, q) * 1e3 for key, q in (("p50_ms", 50), ("p99_ms", 99))
    }
    figures: dict[str, Any] = ours | {f"floor_{key}": value for key, value in floor.items()}
    figures["floor_ratio"] = ours["p50_ms"] / floor["p50_ms"]
    figures["goal_p50_within_1_5x_floor"] = figures["floor_ratio"] <= 1.5
    theirs = _server(pools["mlflow"]) if "mlflow" in pools else dict.fromkeys(ours)
    figures |= {f"mlflow_{key}": value for key, value in theirs.items()}
    figures |= dict.fromkeys(
        ("ratio_vs_mlflow", "mlflow_floor_ratio", "goal_throughput_4x_mlflow", "goal_p99_not_worse")
    )
    if "mlflow" in pools:
        # Each throughput slice of ours ran next to one of MLflow's: the median of their ratios.
        pairs = zip(pools["ours"].slice_rps, pools["mlflow"].slice_rps, strict=True)
        figures["ratio_vs_mlflow"] = statistics.median(o / m for o, m in pairs)
        figures["mlflow_floor_ratio"] = theirs["p50_ms"] / floor["p50_ms"]
        figures["goal_throughput_4x_mlflow"] = figures["ratio_vs_mlflow"] >= 4
        figures["goal_p99_not_worse"] = ours["p99_ms"] <= theirs["p99_ms"]
    breakdown = {step: statistics.median(times) * 1e3 for step, times in steps.items()}
    breakdown["http_and_server"] = ours["p50_ms"] - sum(breakdown.values())
    figures["breakdown_ms"] = {step: round(ms, 3) for step, ms in breakdown.items()}
    return {f"{key}_{n}": value for key, value in figures.items()}


def assemble(
    contests: dict[str, Any],
    problems: dict[str, str],
    versions: dict[str, str],
    settings: dict[str, Any],
    method: str,
) -> dict[str, Any]:
    """The results document: figures, ratios and goals per payload, the slices' medians, the method."""
    import sklearn

    results: dict[str, Any] = {}
    for n in PAYLOADS:
        results |= _payload(n, contests[n].pools, contests[n].steps)
    pools = [(n, name, pool) for n in PAYLOADS for name, pool in contests[n].pools.items()]
    servers_by_name = [(n, name, pool) for n, name, pool in pools if name != "floor"]
    servers = [pool for _, _, pool in servers_by_name]
    return {key: round(v, 3) if isinstance(v, float) else v for key, v in results.items()} | {
        "agrees_with_floor": all(pool.agrees for _, name, pool in pools if name == "ours"),
        "mlflow_agrees_with_floor": all(mlflow)
        if (mlflow := [p.agrees for _, m, p in pools if m == "mlflow"])
        else None,
        "non_200_answers": sum(pool.non_200 for pool in servers),
        "requests": sum(len(pool.latencies) + pool.answered for pool in servers),
        **settings,
        "versions": {"scikit-learn": sklearn.__version__, **versions},
        "problems": problems,
        "throughput_slices_rps": {
            f"{name}_{n}": [round(rps, 1) for rps in pool.slice_rps] for n, name, pool in servers_by_name
        },
        "method": method,
    }


def report(results: dict[str, Any]) -> str:
    """A short summary for the terminal."""
    lines = []
    for n in PAYLOADS:
        line = (
            f"{n:>7}: ours {results[f'rps_{n}']:6.1f} req/s, p50 {results[f'p50_ms_{n}']:.2f} ms, "
            f"p99 {results[f'p99_ms_{n}']:.2f} ms; floor p50 {results[f'floor_p50_ms_{n}']:.2f} ms "
            f"(ours {results[f'floor_ratio_{n}']:.2f}x, goal <= 1.5x)"
        )
        if results[f"mlflow_rps_{n}"] is not None:
            line += (
                f"; MLflow {results[f'mlflow_rps_{n}']:6.1f} req/s, "
                f"p50 {results[f'mlflow_p50_ms_{n}']:.2f} ms, "
                f"p99 {results[f'mlflow_p99_ms_{n}']:.2f} ms (ours {results[f'ratio_vs_mlflow_{n}']:.2f}x "
                "the throughput, goal >= 4x)"
            )
        lines.append(line)
        steps = ", ".join(f"{step} {ms:.2f}" for step, ms in results[f"breakdown_ms_{n}"].items())
        lines.append(f"         our p50 in ms: {steps}")
    lines.append(
        f"agrees with the floor: ours {results['agrees_with_floor']}, MLflow "
        f"{results['mlflow_agrees_with_floor']}; answers other than 200: {results['non_200_answers']}"
    )
    return "\n".join(lines)
