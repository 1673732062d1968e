"""Drift monitoring: live traffic measured against the baseline of the model version that served it."""
