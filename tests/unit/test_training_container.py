"""training/ against the image that runs it on AWS (``training/container.toml``): its imports, their versions.

SageMaker runs training/ in its scikit-learn image, with that image's Python and packages; the tests and
the local cloud run it on the project's virtualenv. These checks fail wherever the two differ beyond the
exceptions the record states, so a module or a version the image lacks fails here rather than on AWS.
The platform's own packages beyond the image (``training/import-requirements.txt``: skops) come from the
wheels the build ships, importable only once the job or the endpoint has activated them: training/ may
import exactly those, inside the function that needs them, with a comment saying why.
(``make lint`` checks the language and the standard library's API at the image's Python: vermin, mypy.)
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from collections.abc import Callable, Iterable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from packaging.version import Version
from pydantic import ValidationError

from stacks.config import TrainingInfraConfig

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TRAINING = PROJECT_ROOT / "training"
# Shipped beside training/ in its source directory and model archive (stacks/constructs/lambda_packaging.py).
SHARED = PROJECT_ROOT / "spec"
RECORD = TRAINING / "container.toml"
# The platform's packages shipped as wheels beside training/ (stacks/constructs/training_packages.py).
WHEEL_REQUIREMENTS = TRAINING / "import-requirements.txt"
# What `make setup` installs into the virtualenv the tests run on, and what the benchmark's MLflow
# virtualenv installs to load the models training/ wrote.
VENV_REQUIREMENTS = (
    PROJECT_ROOT / "requirements-dev.txt",
    PROJECT_ROOT / "bench" / "requirements.txt",
    PROJECT_ROOT / "bench" / "requirements-mlflow.txt",
)

# The public top-level standard-library modules each Python release added and removed ("What's New":
# "New Modules", "Removed"): the standard library of the image's Python, from the one running the tests.
STDLIB_CHANGES: dict[tuple[int, int], tuple[frozenset[str], frozenset[str]]] = {
    (3, 11): (frozenset({"tomllib"}), frozenset({"binhex"})),
    (3, 12): (frozenset(), frozenset({"asynchat", "asyncore", "distutils", "imp", "smtpd"})),
    (3, 13): (
        frozenset(),
        frozenset(
            {
                *("aifc", "audioop", "cgi", "cgitb", "chunk", "crypt", "imghdr", "lib2to3", "mailcap"),
                *("msilib", "nis", "nntplib", "ossaudiodev", "pipes", "sndhdr", "spwd", "sunau"),
                *("telnetlib", "uu", "xdrlib"),
            }
        ),
    ),
    (3, 14): (frozenset({"annotationlib", "compression"}), frozenset()),
}

Installed = Callable[[str], str | None]
Pin = tuple[str, str, str]  # distribution (canonical name), version, file:line


def load_record(path: Path = RECORD) -> dict[str, Any]:
    with path.open("rb") as file:
        return tomllib.load(file)


def series(version: str) -> tuple[int, int]:
    major, minor = Version(version).release[:2]
    return major, minor


def stdlib_modules(python: tuple[int, int], running: tuple[int, int], names: Iterable[str]) -> set[str]:
    """The top-level standard-library modules of ``python``, from ``names``, those of ``running``."""
    modules = set(names)
    step = 1 if python >= running else -1
    for minor in range(running[1] + step, python[1] + step, step):
        newer = (python[0], minor if step == 1 else minor + 1)
        if newer not in STDLIB_CHANGES:
            raise LookupError(f"STDLIB_CHANGES has no entry for Python {newer[0]}.{newer[1]}: add it")
        added, removed = STDLIB_CHANGES[newer]
        modules |= added if step == 1 else removed
        modules -= removed if step == 1 else added
    return modules


def absolute_imports(tree: ast.AST) -> Iterator[tuple[ast.stmt, list[str]]]:
    """Each absolute import statement of ``tree`` with the modules it names."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield node, [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node, [node.module]


