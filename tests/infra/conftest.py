"""The data stack's template, synthesized once per session with ``cdk.json`` as it is."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import CloudAssembly


@pytest.fixture(scope="module")
def template(cloud_assembly: CloudAssembly) -> dict[str, Any]:
    return cloud_assembly.template("mlops-data")
