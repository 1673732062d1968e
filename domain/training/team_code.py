"""A team's own training code, checked at synth: the modules exist in the project and define their builders.

A dataset's ``training.model`` may name a module of the project and a builder in it
(:class:`~domain.training.model_config.TeamModule`). The module's folder is the *team code folder*: it
ships whole with the training code, at the source archive's root under its own name, so the module is
imported as ``<folder>.<stem>`` by the training job and at the endpoint. These checks need the file
system but never import the team's code: synth must not run it, so the builder is looked for in the
module's syntax tree (:mod:`ast`).

Every problem is reported at once, each with the configuration key it belongs to
(``datasets.<dataset>.training.model.module`` or ``...model.builder``); ``stacks/config.py`` turns them
into the synth's error lines. The folder's ``requirements.txt`` is checked by
:mod:`domain.training.team_requirements` (``REQUIREMENTS_FILE`` and ``requirement_pin`` are re-exported
here, where the source bundling and the wheelhouse import them).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

from domain.training.model_config import TeamModule, is_identifier
from domain.training.team_requirements import REQUIREMENTS_FILE, requirement_pin, requirements_problems

__all__ = [
    "REQUIREMENTS_FILE",
    "RESERVED_FOLDER_NAMES",
    "TeamCodeProblem",
    "requirement_pin",
    "team_code_folder",
    "team_code_problems",
]

# The names the source archive's root already uses: the training job's own packages and scripts, the
# shared spec and the wheelhouse. A team folder of that name would replace or shadow them.
RESERVED_FOLDER_NAMES = frozenset({"spec", "mlops_training", "wheels", "train", "inference"})


@dataclass(frozen=True)
class TeamCodeProblem:
    """Something wrong with a dataset's team module, at its configuration key.

    Attributes
    ----------
    dataset : str
    key : {"module", "builder"}
        The key under ``training.model`` that names what is wrong.
    message : str
        What is wrong and how to fix it, in one sentence.
    """

    dataset: str
    key: Literal["module", "builder"]
    message: str

    @property
    def path(self) -> str:
        """The configuration key, under the platform's context key: ``datasets.<d>.training.model.<key>``."""
        return f"datasets.{self.dataset}.training.model.{self.key}"


def team_code_folder(root: Path, modules: Mapping[str, TeamModule]) -> Path | None:
    """The team code folder: the parent of the datasets' modules, or None when no dataset names one.

    Parameters
    ----------
    root : Path
        The project root, which module paths are relative to.
    modules : Mapping[str, TeamModule]
        The team modules, keyed by dataset; :func:`team_code_problems` has found them in one folder.

    Returns
    -------
    Path or None
        Absolute, under the resolved root, and named as configured (a link is not followed: its name is
        the package's name).
    """
    for module in modules.values():
        return root.resolve() / PurePosixPath(module.module).parent
    return None


def team_code_problems(
    root: Path, modules: Mapping[str, TeamModule], *, image_names: Mapping[str, str]
) -> list[TeamCodeProblem]:
    """Every problem with the team modules the datasets name, in configuration order.

    Parameters
    ----------
    root : Path
        The project root, which module paths are relative to.
    modules : Mapping[str, TeamModule]
        The team modules, keyed by dataset (datasets that train a built-in family are left out).
    image_names : Mapping[str, str]
        The top-level names the training image's packages install, each with its distribution
        (``training/container.toml``'s ``[import_names]``): the folder must not hide one of them.

    Returns
    -------
    list of TeamCodeProblem
        Empty when every module is a Python file inside the project that defines its builder at top
        level, all are in one folder, that folder's name can be a package of its own (not the platform's,
        the standard library's or the image's packages'), and its
        ``requirements.txt`` (if any) pins every line.
    """
    problems: list[TeamCodeProblem] = []
    for dataset, module in modules.items():
        problems.extend(_module_problems(root, dataset, module))
    if modules:
        problems.extend(_folder_problems(root, modules, image_names))
    return problems


def _module_problems(root: Path, dataset: str, model: TeamModule) -> Iterator[TeamCodeProblem]:
    path = root / model.module
    where = root.resolve()
    if not path.exists():
        yield TeamCodeProblem(dataset, "module", f"{model.module} does not exist under {where}")
        return
    if not path.resolve().is_relative_to(where):
        yield TeamCodeProblem(
            dataset,
            "module",
            f"{model.module} leads to {path.resolve()}, outside the project {where}: team code must be "
            "inside the project (it ships from there)",
        )
        return
    if not path.is_file():
        yield TeamCodeProblem(dataset, "module", f"{model.module} is not a file")
        return
    try:
        tree = ast.parse(path.read_bytes(), filename=model.module)
    except SyntaxError as error:
        yield TeamCodeProblem(dataset, "module", _syntax_problem(model.module, error))
        return
    except OSError as error:
        yield TeamCodeProblem(dataset, "module", f"{model.module} cannot be read ({error.strerror})")
        return
    if problem := _builder_problem(tree, model):
        yield TeamCodeProblem(dataset, "builder", problem)


