"""Preparing a training run: the split channels, the config channel and the champion channel.

The pipeline's first step, free of AWS. Where everything lives in the data bucket:

- ``datasets/<d>/<version>/data.parquet``: the snapshot (written by ingestion);
- ``datasets/<d>/<version>/splits/<fingerprint>/{train,validation,test}/data.parquet`` and
  ``summary.json``: the split, shared by every run of that version with that split configuration. Each
  split has its own folder because each is a SageMaker channel, and a channel is a prefix.
  ``summary.json`` is written last: its presence says the three files are complete, so a later run (or a
  retry) reuses them instead of splitting again;
- ``runs/<d>/<run>/config/{contract.json,training.json}``: what ``training/train.py`` reads; for an
  import run also ``imported.skops``, a server-side copy of ``imports/<d>/<sha256>.skops`` (where
  ``mlops models import`` put it; never modified), which ``training.json``'s ``imported`` names;
- ``runs/<d>/<run>/champion/``: the approved version's ``model.tar.gz``, or ``none.json`` when there is
  none (an S3 channel cannot be empty, and ``train.py`` reads the marker as "no champion").
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from domain.data.contract import DatasetContract
from domain.names import import_key, training_job_name
from domain.registry import ModelRegistry
from domain.state_limits import cap_list, cap_text
from domain.training.artifacts import ArtifactMissingError, ArtifactStore, PreparedRun, run_prefix
from domain.training.champion import champion
from domain.training.config import TrainingConfig
from domain.training.runs import ImportedModel, RunRequest
from domain.training.splitting import SPLITS, SplitError, split_batches

__all__ = [
    "IMPORTED_FILE",
    "ImportedModelMissingError",
    "SplitRejectedError",
    "prepare_run",
    "problems_in_brief",
    "split_prefix",
    "summary_digest",
]

NO_CHAMPION = {"champion": None, "reason": "no approved version"}
IMPORTED_FILE = "imported.skops"  # the imported model's name in the config channel
BATCH_ROWS = 65_536
# A workflow state holds at most 256 KiB (Step Functions' quota; States.DataLimitExceeded cannot be
# caught by States.ALL): what this step returns and raises is bounded, the rest stays in S3.
MAX_PROBLEMS_SHOWN = 10
MAX_PROBLEM_CHARS = 200  # each: a message of ten fits an error's cause with room to spare


class SplitRejectedError(Exception):
    """The snapshot cannot be split into usable train, validation and test sets.

    The name is part of the pipeline's contract: the state machine catches this error by name.
    """


class ImportedModelMissingError(Exception):
    """An import run's skops file is not where ``mlops models import`` puts it (the message: what to do)."""


def summary_digest(document: Mapping[str, Any], summary_uri: str, *, classification: bool) -> dict[str, Any]:
    """What the pipeline passes on of a split summary: its size bounded, whatever the target holds.

    Parameters
    ----------
    document : mapping
        ``SplitSummary.to_dict()`` (``summary.json``): its per-class counts grow with the classes.
    summary_uri : str
        Where the whole summary is.
    classification : bool
        Whether the target holds class counts (else a count and a mean per split).

    Returns
    -------
    dict
        ``rows``, ``dropped_null_target``, ``key_column``, ``fingerprint``, ``classes`` (how many
        distinct target values; None for regression) and ``summary_uri``.
    """
    target: Mapping[str, Mapping[str, Any]] = document.get("target") or {}
    classes = len({c for per_split in target.values() for c in per_split}) if classification else None
    return {
        "rows": dict(document.get("rows") or {}),
        "dropped_null_target": document.get("dropped_null_target", 0),
        "key_column": document.get("key_column"),
        "fingerprint": document.get("fingerprint", ""),
        "classes": classes,
        "summary_uri": summary_uri,
    }


def problems_in_brief(reasons: list[str]) -> str:
    """The reasons a split is unusable, in one message of bounded size (the first few, then a count)."""
    shown = [cap_text(reason, MAX_PROBLEM_CHARS) for reason in reasons]
    more = cap_list(shown, lambda n: f"And {n} more problems of the same kinds.", MAX_PROBLEMS_SHOWN)
    return " ".join(more)


def split_prefix(dataset: str, version: str, fingerprint: str) -> str:
    """Where a version's split (by this split configuration) lives."""
    return f"datasets/{dataset}/{version}/splits/{fingerprint}/"


