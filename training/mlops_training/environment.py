"""The SageMaker training container's contract: folders, channels and hyperparameters, from the environment.

SageMaker (and the local cloud, which runs this script the same way) tells a job where things are with
environment variables, each with the container's fixed path as fallback:

============================  =================================  =====================================
variable                      default                            what
============================  =================================  =====================================
``SM_MODEL_DIR``              ``/opt/ml/model``                  becomes ``model.tar.gz``
``SM_OUTPUT_DATA_DIR``        ``/opt/ml/output/data``            becomes ``output.tar.gz``
``SM_CHANNEL_<NAME>``         ``/opt/ml/input/data/<name>``      input channels: ``train``, ``test``,
                                                                 ``config`` (required); ``validation``,
                                                                 ``champion`` (optional)
``SM_INPUT_CONFIG_DIR``       ``/opt/ml/input/config``           holds ``hyperparameters.json``
``SM_HPS``                    (none)                             hyperparameters as one JSON object
``MLOPS_FAILURE_FILE``        ``$SM_OUTPUT_DIR/failure``, i.e.   where the reason of a failure goes
                              ``/opt/ml/output/failure``         (SageMaker's ``FailureReason``)
============================  =================================  =====================================

Hyperparameters are merged from ``hyperparameters.json``, then ``SM_HPS``, then ``--name value``
command-line arguments (the toolkit passes them all three ways). ``sagemaker_*`` keys belong to the
toolkit and are ignored; ``dataset``, ``dataset_version``, ``run_id`` and ``code_version`` describe the
run and are recorded in ``evaluation.json``; any other key overrides a model hyperparameter.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .contract_io import TrainingInputError

RUN_KEYS = ("dataset", "dataset_version", "run_id", "code_version")
REQUIRED_CHANNELS = ("train", "test", "config")
OPTIONAL_CHANNELS = ("validation", "champion")


def failure_file(environ: Mapping[str, str]) -> Path:
    """Where to write the reason of a failure."""
    if environ.get("MLOPS_FAILURE_FILE"):
        return Path(environ["MLOPS_FAILURE_FILE"])
    return Path(environ.get("SM_OUTPUT_DIR", "/opt/ml/output")) / "failure"


def parse_arguments(argv: list[str]) -> dict[str, str]:
    """``--name value``, ``--name=value`` and ``-n value`` (one-letter names), as the toolkit passes them."""
    result: dict[str, str] = {}
    position = 0
    while position < len(argv):
        argument = argv[position]
        long = argument.startswith("--") and len(argument) > 2
        if not long and not (len(argument) == 2 and argument[0] == "-" and argument[1] != "-"):
            raise TrainingInputError(f"unexpected command-line argument {argument!r}; expected --name value")
        name, equals, value = argument.lstrip("-").partition("=") if long else (argument[1], "", "")
        if not equals:
            if position + 1 >= len(argv):
                raise TrainingInputError(f"the command-line argument {argument!r} has no value")
            position += 1
            value = argv[position]
        result[name] = value
        position += 1
    return result


def _json_object(text: str, where: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError as error:
        raise TrainingInputError(f"{where} is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise TrainingInputError(f"{where} must be a JSON object, got {type(data).__name__}")
    return data


@dataclass(frozen=True)
class JobEnvironment:
    """Where a training job reads and writes, and the hyperparameters it was given.

    Attributes
    ----------
    model_dir, output_dir : Path
    channels : dict of str to Path
        Every required channel, and the optional ones that exist and are not empty.
    run : dict
        The run's description (``dataset``, ``dataset_version``, ``run_id``, ``code_version``).
    overrides : dict
        Hyperparameters that override the configured model's.
    """

    model_dir: Path
    output_dir: Path
    channels: dict[str, Path]
    run: dict[str, Any]
    overrides: dict[str, Any]

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], argv: list[str]) -> JobEnvironment:
        """Read the container contract (see the module docstring)."""
        channels: dict[str, Path] = {}
        for name in REQUIRED_CHANNELS + OPTIONAL_CHANNELS:
            folder = Path(environ.get(f"SM_CHANNEL_{name.upper()}", f"/opt/ml/input/data/{name}"))
            present = folder.is_dir() and any(folder.iterdir())
            if name in REQUIRED_CHANNELS and not present:
                raise TrainingInputError(f"the {name} channel is missing or empty ({folder})")
            if present:
                channels[name] = folder
        hyperparameters: dict[str, Any] = {}
        stored = Path(environ.get("SM_INPUT_CONFIG_DIR", "/opt/ml/input/config")) / "hyperparameters.json"
        if stored.is_file():
            hyperparameters |= _json_object(stored.read_text(encoding="utf-8"), str(stored))
        if environ.get("SM_HPS"):
            hyperparameters |= _json_object(environ["SM_HPS"], "SM_HPS")
        hyperparameters |= parse_arguments(argv)
        run = {k: str(v) for k, v in hyperparameters.items() if k in RUN_KEYS}
        overrides = {
            k: v for k, v in hyperparameters.items() if k not in RUN_KEYS and not k.startswith("sagemaker_")
        }
        return cls(
            model_dir=Path(environ.get("SM_MODEL_DIR", "/opt/ml/model")),
            output_dir=Path(environ.get("SM_OUTPUT_DATA_DIR", "/opt/ml/output/data")),
            channels=channels,
            run=run,
            overrides=overrides,
        )

    def config_file(self, name: str) -> dict[str, Any]:
        """A JSON file of the config channel (``contract.json`` or ``training.json``)."""
        path = self.channels["config"] / name
        if not path.is_file():
            raise TrainingInputError(f"the config channel has no {name} ({path})")
        return _json_object(path.read_text(encoding="utf-8"), f"the config channel's {name}")
