"""Deployment and serving: endpoint names and requests, deployment requests and runs, invocation, capture."""
