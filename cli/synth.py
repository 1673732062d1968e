"""Synthesizing the CDK app from the CLI as ``make synth`` does: on the project's node, output read as text.

jsii runs the CDK's JavaScript on node. ``make setup`` installs node 22 into ``.cache/node22`` and the
Makefile points jsii at it (``JSII_NODE``). Without it jsii takes the system's node; on an end-of-life node
it prints a large banner on every run, which its stderr relay passes on as Python bytes (``b'!!!!...\\n'``),
ahead of the error that matters: the output is read as text, and the banners are left out of it.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from cli.target import PROJECT_ROOT

__all__ = ["PROJECT_NODE", "SynthError", "failure", "readable_output", "synth_environment", "synthesize"]

# Where `make setup` installs node 22 (the Makefile's NODE_DIR and NODE), from the project's root.
NODE_DIR = Path(".cache") / "node22"
PROJECT_NODE = PROJECT_ROOT / NODE_DIR / "node_modules" / ".bin" / "node"
_BANNER_LINE = re.compile(r"!!.*!!")  # jsii's node version warnings are a box drawn with "!!"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_SHOWN_LINES = 20


class SynthError(Exception):
    """The CDK app did not synthesize; the message says why, in the app's words."""


def synth_environment(
    environ: Mapping[str, str],
    outdir: Path,
    *,
    project_node: Path | None = None,
    system_node: Callable[[str], str | None] = shutil.which,
) -> tuple[dict[str, str], str | None]:
    """The environment in which ``python app.py`` synthesizes into ``outdir``, and a warning for the user.

    Parameters
    ----------
    environ : mapping
        The caller's environment (``os.environ``).
    outdir : Path
        Where the cloud assembly goes (``CDK_OUTDIR``).
    project_node : Path, optional
        The project's node 22 (default: where ``make setup`` installs it).
    system_node : callable, optional
        Finds a program on ``PATH`` (:func:`shutil.which`); asked for ``node`` only when the project's node
        is missing.

    Returns
    -------
    dict, str or None
        The environment: ``JSII_NODE`` set to an existing ``JSII_NODE`` or the project's node, else left
        to jsii (the system's node). The warning says how to get the project's node when the system's is
        used, and is None otherwise.

    Raises
    ------
    SynthError
        There is no node at all.
    """
    project_node = project_node or PROJECT_NODE
    env = {**environ, "CDK_OUTDIR": str(outdir), "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1"}
    chosen = environ.get("JSII_NODE")
    if chosen and Path(chosen).is_file():
        return env, None
    if project_node.is_file():
        env["JSII_NODE"] = str(project_node)
        return env, None
    env.pop("JSII_NODE", None)
    node = system_node("node")
    if node is None:
        raise SynthError(
            "the CDK app runs on node and there is none: install Node.js, then `make setup` (it installs "
            f"the node the CDK runs on into {NODE_DIR})"
        )
    return env, (
        f"synthesizing on the system's node ({node}): `make setup` installs node 22, which the CDK "
        f"supports, into {NODE_DIR}"
    )


def readable_output(raw: bytes | str) -> str:
    """A synth's output as text: jsii's relayed bytes decoded, its node version banners left out.

    Parameters
    ----------
    raw : bytes or str
        What ``python app.py`` wrote (standard output and error).

    Returns
    -------
    str
        The same lines as text, without jsii's ``!!`` boxes and colour codes.
    """
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    lines: list[str] = []
    for line in text.splitlines():
        relayed = _relayed(line)
        for part in relayed.splitlines() if relayed is not None else [line]:
            clean = _ANSI.sub("", part)
            if not _BANNER_LINE.fullmatch(clean.strip()):
                lines.append(clean)
    return "\n".join(lines).strip()


def failure(output: str) -> str:
    """What a failed synth's (readable) output says is wrong.

    Parameters
    ----------
    output : str
        :func:`readable_output` of the failed run.

    Returns
    -------
    str
        The app's configuration error in full; else the last exception's own lines (its message, without
        the Python frames or node's ``at ...`` lines); else the last lines of the output.
    """
    lines = output.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("Invalid configuration:"):
            return "\n".join(lines[index:]).strip()
    starts = [index for index, line in enumerate(lines) if line.startswith("Traceback (most recent call")]
    if starts:
        own = [line for line in lines[starts[-1] + 1 :] if line.strip() and not line[0].isspace()]
        if own:
            return "\n".join(own[-_SHOWN_LINES:])
    return "\n".join(lines[-_SHOWN_LINES:]).strip()


def synthesize(outdir: Path, warn: Callable[[str], None]) -> None:
    """Synthesize the CDK app into ``outdir`` as ``cdk synth`` would (cdk-nag included).

    Parameters
    ----------
    outdir : Path
        Where the cloud assembly goes.
    warn : callable
        Shows a warning to the user (when the system's node has to do).

    Raises
    ------
    SynthError
        The app did not synthesize: the message is what its output says is wrong.
    """
    env, warning = synth_environment(os.environ, outdir)
    if warning:
        warn(warning)
    result = subprocess.run(
        [sys.executable, "app.py"], cwd=PROJECT_ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise SynthError(failure(readable_output(result.stdout)) or f"exit code {result.returncode}")


def _relayed(line: str) -> str | None:
    """The text of a line that jsii relayed as a bytes literal (``b'...'``), else None."""
    if not (line.startswith(("b'", 'b"')) and line.endswith(line[1])):
        return None
    try:
        value = ast.literal_eval(line)
    except (ValueError, SyntaxError):
        return None
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else None