def top_level_imports(folder: Path) -> dict[str, list[str]]:
    """Each absolute import's top-level module, with where it is (``file:line``)."""
    found: dict[str, list[str]] = {}
    for path in sorted(folder.rglob("*.py")):
        where = path.relative_to(folder.parent)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node, names in absolute_imports(tree):
            for name in names:
                found.setdefault(name.partition(".")[0], []).append(f"{where}:{node.lineno}")
    return found


def own_modules(folder: Path) -> set[str]:
    """What the folder ships as top-level modules: its ``*.py`` files and its packages."""
    packages = {path.parent.name for path in folder.glob("*/__init__.py")}
    return {path.stem for path in folder.glob("*.py")} | packages


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def module_distributions(record: dict[str, Any], root: Path) -> dict[str, str]:
    """The top-level modules of the recorded packages: installed ones, and the local stand-ins."""
    recorded = {canonical(name) for name in record["packages"]}
    modules = {
        module: canonical(distribution)
        for module, distributions in metadata.packages_distributions().items()
        for distribution in distributions
        if canonical(distribution) in recorded
    }
    for name, local in record.get("local", {}).items():
        if "stand-in" in local:
            for path in (root / local["stand-in"]).iterdir():
                if path.name != "__pycache__" and (path.is_dir() or path.suffix == ".py"):
                    modules[path.stem] = canonical(name)
    return modules


def foreign_imports(
    folder: Path, record: dict[str, Any], modules: dict[str, str], shipped: Iterable[str] = ()
) -> list[str]:
    """Imports of what the image lacks: not its Python's standard library, its packages, ``folder``'s own
    modules, nor the ``shipped`` packages the build packs beside them."""
    python = series(record["image"]["python"])
    stdlib = stdlib_modules(python, sys.version_info[:2], sys.stdlib_module_names)
    allowed = stdlib | set(modules) | own_modules(folder) | set(shipped) | {"__future__"}
    return [
        f"{', '.join(places)}: imports {module}, which the image {record['image']['version']} (Python "
        f"{record['image']['python']}) does not have; training/container.toml lists its packages"
        for module, places in sorted(top_level_imports(folder).items())
        if module not in allowed
    ]


def eager_imports(folder: Path, lazy: Iterable[str]) -> list[str]:
    """Imports of the ``lazy`` modules (from the shipped wheels) that are not inside a function with a
    comment on their line or the line above saying why."""
    lazy = set(lazy)
    problems: list[str] = []
    for path in sorted(folder.rglob("*.py")):
        where = path.relative_to(folder.parent)
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        tree = ast.parse(source, filename=str(path))
        in_functions = {
            id(node)
            for function in ast.walk(tree)
            if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
            for node in ast.walk(function)
        }
        for node, names in absolute_imports(tree):
            for name in (n for n in names if n.partition(".")[0] in lazy):
                around = lines[node.lineno - 1] + (lines[node.lineno - 2] if node.lineno > 1 else "")
                if id(node) not in in_functions:
                    problems.append(
                        f"{where}:{node.lineno}: imports {name} at module level; the image lacks it until "
                        "the shipped wheels are activated: import it in the function that needs it"
                    )
                elif "#" not in around:
                    problems.append(f"{where}:{node.lineno}: imports {name} without a comment saying why")
    return problems


def wheel_modules(requirements: Path) -> set[str]:
    """The top-level modules of the distributions a requirements file pins (as installed here)."""
    pinned = {name for name, _, _ in requirement_pins([requirements], requirements.parent)}
    return {
        module
        for module, distributions in metadata.packages_distributions().items()
        if any(canonical(d) in pinned for d in distributions)
    }


