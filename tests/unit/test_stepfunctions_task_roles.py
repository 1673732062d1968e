"""Every client moto's Step Functions interpreter makes is one that task_roles replaces."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from localcloud.stepfunctions.task_roles import CLIENT_MODULES


def _modules_importing_boto_client_for() -> set[str]:
    spec = importlib.util.find_spec("moto.stepfunctions.parser")
    assert spec is not None and spec.submodule_search_locations
    root = Path(next(iter(spec.submodule_search_locations)))
    found = set()
    for source in root.rglob("*.py"):
        if "import boto_client_for" in source.read_text(encoding="utf-8"):
            relative = source.relative_to(root.parent).with_suffix("")
            found.add("moto.stepfunctions." + ".".join(relative.parts))
    return found


def test_every_module_of_moto_that_imports_the_client_factory_is_patched() -> None:
    # Given the modules of moto's interpreter that bound boto_client_for by name
    importing = _modules_importing_boto_client_for()

    # Then task_roles replaces the binding in each (a new moto module would call as "ak", unchecked)
    missing = importing - set(CLIENT_MODULES)
    assert not missing, f"add these to localcloud.stepfunctions.task_roles.CLIENT_MODULES: {sorted(missing)}"
    assert "localcloud.stepfunctions.sagemaker_task" in CLIENT_MODULES
