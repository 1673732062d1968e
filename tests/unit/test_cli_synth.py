"""``mlops local up`` synthesizes on the project's node and prints only what its output says is wrong.

Outside ``make``, jsii took the system's node 20, end-of-life for it, and its banner came out as Python
bytes ahead of the error, whose ``[a-z]`` rich then took for markup.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cli import synth
from cli.main import app
from cli.synth import SynthError, failure, readable_output, synth_environment

PATTERN_ERROR = (
    "Invalid configuration:\n"
    "mlops.datasets.Bad_Name.contract: contracts/bad.yaml: name: String should match pattern "
    "'^[a-z][a-z0-9-]{1,62}$'"
)
# What `python app.py` wrote on node 20 (jsii relays node's non-protocol lines as bytes literals).
BANNER = (
    r"b'!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n'" "\n"
    r"b'!!                                                                                       !!\n'" "\n"
    r"b'!!  Node 20 is end-of-life and not supported anymore by this software since 2026-10-30.  !!\n'" "\n"
    r"b'!!  This software is currently running on node v20.20.2.                                 !!\n'" "\n"
    r"b'!!  - ^22.0.0 (Planned end-of-life: 2027-04-30)                                          !!\n'" "\n"
    r"b'!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n'" "\n"
)  # fmt: skip
JSII_TRACEBACK = """\
jsii.errors.JavaScriptError:
  Error: There is already a Construct with name 'S' in App
      at Node.addChild (/tmp/jsii-kernel-14PmUW/node_modules/constructs/lib/construct.js:466:19)
      at Kernel.create (/tmp/tmpqbpkj3t1/lib/program.js:1:53537)

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "/work/main/app.py", line 11, in <module>
    build_app().synth()
  File "/work/main/.venv/lib/python3.11/site-packages/jsii/_kernel/providers/process.py", line 359, in send
    raise RuntimeError(resp.error) from JavaScriptError(resp.stack)
RuntimeError: There is already a Construct with name 'S' in App
"""


def no_node(program: str) -> str | None:
    return None


def node_20(program: str) -> str | None:
    return "/usr/bin/node" if program == "node" else None


# The environment the synth gets


def test_the_projects_node_is_used_when_make_setup_installed_it(tmp_path: Path) -> None:
    node = tmp_path / "node"
    node.write_text("")

    env, warning = synth_environment({"PATH": "/usr/bin"}, tmp_path / "out", project_node=node)

    assert env["JSII_NODE"] == str(node)
    assert env["CDK_OUTDIR"] == str(tmp_path / "out")
    assert env["JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION"] == "1"
    assert env["PATH"] == "/usr/bin"
    assert warning is None


def test_a_jsii_node_that_exists_is_kept(tmp_path: Path) -> None:
    chosen = tmp_path / "my-node"
    chosen.write_text("")

    env, warning = synth_environment(
        {"JSII_NODE": str(chosen)}, tmp_path, project_node=tmp_path / "absent", system_node=node_20
    )

    assert env["JSII_NODE"] == str(chosen)
    assert warning is None


def test_without_the_projects_node_the_systems_node_is_used_with_a_word_on_make_setup(
    tmp_path: Path,
) -> None:
    env, warning = synth_environment(
        {"JSII_NODE": str(tmp_path / "gone")}, tmp_path, project_node=tmp_path / "absent", system_node=node_20
    )

    assert "JSII_NODE" not in env
    assert env["JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION"] == "1"
    assert warning is not None and "node (/usr/bin/node)" in warning and "`make setup`" in warning
    assert "into .cache/node22" in warning


def test_without_any_node_the_error_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(SynthError, match=r"install Node.js, then `make setup`"):
        synth_environment({}, tmp_path, project_node=tmp_path / "absent", system_node=no_node)


# Its output, as text, and only what helps


def test_jsiis_banner_is_left_out_and_the_configuration_error_kept_whole() -> None:
    output = readable_output((BANNER + PATTERN_ERROR + "\n").encode())

    assert output == PATTERN_ERROR
    assert failure(output) == PATTERN_ERROR


def test_a_relayed_line_that_is_not_the_banner_is_decoded_to_text() -> None:
    relayed = r"b'(node:4242) [DEP0040] The `punycode` module is deprecated.\n'"

    assert readable_output(f"{relayed}\n".encode()) == (
        "(node:4242) [DEP0040] The `punycode` module is deprecated."
    )


def test_an_exception_is_reduced_to_its_own_lines_without_frames_or_node_stack() -> None:
    output = readable_output((BANNER + JSII_TRACEBACK).encode())

    assert failure(output) == "RuntimeError: There is already a Construct with name 'S' in App"


# mlops local up


class FakeRun:
    """``subprocess.run`` for the synth: records the call, answers with what a failed synth wrote."""

    def __init__(self, output: bytes, returncode: int = 1) -> None:
        self.output, self.returncode = output, returncode
        self.calls: list[dict[str, Any]] = []

    def __call__(self, command: Sequence[str], **options: Any) -> subprocess.CompletedProcess[bytes]:
        self.calls.append({"command": list(command), **options})
        return subprocess.CompletedProcess(command, self.returncode, stdout=self.output)


def test_local_up_prints_why_the_synth_failed_as_text_and_nothing_of_jsiis_banner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    node = tmp_path / "node22" / "node"
    node.parent.mkdir()
    node.write_text("")
    monkeypatch.setattr(synth, "PROJECT_NODE", node)
    monkeypatch.delenv("JSII_NODE", raising=False)
    fake = FakeRun((BANNER + PATTERN_ERROR + "\n").encode())
    monkeypatch.setattr(synth.subprocess, "run", fake)

    result = CliRunner().invoke(app, ["local", "up", "--cdk-out", str(tmp_path / "out")])

    assert result.exit_code == 2, result.output
    assert PATTERN_ERROR in result.stderr
    assert "the CDK app did not synthesize" in result.stderr
    assert "!!" not in result.output and "b'" not in result.output
    [call] = fake.calls
    assert call["command"][1:] == ["app.py"]
    assert call["env"]["JSII_NODE"] == str(node)
    assert call["env"]["CDK_OUTDIR"] == str(tmp_path / "out")
