"""Replacing moto's behaviour where it lacks what the local cloud needs, reversibly.

moto's models are process-wide, so its gaps are filled by replacing a few attributes of its classes
and modules. Each capability module declares its replacements as ``Patch`` objects; ``install`` swaps
them in while a local cloud runs and ``uninstall`` puts moto's originals back, so a test that uses
plain ``mock_aws`` after a local cloud stopped gets plain moto.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from localcloud.errors import LocalCloudError


@dataclass(frozen=True)
class Patch:
    """Replace ``owner.name`` (a class or module attribute) with ``replacement``."""

    owner: Any
    name: str
    replacement: Any


_LOCK = threading.Lock()
_originals: list[tuple[Patch, Any, bool]] = []


def install(patches: Iterable[Patch]) -> None:
    """Swap in ``patches``; raises if patches are already installed (one local cloud per process)."""
    with _LOCK:
        if _originals:
            raise LocalCloudError(
                "a local cloud is already running in this process, and moto's state is per process: stop "
                "it first (in tests, a fixture holding one should be module- or package-scoped, not session)"
            )
        for patch in patches:
            existed = patch.name in vars(patch.owner)
            _originals.append((patch, vars(patch.owner).get(patch.name), existed))
            setattr(patch.owner, patch.name, patch.replacement)


def uninstall() -> None:
    """Restore every attribute replaced by ``install``."""
    with _LOCK:
        for patch, original, existed in reversed(_originals):
            if existed:
                setattr(patch.owner, patch.name, original)
            else:
                delattr(patch.owner, patch.name)
        _originals.clear()
