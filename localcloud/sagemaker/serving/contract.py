"""SageMaker's inference container contract, laid out for a local model server process.

In the container, the model archive is extracted into ``/opt/ml/model``; locally that is the model
folder. ``SAGEMAKER_SUBMIT_DIRECTORY=/opt/ml/model/code`` (how the SageMaker SDK and the model registry
point at code shipped inside the archive) becomes ``<model dir>/code``; a local folder or ``file://`` URI
is used as it is.

The process sees what the image would: the virtualenv's packages (it stands in for the image, as it does
for training), the ``sagemaker_containers`` stand-in first on ``PYTHONPATH``, an empty ``HOME`` of its
own (no ``~/.aws`` of the developer leaks in), and neither the project's folder nor its development-mode
install (the model server hides it), so a model whose code is not self-contained fails here as it would
on SageMaker.
"""

from __future__ import annotations

import os
import tarfile
from collections.abc import Mapping
from pathlib import Path

from localcloud.errors import LocalCloudError

FRAMEWORK_DIR = Path(__file__).resolve().parent / "framework"
CONTAINER_MODEL_DIR = "/opt/ml/model"


class ModelServerError(LocalCloudError):
    """The model cannot be served: unreadable archive, code not local, or a server that exited or hung."""


def extract_model(archive: Path, model_dir: Path) -> None:
    """Extract ``model.tar.gz`` into the model folder, as SageMaker does into ``/opt/ml/model``."""
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(model_dir, filter="data")
    except (tarfile.TarError, OSError) as error:
        raise ModelServerError(f"{archive} is not a readable model archive: {error}") from error


def process_environment(environment: Mapping[str, str], model_dir: Path, home: Path) -> dict[str, str]:
    """The server's whole environment: the model's, then the platform's (which wins)."""
    variables = dict(environment)
    own_path = variables.get("PYTHONPATH")
    variables.update(
        {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "TZ": "UTC",
            "HOME": str(home),
            "TMPDIR": str(home),
            "AWS_CONFIG_FILE": str(home / "aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "aws-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "PYTHONPATH": os.pathsep.join([str(FRAMEWORK_DIR), *([own_path] if own_path else [])]),
            "PYTHONUNBUFFERED": "1",  # log lines reach the endpoint's log as they are printed
            "SAGEMAKER_SUBMIT_DIRECTORY": str(_submit_directory(variables, model_dir)),
        }
    )
    return variables


def _submit_directory(environment: Mapping[str, str], model_dir: Path) -> Path:
    """The local folder of ``SAGEMAKER_SUBMIT_DIRECTORY`` (``<model dir>/code`` without one)."""
    value = environment.get("SAGEMAKER_SUBMIT_DIRECTORY") or f"{CONTAINER_MODEL_DIR}/code"
    if value == CONTAINER_MODEL_DIR or value.startswith(f"{CONTAINER_MODEL_DIR}/"):
        return model_dir / value[len(CONTAINER_MODEL_DIR) :].lstrip("/")
    if value.startswith("file://"):
        value = value[len("file://") :]
    if "://" in value or value.startswith("s3:"):
        raise ModelServerError(
            f"SAGEMAKER_SUBMIT_DIRECTORY={value}: only code in the model archive or in a local folder is "
            "served locally (download and extract a sourcedir.tar.gz first)"
        )
    return Path(value).resolve()
