"""Serving benchmark: one model served three ways on loopback, loaded by the same bounded client.

Run with ``.venv/bin/python bench/serving.py`` (``make bench``, which first installs
``bench/requirements-mlflow.txt`` into a virtualenv of its own, ``.cache/bench-mlflow``: MLflow is a
benchmark-only dependency and never shares the platform's pinned packages). It trains a churn model with
the platform's own training code (``tests/trained_model.py``: histogram gradient boosting in a
scikit-learn Pipeline, 2,000 rows) and serves it

- ``ours``: the local endpoint's model server (``ModelServer.start`` on the model archive, environment
  ``domain.training.registration.INFERENCE_ENVIRONMENT``) running the archive's own ``inference.py`` under the
  scikit-learn container's contract (``POST /invocations``, ``Content-Type: text/csv``, ``Accept:
  application/json``). That is what SageMaker's front end forwards an InvokeEndpoint to; the local
  cloud's InvokeEndpoint proxy (moto) in front of it is not measured. Its ``model_fn`` serves the
  Pipeline compiled (``mlops_training.fast_inference``) once the compiled form is shown bitwise equal
  on probe rows; ``served_as`` records what it said;
- ``mlflow``: MLflow's scoring server (``mlflow models serve --env-manager local -w 1``: uvicorn, one
  worker, its default access log) on the same fitted Pipeline, saved with ``mlflow.sklearn.save_model``
  and an input signature (numbers as double, categories as string). MLflow calls ``predict`` with the
  DataFrame that ``pandas.read_csv`` makes of the request, and the Pipeline takes the platform's feature
  matrix (a 2-D object array in signature order), so the saved model is the Pipeline behind a
  ``FunctionTransformer`` that makes that matrix of the DataFrame (``bench/_mlflow_model.py``);
- ``floor``: the same Pipeline's ``predict`` on the same rows already parsed into the feature matrix
  (``contract_io.feature_matrix``), in-process, timed per call. It is the Pipeline as scikit-learn runs
  it, so a compiled predictor can answer below the floor (``floor_ratio_<n>`` under 1).

Both servers get the same bytes: ``examples.churn.request_csv`` of 1 or 100 generated churn rows (a
header row of the feature names; nulls as empty fields). Each server's processes and threads are pinned
to one core with ``OMP_NUM_THREADS=1``, and the floor runs on that core too; the client
(``bench/_load.py``: keep-alive ``http.client`` connections with TCP_NODELAY, each sending its next
request once the previous answer is read) runs on the other core. The shared machine's speed changes by
up to 2x from one second to the next, so the contenders take turns often. Per payload, after a warm-up:

- latency: for 20 s, bursts of 5 requests on one connection (5 in-process calls for the floor), the
  contenders in a rotating order with 20 ms between bursts; the first of each burst is not counted (it
  warms the caches the others used). p50 and p99 are from sending a request to having read its answer;
- throughput: 20 slices of 0.5 s per server, the servers taking turns, each slice with 4 connections
  busy: answers per second. ``ratio_vs_mlflow_<n>`` is the median of the ratios of slices that ran back
  to back; ``floor_ratio_<n>`` is our p50 over the floor's.

Every answer must be 200, and both servers' labels must equal the floor's for the same rows
(``agrees_with_floor``, ``mlflow_agrees_with_floor``). ``breakdown_ms_<n>`` says where our endpoint's
time goes, timed in-process on the server's core in the same rotation: ``parse_request`` (CSV parsing
and every contract check), ``predict_rows`` (``predict_proba`` and the labels, with what ``model_fn``
serves), ``render`` (JSON), and
``http_and_server``, the rest of our p50 (HTTP on both sides, the model server, the container's handler
chain). The machine is shared and has 2 cores: compare ratios, not absolute times.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "bench"), str(ROOT)]
from _load import Client, percentile, pin_process, pinned, run  # noqa: E402
from _results import save  # noqa: E402
from _servers import MLFLOW_VENV, Served, ServerError, start_mlflow, start_ours  # noqa: E402
from _serving_results import PAYLOADS, Pool, assemble, report  # noqa: E402

RESULTS = ROOT / "bench" / "results"
HEADERS = {"Content-Type": "text/csv", "Accept": "application/json"}
CONNECTIONS = 4  # for throughput; latency is measured with one
ROWS_SEED = 23  # the payload rows are not the training rows
BURST = 5  # requests (or in-process calls) in a row per contender and turn
PAUSE = 0.02  # seconds between two contenders' bursts


class InProcess:
    """The floor, and the steps of our endpoint's handlers, on the rows of each payload (no HTTP)."""

    def __init__(self, model_dir: Path, bodies: dict[str, bytes], matrices: dict[str, Any]) -> None:
        import joblib

        from training.mlops_training import serving
        from training.mlops_training.fast_inference import served_predictor

        self.pipeline = joblib.load(model_dir / "model.joblib")
        self.spec = serving.ServingSpec.from_model_dir(model_dir)
        # what inference.py's model_fn serves with: the compiled predictor once it is checked
        self.served, self.served_as = served_predictor(self.pipeline, self.spec, model_dir)
        self.serving = serving
        self.bodies = bodies
        self.matrices = matrices

    def floor(self, payload: str) -> float:
        """Seconds of one call of the Pipeline's ``predict`` on the parsed feature matrix."""
        matrix = self.matrices[payload]
        started = time.perf_counter()
        self.pipeline.predict(matrix)
        return time.perf_counter() - started

    def steps(self, payload: str) -> dict[str, float]:
        """Seconds of each step of ``inference.py``'s handlers for one request."""
        body, spec, serving = self.bodies[payload], self.spec, self.serving
        started = time.perf_counter()
        parsed = serving.parse_request(spec, body, "text/csv")
        parsed_at = time.perf_counter()
        prediction = serving.predict_rows(self.served, spec, parsed)
        predicted_at = time.perf_counter()
        serving.render(spec, prediction, "application/json")
        rendered_at = time.perf_counter()
        return {
            "parse_request": parsed_at - started,
            "predict_rows": predicted_at - parsed_at,
            "render": rendered_at - predicted_at,
        }


