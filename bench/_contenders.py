"""One benchmark run in a fresh process: ``python bench/_contenders.py CONTENDER FILE OUT.json [CORE]``.

Each run gets its own process so that peak memory (``ru_maxrss``) belongs to that contender alone. The
process pins itself to one core and one thread before importing anything heavy, like a Lambda function
with 1,769 MB (one vCPU).
"""

from __future__ import annotations

import os
import sys

# Threads first: these must be set before numpy / pyarrow / pandas are imported.
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_name] = "1"

import importlib.abc  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CONTRACT = ROOT / "contracts" / "churn.yaml"


class _NoPandas(importlib.abc.MetaPathFinder):
    """Make pandas unimportable, as in the validation Lambda (which does not ship it).

    pyarrow imports pandas lazily the first time it builds an array if pandas is installed; in the
    benchmark's virtualenv it is (for the baseline), which would charge the validator ~0.3 s and
    ~60 MB that the Lambda never pays.
    """

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name == "pandas" or name.startswith("pandas."):
            raise ModuleNotFoundError(f"No module named {name!r} (hidden: the Lambda has no pandas)")


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _high_water_mb() -> float | None:
    """VmHWM, the peak RSS of this process image alone (a cross-check of ru_maxrss)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _pin(core: int) -> None:
    os.sched_setaffinity(0, {core})


def _single_threaded_arrow() -> None:
    import pyarrow as pa

    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)


def validator(path: Path, out: dict[str, Any], *, snapshot: bool = False) -> None:
    """The project's validator: hashing, checks and profile (and the snapshot if asked)."""
    import tempfile

    from domain.data.contract import load_contract
    from domain.data.validation import validate_dataset

    contract = load_contract(CONTRACT)
    with tempfile.TemporaryFile(dir=path.parent) as sink:
        start = time.perf_counter()
        result = validate_dataset(lambda: path.open("rb"), contract, snapshot_sink=sink if snapshot else None)
        out["seconds"] = time.perf_counter() - start
        out["snapshot_bytes"] = sink.tell() if snapshot else None
    out["rows"] = result.rows
    out["accepted"] = result.accepted
    out["result"] = {"findings": result.findings, "profile": result.profile}


def baseline(path: Path, out: dict[str, Any]) -> None:
    """pandas + pandera + a pandas profile."""
    sys.path.insert(0, str(ROOT / "bench"))
    import warnings

    from _baseline import run

    from domain.data.contract import load_contract

    contract = load_contract(CONTRACT)
    warnings.simplefilter("ignore")
    start = time.perf_counter()
    result = run(path, contract)
    out["seconds"] = time.perf_counter() - start
    out["rows"] = result["rows"]
    out["result"] = result


def floor(path: Path, out: dict[str, Any], *, default_options: bool = False) -> None:
    """pyarrow's streaming reader parsing the file and doing nothing else.

    By default with the validator's own options (explicit column types from the contract, 1 MiB
    blocks, one thread): the strictest floor. ``default_options`` uses pyarrow's defaults (type
    inference), the floor the issue measured at 114 MB/s.
    """
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from domain.data.contract import load_contract
    from domain.data.validation.convert import read_type
    from domain.data.validation.csv_reader import BLOCK_SIZE

    contract = load_contract(CONTRACT)
    rows = 0
    start = time.perf_counter()
    if path.suffix == ".parquet":
        for batch in pq.ParquetFile(path).iter_batches(batch_size=128 * 1024, use_threads=False):
            rows += batch.num_rows
    else:
        read = pacsv.ReadOptions(use_threads=False, block_size=BLOCK_SIZE)
        convert = None
        if not default_options:
            convert = pacsv.ConvertOptions(
                column_types={c.name: read_type(c) for c in contract.columns},
                null_values=contract.csv.null_values,
                strings_can_be_null=True,
                check_utf8=False,
            )
        with path.open("rb") as stream:
            for batch in pacsv.open_csv(stream, read_options=read, convert_options=convert):
                rows += batch.num_rows
    out["seconds"] = time.perf_counter() - start
    out["rows"] = rows


LAMBDA_ENVIRONMENT = {
    "LAMBDA_TASK_ROOT": str(ROOT),
    "AWS_LAMBDA_FUNCTION_NAME": "dataset-validation",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1769",
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.14",
    "AWS_REGION": "us-east-1",
    "DATA_BUCKET": "bench",
    "CATALOG_TABLE": "bench",
    "EVENT_BUS_NAME": "bench",
    "ALERTS_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:bench",
}


def import_time(module: str, out: dict[str, Any]) -> None:
    """Seconds to import a module in this fresh process (a Lambda cold start's import phase)."""
    import importlib

    sys.path.insert(0, str(ROOT))  # the Lambda's code root: handler modules import domain.* from there
    # What Lambda sets in every execution environment. The X-Ray SDK (loaded by Powertools' Tracer)
    # looks at LAMBDA_TASK_ROOT: outside Lambda it creates a botocore X-Ray client for centralised
    # sampling at import (about 0.13 s), inside Lambda it samples locally and creates none.
    os.environ.update(LAMBDA_ENVIRONMENT)
    start = time.perf_counter()
    if module == "powertools":
        from aws_lambda_powertools import Logger, Metrics, Tracer

        # Instantiated like module-level singletons in a handler: Tracer() is what loads the X-Ray SDK.
        Logger(), Metrics(namespace="bench"), Tracer()
    elif module == "fallback":
        # The handler's import chain without the handler itself.
        import boto3  # noqa: F401
        from aws_lambda_powertools import Logger, Metrics, Tracer

        import domain.data.validation  # noqa: F401

        Logger(), Metrics(namespace="bench"), Tracer()
    else:
        importlib.import_module(module)
    out["seconds"] = time.perf_counter() - start


def main() -> None:
    """Run the contender named on the command line and write its measurements as JSON."""
    name, file, target = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    _pin(int(sys.argv[4]) if len(sys.argv) > 4 else max(os.sched_getaffinity(0)))
    out: dict[str, Any] = {"contender": name, "file": str(file)}
    runners: dict[str, Callable[[], None]] = {
        "validator": lambda: validator(file, out),
        "validator_snapshot": lambda: validator(file, out, snapshot=True),
        "baseline": lambda: baseline(file, out),
        "floor": lambda: floor(file, out),
        "floor_default": lambda: floor(file, out, default_options=True),
        "import_boto3": lambda: import_time("boto3", out),
        "import_handler": lambda: import_time("lambdas.dataset_validation.handler", out),
        "import_fallback": lambda: import_time("fallback", out),
        "import_domain_validation": lambda: import_time("domain.data.validation", out),
        "import_powertools": lambda: import_time("powertools", out),
    }
    if name.startswith(("validator", "floor", "import")):
        sys.meta_path.insert(0, _NoPandas())
    if not name.startswith("import"):
        sys.path.insert(0, str(ROOT))
        _single_threaded_arrow()
    runners[name]()
    out["peak_rss_mb"] = _peak_rss_mb()
    out["vm_hwm_mb"] = _high_water_mb()
    target.write_text(json.dumps(out))


if __name__ == "__main__":
    main()
