"""Whether a file is a skops archive, the only form in which the platform accepts a model trained elsewhere.

A pickle (what ``pickle.dump`` and ``joblib.dump`` write, compressed or not) runs whatever code it holds
when it is loaded, so one from outside is never loaded; a skops file is a zip archive holding
``schema.json``, read without running code. One copy of the rule, for ``mlops models import`` (which
refuses a file before uploading it) and for the training job (which refuses it again before loading it).
Standard library only: ``spec/`` ships in the training job's source directory.
"""

from __future__ import annotations

import json
import zipfile
import zlib
from pathlib import Path

__all__ = ["SAVE_WITH_SKOPS", "SKOPS_SCHEMA", "skops_file_problem"]

SKOPS_SCHEMA = "schema.json"  # every skops file is a zip archive holding it
SAVE_WITH_SKOPS = 'save the estimator with skops.io.dump(estimator, "model.skops") and import that file'
_PICKLE_PROTOCOL_2_TO_5 = b"\x80"
# How joblib.dump(..., compress=...) starts a compressed pickle, by compressor (joblib's compressor.py).
_COMPRESSED = {
    b"\x1f\x8b": "gzip",
    b"BZh": "bz2",
    b"\xfd7zXZ\x00": "xz",
    b"\x5d\x00\x00": "lzma",
    b"\x04\x22\x4d\x18": "lz4",
    b"ZF": "zlib (joblib's own)",
    b"\x78\x01": "zlib",
    b"\x78\x5e": "zlib",
    b"\x78\x9c": "zlib",
    b"\x78\xda": "zlib",
}


def skops_file_problem(path: Path, name: str) -> str | None:
    """What keeps the file at ``path`` from being a skops archive, in words for its owner; None if nothing.

    Parameters
    ----------
    path : Path
        The file.
    name : str
        How messages call it (its original name).

    Returns
    -------
    str or None
        ``"<name> is a pickle ..."``, ``"... is empty"``, ``"... a zip archive without schema.json"``, and
        the like, each ending with how to save a skops file; None for a zip archive whose ``schema.json``
        is a JSON object.
    """
    with path.open("rb") as file:
        start = file.read(8)
    if not start:
        return f"{name} is empty: {SAVE_WITH_SKOPS}"
    if start.startswith(_PICKLE_PROTOCOL_2_TO_5):
        return (
            f"{name} is a pickle (what pickle.dump and joblib.dump write): loading one runs whatever code it "
            f"holds, so the platform never loads a pickle from outside; {SAVE_WITH_SKOPS}"
        )
    compressed = next((kind for magic, kind in _COMPRESSED.items() if start.startswith(magic)), None)
    if compressed is not None:
        return (
            f"{name} is {compressed}-compressed, as joblib.dump(..., compress=...) writes a pickle: the "
            f"platform never loads a pickle from outside; {SAVE_WITH_SKOPS}"
        )
    if not zipfile.is_zipfile(path):
        return f"{name} is not a skops file (a zip archive holding {SKOPS_SCHEMA}); {SAVE_WITH_SKOPS}"
    try:
        with zipfile.ZipFile(path) as archive:
            if SKOPS_SCHEMA not in archive.namelist():
                return (
                    f"{name} is a zip archive without {SKOPS_SCHEMA}, so not a skops file; {SAVE_WITH_SKOPS}"
                )
            schema = json.loads(archive.read(SKOPS_SCHEMA))
    except (zipfile.BadZipFile, ValueError, OSError, RuntimeError, zlib.error):
        schema = None
    if not isinstance(schema, dict):
        return f"{name}'s {SKOPS_SCHEMA} is not a skops schema (a JSON object); {SAVE_WITH_SKOPS}"
    return None