class Contest:
    """The contenders on one payload: latency in bursts, taking turns; then throughput in short slices.

    The shared machine's speed changes by up to 2x from one second to the next: taking turns every few
    requests (and every half second for throughput) exposes every contender to the same changes.
    """

    def __init__(
        self,
        servers: dict[str, Served],
        in_process: InProcess,
        payload: str,
        body: bytes,
        expected: list[Any],
    ) -> None:
        self.servers, self.in_process = servers, in_process
        self.payload, self.body, self.expected = payload, body, expected
        self.pools = {name: Pool() for name in servers} | {"floor": Pool()}
        self.steps: dict[str, list[float]] = defaultdict(list)

    def latency(self, seconds: float, core: int) -> None:
        """Bursts of requests (or in-process calls) one at a time, the contenders in a rotating order."""
        contenders = [*self.servers, "floor", "steps"]
        # New connections: an idle keep-alive connection may have been closed (uvicorn's after 5 s).
        clients = {name: Client(served.port) for name, served in self.servers.items()}
        deadline = time.perf_counter() + seconds
        turn = 0
        while time.perf_counter() < deadline:
            shift = turn % len(contenders)  # no contender always follows the same one
            for contender in contenders[shift:] + contenders[:shift]:
                time.sleep(PAUSE)  # whatever the previous contender does after answering, it does alone
                if contender in clients:
                    self._burst(clients[contender], self.pools[contender])
                else:
                    with pinned({core}):
                        self._in_process_burst(contender)
            turn += 1
        for client in clients.values():
            client.close()

    def _burst(self, client: Client, pool: Pool) -> None:
        for request in range(BURST):  # the first is not counted: it warms the caches the others used
            status, answer, seconds = client.post(self.body, HEADERS)
            pool.answer(status, answer, self.expected)
            if request:
                pool.latencies.append(seconds)

    def _in_process_burst(self, contender: str) -> None:
        for request in range(BURST):
            if contender == "floor":
                seconds = self.in_process.floor(self.payload)
                if request:
                    self.pools["floor"].latencies.append(seconds)
                continue
            for step, seconds in self.in_process.steps(self.payload).items():
                if request:
                    self.steps[step].append(seconds)

    def throughput(self, slices: int, seconds: float) -> None:
        """Slices of CONNECTIONS busy connections, the servers taking turns."""
        names = list(self.servers)
        for number in range(slices):
            for name in names[number % len(names) :] + names[: number % len(names)]:
                load = run(
                    self.servers[name].port, self.body, HEADERS, connections=CONNECTIONS, seconds=seconds
                )
                self.pools[name].add_load(load, self.expected)


