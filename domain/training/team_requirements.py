"""The team code folder's ``requirements.txt``: every line pins one version, checked at synth.

The wheelhouse (``stacks/constructs/training_packages.py``) is built from these pins for the training
image when the app is built, and installed offline when the job or the endpoint starts: a range or a URL
would make what ships depend on the day it was built, so only ``name==version`` is taken.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

__all__ = ["REQUIREMENTS_FILE", "requirement_pin", "requirements_problems"]

# Extra packages of the team's code, one ``name==version`` a line (the wheelhouse is built from it).
REQUIREMENTS_FILE = "requirements.txt"


def requirement_pin(line: str) -> tuple[str, str] | None:
    """The package and version a requirements line pins, or None when it does not pin exactly one.

    Parameters
    ----------
    line : str
        One line of a requirements file; a comment (``# ...``) is left out first.

    Returns
    -------
    tuple of (str, str) or None
        ``(name, version)``, the name normalized as PEP 503 says, for ``name==version`` (with extras or an
        environment marker, or not); ``None`` for a line with nothing but a comment.

    Raises
    ------
    ValueError
        The line is not ``name==version``: a range, a wildcard, a URL, a pip option such as ``-r``.
    """
    text = line.split("#", 1)[0].strip()
    if not text:
        return None
    try:
        requirement = Requirement(text)
    except InvalidRequirement:
        requirement = None
    specifiers = list(requirement.specifier) if requirement is not None else []
    if requirement is None or requirement.url is not None or len(specifiers) != 1:
        raise ValueError(f"{text!r} does not pin one version")
    [specifier] = specifiers
    if specifier.operator != "==" or "*" in specifier.version:
        raise ValueError(f"{text!r} does not pin one version")
    return canonicalize_name(requirement.name), specifier.version


def requirements_problems(root: Path, folder: PurePosixPath) -> Iterator[str]:
    """One line per problem with the team code folder's ``requirements.txt`` (none when it is absent).

    Parameters
    ----------
    root : Path
        The project root.
    folder : PurePosixPath
        The team code folder, relative to ``root``.

    Returns
    -------
    Iterator of str
        ``"<folder>/requirements.txt line <n>: ..."``, or that the file is not UTF-8 text.
    """
    path = root / folder / REQUIREMENTS_FILE
    if not path.is_file():
        return
    shown = folder / REQUIREMENTS_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        yield f"{shown} cannot be read as UTF-8 text"
        return
    for number, line in enumerate(text.splitlines(), start=1):
        try:
            requirement_pin(line)
        except ValueError as error:
            yield (
                f"{shown} line {number}: {error}: write name==version (its wheels are fetched for the "
                "training image when the app is built, and installed offline)"
            )
