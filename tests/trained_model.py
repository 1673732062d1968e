"""A model trained by the platform's own training job, in-process, for the tests that serve one.

``train_model(folder)`` validates generated churn rows into a snapshot, splits them with the platform's
splitter and runs ``mlops_training.job.run`` on the channels: ``folder / "model"`` is then what the
job's ``model.tar.gz`` holds (model, signature, contract, ``code/``, evaluation).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from domain.data.contract import DatasetContract, load_contract
from domain.data.validation import validate_dataset
from domain.training.config import parse_training_config
from domain.training.splitting import SPLITS, split_batches
from examples.churn import chunks
from training.mlops_training.environment import JobEnvironment
from training.mlops_training.job import run

ROOT = Path(__file__).resolve().parents[1]


def churn_contract() -> DatasetContract:
    """The example dataset's contract."""
    return load_contract(ROOT / "contracts" / "churn.yaml")


def churn_snapshot(rows: int, seed: int = 11) -> pa.Table:
    """Generated churn rows as the validator's snapshot."""
    upload = io.BytesIO()
    pq.write_table(pa.concat_tables(list(chunks(rows, seed=seed))), upload)
    sink = io.BytesIO()
    result = validate_dataset(lambda: io.BytesIO(upload.getvalue()), churn_contract(), snapshot_sink=sink)
    assert result.accepted, result.report["summary"]
    return pq.read_table(io.BytesIO(sink.getvalue()))


def train_model(folder: Path, *, rows: int = 2_000, training: dict[str, Any] | None = None) -> Path:
    """Train a churn model into ``folder / "model"`` and return that folder."""
    contract = churn_contract()
    config = parse_training_config(training or {"evaluation": {"bootstrap_samples": 20}}, contract=contract)
    for name in (*SPLITS, "config"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    sinks = {name: folder / name / f"{name}.parquet" for name in SPLITS}
    split_batches(churn_snapshot(rows).to_batches(max_chunksize=1_000), contract, config, sinks)
    (folder / "config" / "contract.json").write_text(contract.model_dump_json())
    (folder / "config" / "training.json").write_text(config.model_dump_json())
    environ = {
        "SM_MODEL_DIR": str(folder / "model"),
        "SM_OUTPUT_DATA_DIR": str(folder / "output"),
        "SM_INPUT_CONFIG_DIR": str(folder / "input-config"),
        **{f"SM_CHANNEL_{name.upper()}": str(folder / name) for name in (*SPLITS, "config")},
    }
    run(JobEnvironment.from_environ(environ, []))
    return folder / "model"
