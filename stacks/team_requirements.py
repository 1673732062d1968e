"""The team code folder's ``requirements.txt`` that ``cdk.json`` names, for ``make setup``.

The local virtualenv stands in for the training image, which installs the team's pins from the wheels the
synth ships (``stacks/constructs/training_packages.py``): the virtualenv needs the same pins, wherever the
team code folder is. Which folder that is follows the synth's own rules (:func:`stacks.config.load_platform`:
the folder of the modules the datasets name), so the Makefile never guesses it.

``python -m stacks.team_requirements`` prints the file's path (nothing when no dataset names a module or
the folder has no ``requirements.txt``); ``--digest`` prints a SHA-256 of its path and content instead,
which names the Makefile's stamp (a change to either installs again). A configuration error is printed
as the synth says it, with exit code 2.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from domain.training.team_requirements import REQUIREMENTS_FILE
from stacks.config import CONTEXT_KEY, ConfigError, load_platform

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def team_requirements(project_root: Path) -> Path | None:
    """The ``requirements.txt`` of the team code folder that ``project_root/cdk.json`` names.

    Parameters
    ----------
    project_root : Path
        The folder holding ``cdk.json``.

    Returns
    -------
    Path or None
        The file; None when no dataset trains a team's module or its folder has no such file.

    Raises
    ------
    ConfigError
        ``cdk.json``'s configuration is not valid (the synth's message).
    """
    context = json.loads((project_root / "cdk.json").read_text(encoding="utf-8"))["context"]
    platform = load_platform(context.get(CONTEXT_KEY), project_root)
    if platform.team_code is None or not (platform.team_code / REQUIREMENTS_FILE).is_file():
        return None
    return platform.team_code / REQUIREMENTS_FILE


def requirements_digest(path: Path | None) -> str:
    """A SHA-256 of the file's path and bytes (of nothing when None): it names the Makefile's stamp."""
    digest = hashlib.sha256()
    if path is not None:
        digest.update(str(path).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def main(argv: list[str], project_root: Path = PROJECT_ROOT) -> int:
    """Print the path (or with ``--digest``, the digest); 2 after printing a configuration error."""
    if argv not in ([], ["--digest"]):
        print("usage: python -m stacks.team_requirements [--digest]", file=sys.stderr)
        return 2
    try:
        path = team_requirements(project_root)
    except ConfigError as error:
        print(f"make setup: {error}", file=sys.stderr)
        return 2
    if argv == ["--digest"]:
        print(requirements_digest(path))
    elif path is not None:
        print(path.relative_to(project_root) if path.is_relative_to(project_root) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
