"""Tests that unpack wheels or import code of their own: what they change in the process, undone after."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def isolated_imports(monkeypatch: pytest.MonkeyPatch, temp: Path | None = None) -> Iterator[None]:
    """``sys.path`` and the modules imported meanwhile as they were before, after; with ``temp``, the
    temporary directory there (where wheels are unpacked)."""
    if temp is not None:
        temp.mkdir()
        monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.setattr(sys, "path", list(sys.path))
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        del sys.modules[name]
