"""Each function's environment is what its handler reads: no variable set for a setting nobody reads.

A handler declares its environment as a pydantic model (its class of ``adapters/function_settings.py``,
which ships in its asset; ``adapters.environment`` reads it). A variable the
construct sets that the handler never reads is a value kept in step for nothing (and, for an ARN, a
reader that the role does not need); a setting the handler requires that the construct does not set
fails at the first invocation. The handler is read from the function's own code asset, so the test
follows every function the app has without a list of them.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CloudAssembly
from tests.infra.template_support import asset_dir

pytestmark = pytest.mark.slow

# Powertools' own settings (service name, metrics namespace, log level), read by the library itself.
_LIBRARY_PREFIX = "POWERTOOLS_"


@dataclass(frozen=True)
class DeclaredSettings:
    """What a handler's settings model declares, and which of its fields the handler module reads."""

    required: frozenset[str]
    optional: frozenset[str]
    read: frozenset[str]


def declared_settings(source: str, settings_source: str) -> DeclaredSettings:
    """The fields of a handler's settings model, and those the handler's source reads as an attribute.

    The model is the class of ``settings_source`` (``adapters/function_settings.py``) that the handler
    names in ``LambdaFunction(<model>, __file__)``.
    """
    module = ast.parse(source)
    named = [
        node.args[0].id
        for node in ast.walk(module)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "LambdaFunction"
        and node.args and isinstance(node.args[0], ast.Name)
    ]  # fmt: skip
    found = ast.parse(settings_source).body if named else []
    classes = [n for n in found if isinstance(n, ast.ClassDef) and n.name == named[0]]
    if not classes:
        return DeclaredSettings(required=frozenset(), optional=frozenset(), read=frozenset())
    (settings,) = classes
    fields = [n for n in settings.body if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)]
    names = {f.target.id for f in fields if isinstance(f.target, ast.Name)}
    optional = {f.target.id for f in fields if isinstance(f.target, ast.Name) and f.value is not None}
    read = {
        node.attr
        for node in ast.walk(module)
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load) and node.attr in names
    }
    return DeclaredSettings(
        required=frozenset(names - optional), optional=frozenset(optional), read=frozenset(read)
    )


def _functions(assembly: CloudAssembly) -> list[tuple[str, dict[str, str], Path | None]]:
    """Each function of every stack: its logical id, environment variables and code asset's folder
    (None for code inlined in the template, as CDK does for some of its own functions)."""
    found = []
    for stack, template in assembly.templates.items():
        for name, resource in template["Resources"].items():
            if resource["Type"] != "AWS::Lambda::Function":
                continue
            properties: dict[str, Any] = resource["Properties"]
            variables = properties.get("Environment", {}).get("Variables", {})
            key = properties["Code"].get("S3Key")
            code = asset_dir(assembly.directory, key) if isinstance(key, str) else None
            found.append((f"{stack}/{name}", dict(variables), code))
    return found


@pytest.fixture(params=["cloud_assembly", "serverless_assembly"])
def assembly(request: pytest.FixtureRequest) -> CloudAssembly:
    """The app as ``cdk.json`` has it, and with a serverless dataset (which adds the serving API)."""
    value: CloudAssembly = request.getfixturevalue(request.param)
    return value


def test_every_variable_a_function_is_given_is_a_setting_its_handler_reads(assembly: CloudAssembly) -> None:
    # Given every function of the synthesized app, with its handler as deployed
    functions = _functions(assembly)
    assert functions

    for function, variables, code in functions:
        ours = {v for v in variables if not v.startswith(_LIBRARY_PREFIX)}
        handler = None if code is None else code / "handler.py"
        if handler is None or not handler.is_file():
            # Not one of lambdas/<function>/ (a function CDK adds, such as a custom resource's)
            assert not ours, f"{function} is given {sorted(ours)} and has no handler.py"
            continue
        # When its handler's Settings are read from the code asset
        models = handler.parent / "adapters" / "function_settings.py"
        settings = declared_settings(
            handler.read_text(encoding="utf-8"),
            models.read_text(encoding="utf-8") if models.is_file() else "",
        )
        fields = settings.required | settings.optional

        # Then each variable names a declared field the handler reads, and each required field is set
        names = {v.lower() for v in ours}
        assert names <= fields, f"{function} is given {sorted(names - fields)}, not in its Settings"
        assert names <= settings.read, f"{function} is given {sorted(names - settings.read)}, never read"
        assert settings.required <= names, f"{function} lacks {sorted(settings.required - names)}"


def test_a_setting_declared_and_never_read_is_found() -> None:
    # Given a handler that declares two settings and reads one of them
    models = (
        "class Settings(BaseModel):\n"
        "    data_bucket: str\n"
        "    alerts_topic_arn: str\n"
        "    prefix: str = ''\n"
    )  # fmt: skip
    source = (
        "function = LambdaFunction(Settings, __file__)\n"
        "def handler():\n"
        "    return function.settings().data_bucket\n"
    )

    # When its settings are read
    settings = declared_settings(source, models)

    # Then the unread one is not among those read, and the one with a default is optional
    assert settings.read == {"data_bucket"}
    assert settings.required == {"data_bucket", "alerts_topic_arn"}
    assert settings.optional == {"prefix"}


def test_a_handler_s_settings_are_found_in_the_settings_module_it_names() -> None:
    # Given a handler whose model is a class of adapters/function_settings.py, one of two there
    models = (
        "class GateSettings(BaseModel):\n"
        "    data_bucket: str\n"
        "    unused: str\n"
        "class OtherSettings(BaseModel):\n"
        "    state_machine_arn: str\n"
    )
    source = (
        "function = LambdaFunction(GateSettings, __file__)\n"
        "store = function.adapter(lambda s: Store(s.data_bucket))\n"
    )

    # When its settings are read
    settings = declared_settings(source, models)

    # Then they are the named class's fields, and those the handler reads are found
    assert settings.required == {"data_bucket", "unused"}
    assert settings.read == {"data_bucket"}
