"""The IAM evaluator's own errors."""

from __future__ import annotations


class PolicyError(ValueError):
    """A policy document that AWS would refuse as malformed; the message says which element and why."""