def version_problems(
    record: dict[str, Any], installed: Installed, pins: list[Pin], python: tuple[int, int]
) -> list[str]:
    """Where the tests run another version than the image's, and no exception of the record allows it."""
    problems: list[str] = []
    local = {canonical(name): entry for name, entry in record.get("local", {}).items()}

    def allowed(name: str, image: str, version: str) -> bool:
        exception = local.get(name, {}).get("series")
        return version == image or (exception is not None and series(version) == series(exception + ".0"))

    image_python = record["image"]["python"]
    running = f"{python[0]}.{python[1]}"
    if not allowed("python", image_python, running):
        problems.append(f"the tests run Python {running}; the image runs {image_python} (no exception)")
    for name, image in record["packages"].items():
        key = canonical(name)
        if "stand-in" in local.get(key, {}):
            continue
        version = installed(name)
        if version is None:
            problems.append(f"{name} is not installed: the tests cannot run what the image runs")
            continue
        if not allowed(key, image, version):
            problems.append(f"{name} {version} is installed; the image has {image}")
        elif version == image and "series" in local.get(key, {}):
            problems.append(f"{name}: the tests run the image's {image}; remove its exception (local.{name})")
    images = {canonical(name): version for name, version in record["packages"].items()}
    for key, pinned, where in pins:
        image = images.get(key)
        if image is not None and not allowed(key, image, pinned):
            problems.append(f"{where}: {key}=={pinned} is pinned; the image has {image}")
    return problems


def requirement_pins(paths: Iterable[Path], root: Path) -> list[Pin]:
    """``name==version`` lines of requirement files, following their ``-r`` includes, with where they are."""
    pins: list[Pin] = []
    for path in paths:
        for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            line = raw.partition("#")[0].strip()
            if line.startswith("-r "):
                pins += requirement_pins([path.parent / line.removeprefix("-r ").strip()], root)
            elif match := re.fullmatch(r"([A-Za-z0-9_.-]+)(\[[^\]]*\])?\s*==\s*(\S+)", line):
                pins.append((canonical(match[1]), match[3], f"{path.relative_to(root)}:{number}"))
    return pins


def installed_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


RECORDED = load_record()


def test_training_imports_only_the_images_standard_library_and_packages_and_its_own_modules() -> None:
    modules = module_distributions(RECORDED, PROJECT_ROOT)
    wheels = wheel_modules(WHEEL_REQUIREMENTS)

    assert wheels == {"skops"}
    assert foreign_imports(TRAINING, RECORDED, modules, shipped=[SHARED.name, *wheels]) == []
    assert foreign_imports(SHARED, RECORDED, modules, shipped=[SHARED.name]) == []


def test_the_shipped_wheels_packages_are_imported_only_where_needed_and_say_why() -> None:
    assert eager_imports(TRAINING, wheel_modules(WHEEL_REQUIREMENTS)) == []
    assert eager_imports(SHARED, wheel_modules(WHEEL_REQUIREMENTS)) == []


def test_a_wheel_package_imported_at_module_level_or_without_a_reason_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "training"
    folder.mkdir()
    (folder / "job.py").write_text(
        "import skops.io\n\n\ndef load():\n    import skops\n\n\ndef fine():\n"
        "    # from the wheels, activated by now\n    from skops.io import load\n",
        encoding="utf-8",
    )

    problems = eager_imports(folder, {"skops"})

    assert problems == [
        "training/job.py:1: imports skops.io at module level; the image lacks it until the shipped wheels "
        "are activated: import it in the function that needs it",
        "training/job.py:5: imports skops without a comment saying why",
    ]


def test_the_tests_run_the_images_versions_or_an_exception_the_record_states() -> None:
    problems = version_problems(
        RECORDED, installed_version, requirement_pins(VENV_REQUIREMENTS, PROJECT_ROOT), sys.version_info[:2]
    )

    assert problems == []


def test_every_exception_names_a_recorded_package_and_says_why() -> None:
    for name, entry in RECORDED["local"].items():
        assert name == "python" or name in RECORDED["packages"], name
        assert entry.get("reason"), f"local.{name} says no reason"
        assert ("series" in entry) != ("stand-in" in entry), f"local.{name}: a series or a stand-in"
        if "stand-in" in entry:
            assert (PROJECT_ROOT / entry["stand-in"] / name.replace("-", "_")).is_dir(), name


