"""A team's training code, checked at synth without running it: a module of the project, with its builder."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest

from domain.training.model_config import TeamModule
from domain.training.team_code import TeamCodeProblem, requirement_pin, team_code_folder, team_code_problems
from stacks.app import PROJECT_ROOT, cdk_json_context
from stacks.config import ConfigError, load_platform, recorded_image_import_names

MODULE = "models/churn.py"
GOOD = (
    "from sklearn.dummy import DummyClassifier\n\n\n"
    "def build(contract, hyperparameters):\n    return DummyClassifier()\n"
)


def project(root: Path, files: dict[str, str]) -> Path:
    """A project root holding ``files`` (path -> text)."""
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def team(module: str = MODULE, builder: str = "build") -> TeamModule:
    return TeamModule(module=module, builder=builder)


def problems_of(root: Path, **modules: TeamModule) -> list[TeamCodeProblem]:
    return team_code_problems(root, modules or {"churn": team()}, image_names=recorded_image_import_names())


def test_a_module_that_defines_its_builder_has_no_problem_and_names_the_folder(tmp_path: Path) -> None:
    # Given a project whose models/ folder holds the module, its builder and pinned requirements
    root = project(
        tmp_path, {MODULE: GOOD, "models/requirements.txt": "# extras\nlightgbm==4.7.0  # boosting\n"}
    )

    # When the modules are checked
    problems = problems_of(root)

    # Then nothing is wrong, and the team code folder is models/, absolute
    assert problems == []
    assert team_code_folder(root, {"churn": team()}) == root.resolve() / "models"


def test_no_team_module_means_no_team_code_folder(tmp_path: Path) -> None:
    assert team_code_problems(tmp_path, {}, image_names={}) == []
    assert team_code_folder(tmp_path, {}) is None


@pytest.mark.parametrize(
    "source",
    [
        "def build(contract, hyperparameters):\n    pass\n",
        "import functools\nbuild = functools.partial(print)\n",
        "from sklearn.pipeline import make_pipeline as build\n",
        "import sklearn as build\n",
        "build: object = print\n",
        "a, (build, c) = 1, (print, 3)\n",
        "class build:\n    def __init__(self, contract, hyperparameters):\n        pass\n",
        "try:\n    from fast import build\nexcept ImportError:\n    def build(c, h):\n        pass\n",
        "if True:\n    build = print\n",
    ],
    ids=["def", "assignment", "from-import-as", "import-as", "annotated", "unpacking", "class", "try", "if"],
)
def test_a_builder_bound_at_top_level_in_any_way_is_found(tmp_path: Path, source: str) -> None:
    root = project(tmp_path, {MODULE: source})

    assert problems_of(root) == []


def test_a_missing_builder_is_named_with_the_functions_the_module_does_define(tmp_path: Path) -> None:
    # Given a module whose builder is called make_model, with build only inside a class and a function
    source = (
        "def make_model(c, h):\n    def build():\n        pass\n\n\n"
        "class K:\n    build = 1\n\n\ndef helper():\n    pass\n"
    )
    root = project(tmp_path, {MODULE: source})

    # When it is checked for build
    problems = problems_of(root)

    # Then the builder key says what it does define at top level
    assert problems == [
        TeamCodeProblem(
            "churn",
            "builder",
            f"{MODULE} defines no 'build' at top level (a def, or a name assigned or imported there); its "
            "top-level functions: helper, make_model",
        )
    ]
    assert problems[0].path == "datasets.churn.training.model.builder"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("x = 1\n", "it has no top-level function"),
        ("build: object\n", "it has no top-level function"),  # annotated, never assigned
        (
            "from helpers import *\n",
            "a name from 'from ... import *' is not seen at synth: import the builder by",
        ),
        (
            "async def build(c, h):\n    pass\n",
            "defines build with async def: the platform calls the builder",
        ),
        ("def build(c, h):\n    pass\n\n\nasync def build(c, h):\n    pass\n", "with async def"),
    ],
    ids=["nothing", "annotation-only", "star-import", "async", "async-last"],
)
def test_a_builder_the_platform_cannot_call_is_refused_saying_why(
    tmp_path: Path, source: str, expected: str
) -> None:
    root = project(tmp_path, {MODULE: source})

    [problem] = problems_of(root)

    assert (problem.key, expected in problem.message) == ("builder", True), problem.message


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("def build(c, h):\n    return (\n", f"{MODULE} line 2 is not valid Python: "),
        (b"x = '\xff'\n", f"{MODULE} is not UTF-8 text (line 1): save it as UTF-8"),
        (b"x = 1\x00\n", f"{MODULE} is not Python source ("),
    ],
    ids=["syntax", "encoding", "null-byte"],
)
def test_a_module_that_does_not_parse_is_reported_at_its_line(
    tmp_path: Path, source: str | bytes, expected: str
) -> None:
    (tmp_path / "models").mkdir()
    path = tmp_path / MODULE
    path.write_bytes(source if isinstance(source, bytes) else source.encode())

    [problem] = problems_of(tmp_path)

    assert problem.key == "module"
    assert problem.message.startswith(expected), problem.message


def test_a_missing_module_names_the_path_and_the_root(tmp_path: Path) -> None:
    [problem] = problems_of(tmp_path)

    assert problem == TeamCodeProblem(
        "churn", "module", f"{MODULE} does not exist under {tmp_path.resolve()}"
    )


def test_a_folder_named_like_a_module_is_not_a_file(tmp_path: Path) -> None:
    (tmp_path / MODULE).mkdir(parents=True)

    assert problems_of(tmp_path) == [TeamCodeProblem("churn", "module", f"{MODULE} is not a file")]


def test_a_module_linked_from_outside_the_project_is_refused(tmp_path: Path) -> None:
    # Given a project whose models/churn.py is a link to a file outside it
    outside = project(tmp_path / "elsewhere", {"churn.py": GOOD}) / "churn.py"
    root = tmp_path / "project"
    (root / "models").mkdir(parents=True)
    (root / MODULE).symlink_to(outside)

    # When it is checked
    [problem] = problems_of(root)

    # Then the module key says where it leads
    assert problem.key == "module"
    assert problem.message.startswith(f"{MODULE} leads to {outside.resolve()}, outside the project")


def test_modules_in_two_folders_are_refused_at_the_second(tmp_path: Path) -> None:
    # Given two datasets whose modules are good but in two folders
    root = project(tmp_path, {MODULE: GOOD, "other/shop.py": GOOD})

    # When they are checked
    problems = problems_of(root, churn=team(), shop=team("other/shop.py"))

    # Then the second is refused, naming the folder of the first
    assert problems == [
        TeamCodeProblem(
            "shop",
            "module",
            "other/shop.py is not in models/, where datasets.churn.training.model.module is: the team's "
            "modules must all be in one folder (it ships whole, as one package)",
        )
    ]


@pytest.mark.parametrize(
    ("folder", "expected"),
    [
        ("team-models", "ships as a Python package named 'team-models', which cannot be imported: rename it"),
        (
            "mlops_training",
            "a name the training code uses itself (inference, mlops_training, spec, train, wheels)",
        ),
        ("wheels", "a name the training code uses itself"),
        ("json", "which would hide Python's own module 'json' from the job: rename the folder"),
        ("nested/spec", "the folder nested/spec/ ships as a Python package named 'spec'"),
        # the image's packages, by the names they are imported as
        (
            "pandas",
            "ships as a Python package named 'pandas', which would hide the training image's package pandas "
            "from the job and the endpoint (training/container.toml lists the image's packages): rename",
        ),
        ("team/sklearn", "would hide the training image's package scikit-learn (imported as 'sklearn')"),
        ("yaml", "would hide the training image's package pyyaml (imported as 'yaml') from the job"),
        ("PIL", "would hide the training image's package pillow (imported as 'PIL')"),
        ("google", "would hide the training image's package protobuf (imported as 'google')"),
        ("sagemaker_training", "would hide the training image's package sagemaker-training (imported as"),
    ],
)
def test_a_folder_whose_name_cannot_be_the_package_is_refused(
    tmp_path: Path, folder: str, expected: str
) -> None:
    root = project(tmp_path, {f"{folder}/churn.py": GOOD})

    [problem] = problems_of(root, churn=team(f"{folder}/churn.py"))

    assert problem.key == "module"
    assert expected in problem.message, problem.message


def test_every_unpinned_requirement_is_named_by_its_line(tmp_path: Path) -> None:
    # Given requirements with comments, extras and a marker (pinned) and three lines that pin nothing
    requirements = (
        "# the team's packages\n"
        "lightgbm==4.7.0\n"
        "narwhals>=2\n"
        "\n"
        "xgboost[scikit-learn] == 3.1.0 ; platform_machine == 'x86_64'  # pinned\n"
        "-r more.txt\n"
        "polars\n"
    )
    root = project(tmp_path, {MODULE: GOOD, "models/requirements.txt": requirements})

    # When the modules are checked
    problems = problems_of(root)

    # Then lines 3, 6 and 7 are refused, at the module key
    assert [(p.key, p.message.split(":")[0]) for p in problems] == [
        ("module", "models/requirements.txt line 3"),
        ("module", "models/requirements.txt line 6"),
        ("module", "models/requirements.txt line 7"),
    ]
    assert "'narwhals>=2' does not pin one version: write name==version" in problems[0].message


def test_every_problem_of_every_dataset_is_reported_at_once(tmp_path: Path) -> None:
    # Given churn's module without its builder, shop's module missing, and an unpinned requirement
    root = project(tmp_path, {MODULE: "x = 1\n", "models/requirements.txt": "lightgbm\n"})

    # When they are checked
    problems = problems_of(root, churn=team(), shop=team("models/shop.py"))

    # Then each is reported, by dataset, the folder's last
    assert [(p.dataset, p.key) for p in problems] == [
        ("churn", "builder"),
        ("shop", "module"),
        ("churn", "module"),
    ]


def platform_root(tmp_path: Path, files: dict[str, str]) -> Path:
    """A project root with the platform's contracts and ``files``."""
    shutil.copytree(PROJECT_ROOT / "contracts", tmp_path / "contracts")
    return project(tmp_path, files)


