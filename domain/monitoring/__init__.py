"""Drift monitoring: live traffic measured against a model version's baseline."""


class ProfileFormatError(ValueError):
    """A stored baseline profile this code cannot read: another format, a newer version, or broken fields."""
