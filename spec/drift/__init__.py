"""Drift statistics: a feature's baseline profile and how far a window of live values has moved from it.

Shared by the training job (which profiles the training data and calibrates the bands) and the drift
monitor (which scores captured traffic against them), so it lives in ``spec``: numpy only.
"""


class ProfileFormatError(ValueError):
    """A stored baseline profile this code cannot read: another format, a newer version, or broken fields."""
