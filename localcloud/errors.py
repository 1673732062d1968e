"""The local cloud's exceptions, importable without importing moto."""

from __future__ import annotations


class LocalCloudError(Exception):
    """The local cloud could not do what was asked (not started, still busy, unreachable...)."""


class DaemonError(LocalCloudError):
    """The daemon could not be started, reached or stopped; the message says what to look at."""
