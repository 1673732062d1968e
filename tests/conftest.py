"""Fixtures shared by every tier: the synthesized app (synthesized once per test session)."""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# The end-to-end tests' local clouds (one per module) add up to one least-privilege report, saved under one
# session id. Set here, in the environment, because this file is loaded before `make test` starts its
# workers (pytest-xdist), which inherit it; and because pytest imports tests/e2e/conftest.py twice (as
# `conftest` and as `tests.e2e.conftest`), each of which would otherwise make an id of its own.
ACCESS_SESSION = "MLOPS_E2E_ACCESS_SESSION"
os.environ.setdefault(ACCESS_SESSION, uuid.uuid4().hex)

# The CLI's rich consoles (cli/common.py, made when a test module imports the CLI) keep the size they find in
# COLUMNS and LINES when made, for good; pytest-xdist's workers get COLUMNS=80 and LINES=24, and a shell may
# export them. Without them the consoles read COLUMNS at each print, which is what the CLI tests set
# (CliRunner's env) to see a table whole. Removed here, before any test module is imported.
for _size in ("COLUMNS", "LINES"):
    os.environ.pop(_size, None)


@dataclass(frozen=True)
class CloudAssembly:
    """The synthesized app: its folder and its templates by stack name."""

    directory: Path
    templates: dict[str, dict[str, Any]]

    def template(self, stack: str) -> dict[str, Any]:
        """One stack's CloudFormation template."""
        return self.templates[stack]


@pytest.fixture(scope="session")
def cloud_assembly(tmp_path_factory: pytest.TempPathFactory) -> CloudAssembly:
    """The project's app, synthesized with ``cdk.json`` as it is (cdk-nag runs: a finding fails here)."""
    from stacks.app import build_app

    outdir = tmp_path_factory.mktemp("cdk.out")
    assembly = build_app(outdir=str(outdir)).synth()
    templates = {stack.stack_name: stack.template for stack in assembly.stacks}
    return CloudAssembly(directory=Path(assembly.directory), templates=templates)


def read_json(path: Path) -> Any:
    """A JSON file's content."""
    return json.loads(path.read_text(encoding="utf-8"))
