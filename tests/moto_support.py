"""moto in the test's own process, as the unit and adapter tests use it (no server, no network)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from moto import mock_aws

from adapters.aws import client, resource


@contextmanager
def mocked_aws(monkeypatch: pytest.MonkeyPatch, *, state_dir: Path | None = None) -> Iterator[None]:
    """moto with Step Functions executing state machines, and the project's cached clients made anew.

    ``state_dir`` is the CLI's state folder (``MLOPS_STATE_DIR``), so that no local cloud is found.
    """
    for name, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    if state_dir is not None:
        monkeypatch.setenv("MLOPS_STATE_DIR", str(state_dir))
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    client.cache_clear()
    resource.cache_clear()
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield
    client.cache_clear()
    resource.cache_clear()
