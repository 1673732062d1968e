"""A tiny CDK app and helpers for the local cloud's integration tests."""
