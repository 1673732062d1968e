"""A tiny training script for the local cloud's tests, written to SageMaker's container contract.

``--mode`` picks what it does: ``fit`` reads every CSV of the ``train`` channel and writes a "model"
(row and column counts, and what the container showed it) to the model dir; ``fail`` writes the
failure file and exits 1; ``crash`` raises (no failure file: the reason comes from stderr); ``sleep``
sleeps past any short ``MaxRuntimeInSeconds``, saving a checkpoint of its model first; ``connect`` opens
a TCP connection to the URL in ``--message`` and writes whether it could to the model dir.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import socket
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

from helpers import describe_environment


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", default="fit")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--message", default="")
    return parser.parse_args(argv)


def fit(model_dir: Path, train_dir: Path, output_dir: Path, epochs: int) -> None:
    rows, columns = 0, 0
    for path in sorted(train_dir.rglob("*.csv")):
        with path.open(newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            columns = len(header)
            rows += sum(1 for _ in reader)
    for epoch in range(epochs):
        print(f"epoch={epoch} loss={1.0 / (epoch + 1):.4f}")
    print(f"validation:accuracy={0.75 + rows / 1000:.4f}")
    (model_dir / "model.json").write_text(json.dumps({"rows": rows, "columns": columns, "epochs": epochs}))
    (model_dir / "environment.json").write_text(json.dumps(describe_environment(sys.argv[1:])))
    (output_dir / "report.txt").write_text(f"trained on {rows} rows\n")


def fail(message: str) -> None:
    failure_file = Path(os.environ.get("MLOPS_FAILURE_FILE", "/opt/ml/output/failure"))
    failure_file.write_text(message)
    print("giving up", file=sys.stderr)
    sys.exit(1)


def sleep(model_dir: Path) -> None:
    (model_dir / "checkpoint.json").write_text(json.dumps({"saved": "before the deadline"}))
    print("sleeping", flush=True)
    time.sleep(60)


def connect(model_dir: Path, url: str) -> None:
    address = urlparse(url)
    try:
        with socket.create_connection((address.hostname, address.port), timeout=5):
            outcome = {"reached": True, "error": None}
    except OSError as error:
        outcome = {"reached": False, "error": str(error)}
    (model_dir / "connection.json").write_text(json.dumps(outcome))


def main() -> None:
    args = parse_args(sys.argv[1:])
    model_dir = Path(os.environ["SM_MODEL_DIR"])
    if args.mode == "fit":
        fit(
            model_dir,
            Path(os.environ["SM_CHANNEL_TRAIN"]),
            Path(os.environ["SM_OUTPUT_DATA_DIR"]),
            args.epochs,
        )
    elif args.mode == "fail":
        fail(args.message)
    elif args.mode == "crash":
        raise RuntimeError(f"the fixture crashed: {args.message}")
    elif args.mode == "sleep":
        sleep(model_dir)
    elif args.mode == "connect":
        connect(model_dir, args.message)


if __name__ == "__main__":
    main()
