"""Deployment and serving: endpoint requests and outcomes, deployment requests, runs and the workflow's
states, invocation, capture. The names they give resources are built in ``domain.names``."""