def test_an_import_the_image_lacks_is_named_with_where_it_is(tmp_path: Path) -> None:
    folder = tmp_path / "training"
    (folder / "tools").mkdir(parents=True)
    (folder / "tools" / "__init__.py").write_text("from . import local\n", encoding="utf-8")
    (folder / "job.py").write_text(
        "import json\nimport numpy.typing\nimport tools\nimport distutils.util\n\n\n"
        "def fit():\n    from xgboost import XGBClassifier\n    return XGBClassifier\n",
        encoding="utf-8",
    )
    record = RECORDED | {"image": {"version": "9.9-9", "python": "3.12"}}

    problems = foreign_imports(folder, record, module_distributions(RECORDED, PROJECT_ROOT))

    assert len(problems) == 2
    assert problems[0].startswith("training/job.py:4: imports distutils, which the image 9.9-9 (Python 3.12)")
    assert problems[1].startswith("training/job.py:8: imports xgboost")


@pytest.mark.parametrize(
    ("python", "present", "absent"),
    [
        ((3, 12), {"json", "tomllib", "asyncio"}, {"distutils", "imp", "annotationlib"}),
        ((3, 13), {"json"}, {"telnetlib", "cgi", "distutils"}),
        ((3, 14), {"annotationlib", "compression"}, {"pipes"}),
        ((3, 10), {"distutils", "binhex"}, {"tomllib"}),
    ],
)
def test_the_standard_library_of_another_python_follows_what_each_release_changed(
    python: tuple[int, int], present: set[str], absent: set[str]
) -> None:
    modules = stdlib_modules(python, sys.version_info[:2], sys.stdlib_module_names)

    assert present <= modules
    assert not absent & modules


def test_a_python_the_table_does_not_know_fails_rather_than_guessing() -> None:
    with pytest.raises(LookupError, match=r"Python 3\.15"):
        stdlib_modules((3, 15), sys.version_info[:2], sys.stdlib_module_names)


def test_a_version_apart_from_the_image_fails_unless_an_exception_allows_its_series() -> None:
    record = {
        "image": {"version": "1.9-0", "python": "3.12"},
        "packages": {"scikit-learn": "1.9.0", "numpy": "2.5.1", "joblib": "1.5.3", "stub-pkg": "1.0"},
        "local": {
            "python": {"series": "3.11", "reason": "r"},
            "numpy": {"series": "2.4", "reason": "r"},
            "stub-pkg": {"stand-in": "somewhere", "reason": "r"},
        },
    }
    versions = {"scikit-learn": "1.9.1", "numpy": "2.4.6", "joblib": None}

    problems = version_problems(record, versions.get, [("numpy", "2.3.0", "req.txt:3")], (3, 13))

    assert problems == [
        "the tests run Python 3.13; the image runs 3.12 (no exception)",
        "scikit-learn 1.9.1 is installed; the image has 1.9.0",
        "joblib is not installed: the tests cannot run what the image runs",
        "req.txt:3: numpy==2.3.0 is pinned; the image has 2.5.1",
    ]
    assert version_problems(record, {"numpy": "2.5.1"}.get, [], (3, 11))[0] == (
        "scikit-learn is not installed: the tests cannot run what the image runs"
    )
    assert "numpy: the tests run the image's 2.5.1; remove its exception (local.numpy)" in version_problems(
        record, {"numpy": "2.5.1"}.get, [], (3, 11)
    )


def test_requirement_pins_follow_includes_and_ignore_extras_and_comments(tmp_path: Path) -> None:
    (tmp_path / "inner.txt").write_text("NumPy==2.4.6  # why\n", encoding="utf-8")
    (tmp_path / "outer.txt").write_text(
        "# training\n-r inner.txt\nscikit_learn==1.9.0\nmoto[server]==5.2.5\nrich>=14\n", encoding="utf-8"
    )

    assert requirement_pins([tmp_path / "outer.txt"], tmp_path) == [
        ("numpy", "2.4.6", "inner.txt:1"),
        ("scikit-learn", "1.9.0", "outer.txt:3"),
        ("moto", "5.2.5", "outer.txt:4"),
    ]


def test_the_stack_deploys_the_recorded_image_and_refuses_another() -> None:
    assert TrainingInfraConfig().image_version == RECORDED["image"]["version"]

    with pytest.raises(ValidationError, match=r"'1\.4-2' is not the image .*training/container\.toml"):
        TrainingInfraConfig(image_version="1.4-2")