def context_with(model: dict[str, Any]) -> dict[str, Any]:
    context: dict[str, Any] = copy.deepcopy(cdk_json_context()["mlops"])
    context["datasets"]["churn"]["training"]["model"] = model
    return context


def test_the_platform_knows_the_team_code_folder_of_a_valid_module(tmp_path: Path) -> None:
    # Given a project whose churn dataset trains its own module
    root = platform_root(tmp_path, {MODULE: GOOD})

    # When the configuration is loaded
    platform = load_platform(context_with({"module": MODULE, "builder": "build"}), root)

    # Then the platform has the team code folder to ship, and churn's model
    assert platform.team_code == root.resolve() / "models"
    assert platform.training["churn"].model == TeamModule(module=MODULE, builder="build")


def test_the_platform_without_a_team_module_has_no_team_code_folder() -> None:
    assert load_platform(context_with({"family": "random_forest"}), PROJECT_ROOT).team_code is None


def test_the_synth_error_gives_each_problem_a_line_with_its_cdk_json_key(tmp_path: Path) -> None:
    # Given churn's module without its builder, beside an unpinned requirement
    root = platform_root(tmp_path, {MODULE: "x = 1\n", "models/requirements.txt": "lightgbm\n"})

    # When the configuration is loaded
    with pytest.raises(ConfigError) as raised:
        load_platform(context_with({"module": MODULE, "builder": "build"}), root)

    # Then each problem is a line of its own that names its cdk.json key
    lines = str(raised.value).splitlines()
    assert [line.split(": ")[1] for line in lines] == [
        "mlops.datasets.churn.training.model.builder",
        "mlops.datasets.churn.training.model.module",
    ]
    assert all(line.startswith("cdk.json: ") for line in lines)