def _syntax_problem(module: str, error: SyntaxError) -> str:
    if error.msg.startswith("(unicode error)"):
        return f"{module} is not UTF-8 text (line {error.lineno}): save it as UTF-8"
    if error.lineno is None:
        return f"{module} is not Python source ({error.msg})"
    # The parser's own words are the team's best clue to their own code.
    return f"{module} line {error.lineno} is not valid Python: {error.msg}"


def _builder_problem(tree: ast.Module, model: TeamModule) -> str | None:
    bindings, star = _top_level_bindings(tree.body)
    kind = bindings.get(model.builder)
    if kind == "async def":
        return (
            f"{model.module} defines {model.builder} with async def: the platform calls the builder and "
            "takes what it returns as the estimator; make it a plain def"
        )
    if kind is not None:
        return None
    functions = sorted(name for name, bound in bindings.items() if bound == "def")
    defined = (
        f"its top-level functions: {', '.join(functions)}" if functions else "it has no top-level function"
    )
    unseen = (
        "; a name from 'from ... import *' is not seen at synth: import the builder by name" if star else ""
    )
    return (
        f"{model.module} defines no {model.builder!r} at top level (a def, or a name assigned or imported "
        f"there); {defined}{unseen}"
    )


def _top_level_bindings(body: Sequence[ast.stmt]) -> tuple[dict[str, str], bool]:
    """The names a module's top level binds, each with how its last binding did; and any star import.

    Statements under a top-level ``if``, ``try``, ``with`` or ``for`` bind at top level too; the bodies
    of functions and classes do not.
    """
    bindings: dict[str, str] = {}
    star = False
    for statement in body:
        match statement:
            case ast.FunctionDef(name=name):
                bindings[name] = "def"
            case ast.AsyncFunctionDef(name=name):
                bindings[name] = "async def"
            case ast.ClassDef(name=name):
                bindings[name] = "class"  # calling a class returns an instance: it can be the builder
            case ast.Assign(targets=targets):
                bindings |= {name: "assignment" for target in targets for name in _stored_names(target)}
            case ast.AnnAssign(target=ast.Name(id=name), value=value) if value is not None:
                bindings[name] = "assignment"
            case ast.Import(names=aliases):
                bindings |= {alias.asname or alias.name.split(".")[0]: "import" for alias in aliases}
            case ast.ImportFrom(names=aliases):
                star = star or any(alias.name == "*" for alias in aliases)
                bindings |= {alias.asname or alias.name: "import" for alias in aliases if alias.name != "*"}
            case ast.If() | ast.Try() | ast.TryStar() | ast.With() | ast.For() | ast.While():
                for block in _blocks(statement):
                    inner, inner_star = _top_level_bindings(block)
                    bindings |= inner
                    star = star or inner_star
    return bindings, star


def _blocks(statement: ast.stmt) -> Iterator[list[ast.stmt]]:
    for field in ("body", "orelse", "finalbody"):
        yield getattr(statement, field, [])
    for handler in getattr(statement, "handlers", []):
        yield handler.body


def _stored_names(target: ast.expr) -> Iterator[str]:
    for node in ast.walk(target):
        if isinstance(node, ast.Name):
            yield node.id


def _folder_problems(
    root: Path, modules: Mapping[str, TeamModule], image_names: Mapping[str, str]
) -> Iterator[TeamCodeProblem]:
    (first, model), *others = modules.items()
    folder = PurePosixPath(model.module).parent
    for dataset, other in others:
        if PurePosixPath(other.module).parent != folder:
            yield TeamCodeProblem(
                dataset,
                "module",
                f"{other.module} is not in {folder}/, where datasets.{first}.training.model.module is: the "
                "team's modules must all be in one folder (it ships whole, as one package)",
            )
    if problem := _folder_name_problem(folder, image_names):
        yield TeamCodeProblem(first, "module", problem)
    yield from (TeamCodeProblem(first, "module", line) for line in requirements_problems(root, folder))


def _folder_name_problem(folder: PurePosixPath, image_names: Mapping[str, str]) -> str | None:
    name = folder.name
    ships = f"the folder {folder}/ ships as a Python package named {name!r}"
    if not is_identifier(name):
        return f"{ships}, which cannot be imported: rename it with letters, digits and '_' (e.g. team_models)"
    if name in RESERVED_FOLDER_NAMES:
        reserved = ", ".join(sorted(RESERVED_FOLDER_NAMES))
        return f"{ships}, a name the training code uses itself ({reserved}): rename the folder"
    if name in sys.stdlib_module_names:
        return f"{ships}, which would hide Python's own module {name!r} from the job: rename the folder"
    if (distribution := image_names.get(name)) is not None:
        # The archive's root comes first on sys.path: the image's package (and every library importing
        # it) would get the team's folder instead. A team's own pins are checked where their wheels are
        # known, when the wheelhouse is built (stacks/constructs/wheel_names.py).
        imported = "" if distribution == name else f" (imported as {name!r})"
        return (
            f"{ships}, which would hide the training image's package {distribution}{imported} from the job "
            "and the endpoint (training/container.toml lists the image's packages): rename the folder"
        )
    return None
