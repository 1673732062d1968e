"""A window of captured traffic: the capture files of its hours, read and split by model version.

Layout (``domain.names.capture_uri_prefix``; SageMaker's data capture and the serverless invocation API
both write it)::

    capture/<dataset>/v<version>/<endpoint>/<variant>/<yyyy>/<mm>/<dd>/<hh>/<mm-ss-mmm>-<uuid>.jsonl

Only the hour folders that can hold the window's records are listed: those of
``[since - FILE_SLACK, until + FILE_SLACK)``, and in them the files whose name's time is in that range.
A file is named by the time it was started, and its records are those buffered around then, so a record
of the window may sit in a file named a little before or after it. The records are then kept by their own
``eventMetadata.inferenceTime`` (:mod:`domain.monitoring.capture_records`).

Folders under ``capture/<dataset>/`` that are not ``v<version>/`` hold captures written before they were
kept per version (``capture/<dataset>/<endpoint>/...``): their records in the window are counted as
unattributed and not scored, since no version can be credited with them.

Entry points: :func:`read_window` (list, read and parse: what the monitor and ``bench/drift.py`` call),
:func:`window_files` (the listing alone) and
:func:`domain.monitoring.capture_records.parse_captures` (parsing bytes already read).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeVar

from domain.monitoring.capture_records import CaptureWindow, parse_captures
from domain.monitoring.columns import CaptureSchema
from domain.names import capture_prefix, capture_version

__all__ = [
    "FILE_SLACK",
    "CaptureSource",
    "CaptureSourceError",
    "WindowFiles",
    "read_window",
    "window_files",
]

#: How far from the window a capture file's name may be and still hold records of it.
FILE_SLACK = timedelta(minutes=5)
#: Parallel listings and reads: S3's latency, not the CPU, bounds them.
READERS = 16

_T = TypeVar("_T")
_R = TypeVar("_R")
_FILE_TIME = re.compile(
    r"(?P<y>\d{4})/(?P<mo>\d{2})/(?P<d>\d{2})/(?P<h>\d{2})/(?P<mi>\d{2})-(?P<s>\d{2})-(?P<ms>\d{3})-[^/]*$"
)


class CaptureSourceError(Exception):
    """The captures cannot be listed or read; the message says which and why."""


class CaptureSource(Protocol):
    """Where the captures are (the data bucket): folders, keys and objects under ``capture/``."""

    def folders(self, prefix: str) -> list[str]:
        """The folders directly under ``prefix`` (each a prefix ending in ``/``)."""
        ...

    def keys(self, prefix: str) -> list[str]:
        """Every key under ``prefix``."""
        ...

    def read(self, key: str) -> bytes:
        """An object's bytes."""
        ...


@dataclass(frozen=True)
class WindowFiles:
    """The capture files that can hold a window's records.

    Attributes
    ----------
    versions : dict of int to list of str
        Per model version, its files' keys.
    unattributed : list of str
        Files outside the versioned layout.
    """

    versions: dict[int, list[str]] = field(default_factory=dict)
    unattributed: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        """Files in all."""
        return sum(map(len, self.versions.values())) + len(self.unattributed)


def window_files(
    source: CaptureSource,
    dataset: str,
    since: datetime,
    until: datetime,
    *,
    pool: ThreadPoolExecutor | None = None,
) -> WindowFiles:
    """List the capture files of ``dataset`` that can hold records of ``[since, until)``.

    Parameters
    ----------
    source : CaptureSource
    dataset : str
    since, until : datetime
        Timezone-aware.
    pool : ThreadPoolExecutor, optional
        Lists the hour folders in parallel.

    Returns
    -------
    WindowFiles
    """
    start, end = since - FILE_SLACK, until + FILE_SLACK
    hours = _hours(start, end)
    variants: list[tuple[int | None, str]] = []
    for top in source.folders(capture_prefix(dataset)):
        version = capture_version(top, dataset)
        endpoints = source.folders(top) if version is not None else [top]
        variants += [(version, variant) for endpoint in endpoints for variant in source.folders(endpoint)]
    folders = [(version, f"{variant}{hour}") for version, variant in variants for hour in hours]
    listed = _map(pool, lambda item: source.keys(item[1]), folders)
    found = WindowFiles()
    for (version, _), keys in zip(folders, listed, strict=True):
        kept = [key for key in keys if _may_hold(key, start, end)]
        if version is None:
            found.unattributed.extend(kept)
        else:
            found.versions.setdefault(version, []).extend(kept)
    return found


def read_window(
    source: CaptureSource,
    dataset: str,
    schema: CaptureSchema,
    since: datetime,
    until: datetime,
    *,
    readers: int = READERS,
    probabilities: bool = False,
) -> CaptureWindow:
    """Read the captured traffic of ``[since, until)``: every version's rows, and what was skipped.

    Parameters
    ----------
    source : CaptureSource
    dataset : str
    schema : CaptureSchema
        The model's features and prediction (:meth:`CaptureSchema.of`).
    since, until : datetime
        Timezone-aware; ``since`` inclusive, ``until`` exclusive.
    readers : int
        Listings and reads in parallel.
    probabilities : bool
        Read each row's class probabilities too (``VersionRows.probabilities``; the feedback join keeps
        them for ``roc_auc`` and ``log_loss``); the drift monitor does not ask for them.

    Returns
    -------
    CaptureWindow

    Raises
    ------
    CaptureSourceError
        From the source, when a folder cannot be listed or a file read.
    """
    with ThreadPoolExecutor(max_workers=max(1, readers)) as pool:
        files = window_files(source, dataset, since, until, pool=pool)
        keys: list[tuple[int | None, str]] = [
            (version, key) for version, found in files.versions.items() for key in found
        ]
        keys += [(None, key) for key in files.unattributed]
        blobs = _map(pool, lambda item: source.read(item[1]), keys)
    return parse_captures(
        [(version, blob) for (version, _), blob in zip(keys, blobs, strict=True)],
        schema,
        since,
        until,
        probabilities=probabilities,
    )


def _map(pool: ThreadPoolExecutor | None, work: Callable[[_T], _R], items: Sequence[_T]) -> list[_R]:
    if pool is None or len(items) < 2:
        return [work(item) for item in items]
    return list(pool.map(work, items))


def _hours(start: datetime, end: datetime) -> list[str]:
    """The hour folders (``yyyy/mm/dd/hh/``, UTC) that meet ``[start, end)``."""
    moment = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    folders = []
    while moment < end:
        folders.append(moment.strftime("%Y/%m/%d/%H/"))
        moment += timedelta(hours=1)
    return folders


def _may_hold(key: str, start: datetime, end: datetime) -> bool:
    """Whether a file named at its time can hold records of ``[start, end)`` (a name without one can)."""
    match = _FILE_TIME.search(key)
    if match is None:
        return True
    try:
        year, month, day, hour, minute, second, millis = (
            int(match[part]) for part in ("y", "mo", "d", "h", "mi", "s", "ms")
        )
        named = datetime(year, month, day, hour, minute, second, millis * 1000, tzinfo=UTC)
    except ValueError:
        return True
    return start <= named < end
