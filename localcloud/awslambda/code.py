"""The deployed code of a function, unpacked once per content hash: the local ``/var/task``.

The bytes come from what was deployed (moto keeps the zip of every function), never from the source
tree, so what runs locally is the synthesized asset that ``cdk deploy`` would upload.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import threading
import uuid
import zipfile
from pathlib import Path


class CodeCache:
    """Unpacks function archives into ``root/<sha256>/``, safely across threads.

    Parameters
    ----------
    root : Path
        The cache folder (under the local cloud's work dir).
    """

    def __init__(self, root: Path) -> None:
        self._root = root
        self._lock = threading.Lock()

    def task_root(self, code: bytes) -> Path:
        """The folder holding the unpacked ``code`` archive, unpacking it on first use.

        Raises
        ------
        zipfile.BadZipFile
            If ``code`` is not a zip archive.
        """
        digest = hashlib.sha256(code).hexdigest()
        target = self._root / digest
        with self._lock:
            if target.is_dir():
                return target
            # Unpack beside the target and rename: a half-written folder is never taken for code.
            staging = self._root / f".{digest}.{uuid.uuid4().hex}"
            staging.mkdir(parents=True)
            try:
                with zipfile.ZipFile(io.BytesIO(code)) as archive:
                    archive.extractall(staging)
                staging.rename(target)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        return target