def test_a_folder_named_like_an_image_package_fails_the_synth_at_the_module_key(tmp_path: Path) -> None:
    # Given churn's module in a folder named flask, a package the training image runs on
    root = platform_root(tmp_path, {"flask/churn.py": GOOD})

    # When the configuration is loaded
    with pytest.raises(ConfigError) as raised:
        load_platform(context_with({"module": "flask/churn.py", "builder": "build"}), root)

    # Then one line names the key and the package the folder would hide
    assert str(raised.value) == (
        "cdk.json: mlops.datasets.churn.training.model.module: the folder flask/ ships as a Python package "
        "named 'flask', which would hide the training image's package flask from the job and the endpoint "
        "(training/container.toml lists the image's packages): rename the folder"
    )


def test_a_folder_named_like_no_image_package_is_accepted(tmp_path: Path) -> None:
    # Given a folder whose name is a distribution's but not what it is imported as (scikit_learn: sklearn)
    root = project(tmp_path, {"scikit_learn/churn.py": GOOD})

    # When it is checked
    problems = problems_of(root, churn=team("scikit_learn/churn.py"))

    # Then nothing is wrong: the job imports sklearn, which the folder does not hide
    assert problems == []


@pytest.mark.parametrize(
    ("line", "pin"),
    [
        ("LightGBM==4.7.0", ("lightgbm", "4.7.0")),
        ("  scikit_learn[alldeps] == 1.9.0 ; python_version >= '3.12'  # why", ("scikit-learn", "1.9.0")),
        ("# a comment", None),
        ("", None),
    ],
)
def test_a_pinned_requirement_gives_its_normalized_name_and_version(
    line: str, pin: tuple[str, str] | None
) -> None:
    assert requirement_pin(line) == pin


@pytest.mark.parametrize(
    "line", ["lightgbm", "lightgbm>=4", "lightgbm==4.*", "a==1,!=2", "-r x.txt", "x @ https://e/x.whl"]
)
def test_a_line_that_pins_no_single_version_is_refused(line: str) -> None:
    with pytest.raises(ValueError, match="does not pin one version"):
        requirement_pin(line)
