"""Drift monitoring: live traffic measured against a model version's baseline."""