def alternate(
    servers: dict[str, Served],
    bodies: dict[str, bytes],
    in_process: InProcess,
    expected: dict[str, list[Any]],
    args: argparse.Namespace,
) -> dict[str, Contest]:
    """Every payload's contest, after a warm-up of each server (not measured)."""
    contests: dict[str, Contest] = {}
    for payload, body in bodies.items():
        for served in servers.values():
            run(served.port, body, HEADERS, connections=CONNECTIONS, seconds=args.warmup)
        contest = Contest(servers, in_process, payload, body, expected[payload])
        contest.latency(args.latency_seconds, args.server_core)
        contest.throughput(args.slices, args.slice)
        contests[payload] = contest
        print(
            f"  {payload}: " + "; ".join(_shown(name, pool) for name, pool in contest.pools.items()),
            flush=True,
        )
    return contests


def _shown(name: str, pool: Pool) -> str:
    shown = f"{name} p50 {percentile(pool.latencies, 50) * 1e3:.2f} ms"
    return shown + (f", {pool.answered / pool.loaded_seconds:.1f} req/s" if pool.loaded_seconds else "")


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Train, serve, load the contenders alternately, and assemble the results document."""
    from examples.churn import request_csv
    from tests.trained_model import churn_snapshot, train_model
    from training.mlops_training.contract_io import Signature, feature_matrix

    pin_process(os.getpid(), {args.client_core}, descendants=False)
    problems: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="bench-serving-") as tmp:
        workspace = Path(tmp)
        model_dir = train_model(workspace / "trained")
        signature = Signature.from_dict(json.loads((model_dir / "model_signature.json").read_text()))
        table = churn_snapshot(200, seed=ROWS_SEED).select([f.name for f in signature.features])
        bodies = {n: request_csv(table.slice(0, k)) for n, k in PAYLOADS.items()}
        matrices = {n: feature_matrix(table.slice(0, k), signature.features) for n, k in PAYLOADS.items()}
        in_process = InProcess(model_dir, bodies, matrices)
        expected = {n: in_process.pipeline.predict(m).tolist() for n, m in matrices.items()}
        servers: dict[str, Served] = {}
        try:
            with pinned({args.server_core}):
                servers["ours"] = start_ours(model_dir, workspace, args.server_core)
                try:
                    servers["mlflow"] = start_mlflow(
                        model_dir, workspace, args.server_core, args.mlflow_python
                    )
                except ServerError as error:
                    problems["mlflow"] = str(error)
                    print(f"  MLflow is not measured: {error}", flush=True)
            pin_process(os.getpid(), {args.client_core}, descendants=False)  # threads started meanwhile
            for name, served in servers.items():
                client = Client(served.port)
                for payload, body in bodies.items():
                    status, answer, _ = client.post(body, HEADERS)
                    if status != 200:
                        raise SystemExit(f"{name} answered {status} to {payload}: {answer[:500]!r}")
                client.close()
            contests = alternate(servers, bodies, in_process, expected, args)
        finally:
            for served in servers.values():
                served.stop()
        versions = servers["mlflow"].versions if "mlflow" in servers else {}
    settings = {
        "served_as": in_process.served_as,
        "latency_seconds_per_payload": args.latency_seconds,
        "throughput_slices": args.slices,
        "throughput_slice_seconds": args.slice,
        "throughput_connections": CONNECTIONS,
        "cores": {"servers_and_floor": args.server_core, "client": args.client_core},
    }
    return assemble(contests, problems, versions, settings, (__doc__ or "").strip())


def main(argv: list[str] | None = None) -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    cores = sorted(os.sched_getaffinity(0))
    parser.add_argument("--latency-seconds", type=float, default=20.0, help="per payload")
    parser.add_argument("--slices", type=int, default=20, help="throughput slices per server and payload")
    parser.add_argument("--slice", type=float, default=0.5, help="seconds of one throughput slice")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds per server and payload")
    parser.add_argument("--server-core", type=int, default=cores[-1])
    parser.add_argument("--client-core", type=int, default=cores[0])
    parser.add_argument("--mlflow-python", type=Path, default=MLFLOW_VENV / "bin" / "python")
    parser.add_argument("--out", type=Path, default=RESULTS / "serving.json")
    args = parser.parse_args(argv)
    # One thread, like one core: set before numpy and scikit-learn load in this process (the floor).
    os.environ.update({"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"})
    print(
        f"serving benchmark: per payload, {args.latency_seconds:g} s of requests one at a time and "
        f"{args.slices} throughput slices of {args.slice:g} s per server; servers and floor on core "
        f"{args.server_core}, client on core {args.client_core}",
        flush=True,
    )
    results = measure(args)
    save(results, args.out, report(results))


if __name__ == "__main__":
    main()