def _split(
    run: RunRequest,
    contract: DatasetContract,
    config: TrainingConfig,
    store: ArtifactStore,
    scratch: Path,
    prefix: str,
) -> dict[str, Any]:
    """Split the snapshot, read by ranges from S3, and upload the three files and the summary.

    Only the split files are in ``scratch`` (about the snapshot's size in all): the snapshot is never
    copied there. Validation holds a snapshot twice in its own storage (at most 10,240 MB), so a
    snapshot has at most half of that, and its splits fit in the prepare function's 10,240 MB with as
    much again to spare.
    """
    snapshot = store.uri(f"datasets/{run.dataset}/{run.dataset_version}/data.parquet")
    sinks = {name: scratch / f"{name}.parquet" for name in SPLITS}
    try:
        with store.open_ranged(snapshot) as stream, pq.ParquetFile(stream) as source:
            summary = split_batches(source.iter_batches(batch_size=BATCH_ROWS), contract, config, sinks)
    except SplitError as error:
        raise SplitRejectedError(problems_in_brief(error.reasons)) from error
    for name, path in sinks.items():
        store.upload(path, f"{prefix}{name}/data.parquet", "application/vnd.apache.parquet")
        path.unlink()
    document = summary.to_dict()
    store.put_json(prefix + "summary.json", document)  # last: the split is complete
    return document


def prepare_run(
    run: RunRequest,
    *,
    contract: DatasetContract,
    config: TrainingConfig,
    group: str,
    store: ArtifactStore,
    champions: ModelRegistry,
    scratch: Path,
) -> PreparedRun:
    """Write the training job's channels for one run, reusing a split made before.

    Parameters
    ----------
    run : RunRequest
        The execution's input.
    contract, config : DatasetContract, TrainingConfig
        The dataset's contract and resolved training configuration.
    group : str
        The dataset's model package group (where its champion is).
    store, champions : ArtifactStore, ModelRegistry
        The adapters (the registry holds the champion's candidates).
    scratch : Path
        A local folder for the snapshot and the split files.

    Returns
    -------
    PreparedRun

    Raises
    ------
    SplitRejectedError
        The snapshot cannot be split into usable sets (the reasons are the message).
    ArtifactMissingError
        The snapshot does not exist.
    ImportedModelMissingError
        An import run's file is not under ``imports/`` (:func:`domain.names.import_key`).
    """
    runs = run_prefix(run.dataset, run.name)
    training = config.model_dump(mode="json")
    if run.imported is not None:
        # First: a missing file fails the run before any split is made for it.
        training["imported"] = _copy_imported(run.dataset, run.imported, store, runs + "config/")
    prefix = split_prefix(run.dataset, run.dataset_version, config.split.fingerprint)
    summary = store.read_json(store.uri(prefix + "summary.json"))
    if summary is None:
        summary = _split(run, contract, config, store, scratch, prefix)
    store.put_json(runs + "config/contract.json", contract.model_dump(mode="json"))
    store.put_json(runs + "config/training.json", training)
    found = champion(champions.approved_newest_first(group))
    champion_url = found.model_data_url if found is not None else None
    if not champion_url:
        store.put_json(runs + "champion/none.json", NO_CHAMPION)
    else:
        store.copy(champion_url, runs + "champion/model.tar.gz")
    return PreparedRun(
        train_uri=store.uri(prefix + "train/"),
        validation_uri=store.uri(prefix + "validation/"),
        test_uri=store.uri(prefix + "test/"),
        config_uri=store.uri(runs + "config/"),
        champion_uri=store.uri(runs + "champion/"),
        output_uri=store.uri(runs + "training/"),
        training_job_name=training_job_name(run),
        champion=bool(champion_url),
        summary=summary_digest(
            summary, store.uri(prefix + "summary.json"), classification=config.task == "classification"
        ),
    )


def _copy_imported(
    dataset: str, imported: ImportedModel, store: ArtifactStore, config: str
) -> dict[str, str]:
    """Copy the imported file into the config channel (server-side); ``training.json``'s ``imported``."""
    key = import_key(dataset, imported.sha256)
    try:
        store.copy(store.uri(key), config + IMPORTED_FILE)
    except ArtifactMissingError:
        raise ImportedModelMissingError(
            f"the imported model {imported.name} (sha256 {imported.sha256[:16]}) is not at {store.uri(key)}, "
            f"where `mlops models import` uploads it before it starts the run: import the file again with "
            f"`mlops models import {shlex.quote(imported.name)} --dataset {dataset}`"
        ) from None
    return {"file": IMPORTED_FILE, **imported.document()}
