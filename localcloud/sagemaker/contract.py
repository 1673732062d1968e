"""SageMaker's training container contract, laid out in a local job folder.

In a SageMaker training container, the job lives under ``/opt/ml``; locally the same tree is the job's
folder, and the ``SM_*`` variables (those the SageMaker training toolkit sets in framework containers)
point into it::

    <job dir>/input/config/hyperparameters.json    the job's HyperParameters, as given (strings)
    <job dir>/input/config/resourceconfig.json     {"current_host": "algo-1", "hosts": ["algo-1"], ...}
    <job dir>/input/config/inputdataconfig.json    the channels' input modes
    <job dir>/input/data/<channel>/                each S3 channel, downloaded    SM_CHANNEL_<NAME>
    <job dir>/code/                                the extracted sourcedir.tar.gz (working directory)
    <job dir>/model/          SM_MODEL_DIR        -> <output path>/<job>/output/model.tar.gz
    <job dir>/output/data/    SM_OUTPUT_DATA_DIR  -> <output path>/<job>/output/output.tar.gz
    <job dir>/output/failure  MLOPS_FAILURE_FILE  its content is the FailureReason of a failed job

The script is what the SageMaker SDK and CDK set-ups name in two hyperparameters: ``sagemaker_program``
(``train.py``) inside ``sagemaker_submit_directory`` (a ``sourcedir.tar.gz``: on S3, or where an input
channel put it in the container, as for a network-isolated job). It runs as
``python <program> --<hyperparameter> <value> ...`` with the local virtualenv's interpreter: the
virtualenv stands in for the training image, as it stands in for Lambda layers.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localcloud.sagemaker.transfer import JobSetupError, artifact_uri, in_job_folder

HOST = "algo-1"
PROGRAM = "sagemaker_program"
SUBMIT_DIRECTORY = "sagemaker_submit_directory"
_RESERVED_PREFIX = "sagemaker_"


@dataclass(frozen=True)
class TrainingJobSpec:
    """What the runner needs to know about a training job (read from moto's model)."""

    name: str
    arn: str
    role_arn: str
    account_id: str
    region: str
    hyperparameters: dict[str, str]
    input_data_config: list[dict[str, Any]]
    output_path: str
    output_kms_key: str | None
    instance_type: str
    max_runtime_seconds: float
    environment: dict[str, str]
    network_isolation: bool
    metric_definitions: list[dict[str, str]]

    @classmethod
    def from_moto(cls, job: Any, *, metric_definitions: list[dict[str, str]]) -> TrainingJobSpec:
        """Read a ``moto.sagemaker.models.FakeTrainingJob``."""
        _, _, _, region, account_id, _ = job.arn.split(":", 5)
        output = job.output_data_config or {}
        stopping = job.stopping_condition or {}
        return cls(
            name=job.training_job_name,
            arn=job.arn,
            role_arn=str(job.role_arn or ""),
            account_id=account_id,
            region=region,
            hyperparameters=dict(job.hyper_parameters or {}),
            input_data_config=list(job.input_data_config or []),
            output_path=str(output.get("S3OutputPath", "")),
            output_kms_key=output.get("KmsKeyId") or None,
            instance_type=str((job.resource_config or {}).get("InstanceType", "ml.m5.large")),
            max_runtime_seconds=float(stopping.get("MaxRuntimeInSeconds", 86400)),
            environment=dict(getattr(job, "environment", None) or {}),
            network_isolation=bool(job.enable_network_isolation),
            metric_definitions=metric_definitions,
        )

    @property
    def decoded_hyperparameters(self) -> dict[str, Any]:
        """Each value JSON-decoded where it is JSON, as the training toolkit reads them (the SageMaker
        SDK JSON-encodes every value, so ``"\\"train.py\\""`` and ``"train.py"`` both mean train.py)."""
        decoded: dict[str, Any] = {}
        for key, value in self.hyperparameters.items():
            try:
                decoded[key] = json.loads(value)
            except ValueError:
                decoded[key] = value
        return decoded

    @property
    def program(self) -> str:
        """The script to run (``sagemaker_program``)."""
        return self._script_setting(PROGRAM)

    @property
    def submit_directory(self) -> str:
        """The source archive's location (``sagemaker_submit_directory``)."""
        return self._script_setting(SUBMIT_DIRECTORY)

    def _script_setting(self, name: str) -> str:
        value = self.decoded_hyperparameters.get(name)
        if not isinstance(value, str) or not value:
            raise JobSetupError(
                f"the local cloud runs script-mode jobs only: HyperParameters must name {PROGRAM} and "
                f"{SUBMIT_DIRECTORY} (a training image's own entry point cannot run without Docker)"
            )
        return value

    @property
    def user_hyperparameters(self) -> dict[str, Any]:
        """The hyperparameters meant for the script (without the toolkit's ``sagemaker_*`` ones)."""
        return {k: v for k, v in self.decoded_hyperparameters.items() if not k.startswith(_RESERVED_PREFIX)}

    def artifact_uri(self, file_name: str) -> str:
        """Where SageMaker uploads the job's archive ``file_name``."""
        return artifact_uri(self.output_path, self.name, file_name)


@dataclass(frozen=True)
class JobLayout:
    """The job folder: ``/opt/ml`` of the container, plus a home of its own."""

    root: Path

    @property
    def config_dir(self) -> Path:
        """``/opt/ml/input/config``."""
        return self.root / "input" / "config"

    @property
    def data_dir(self) -> Path:
        """``/opt/ml/input/data``: one folder per channel."""
        return self.root / "input" / "data"

    @property
    def code_dir(self) -> Path:
        """``/opt/ml/code``: the extracted source directory."""
        return self.root / "code"

    @property
    def model_dir(self) -> Path:
        """``/opt/ml/model``."""
        return self.root / "model"

    @property
    def output_dir(self) -> Path:
        """``/opt/ml/output``."""
        return self.root / "output"

    @property
    def output_data_dir(self) -> Path:
        """``/opt/ml/output/data``."""
        return self.output_dir / "data"

    @property
    def failure_file(self) -> Path:
        """``/opt/ml/output/failure``: what the script writes there becomes the ``FailureReason``."""
        return self.output_dir / "failure"

    @property
    def home(self) -> Path:
        """``HOME`` of the process (an empty folder: no ``~/.aws`` of the developer leaks in)."""
        return self.root / "home"

    def create(self) -> None:
        """Make the empty tree (removing what a previous run of the same name left)."""
        shutil.rmtree(self.root, ignore_errors=True)
        for folder in (self.config_dir, self.data_dir, self.code_dir, self.model_dir, self.output_data_dir):
            folder.mkdir(parents=True)
        (self.home / "tmp").mkdir(parents=True)


def write_config(spec: TrainingJobSpec, layout: JobLayout, channels: dict[str, Path]) -> None:
    """Write ``input/config/*.json`` as SageMaker does."""
    (layout.config_dir / "hyperparameters.json").write_text(json.dumps(spec.hyperparameters))
    (layout.config_dir / "resourceconfig.json").write_text(json.dumps(resource_config(spec)))
    (layout.config_dir / "inputdataconfig.json").write_text(json.dumps(input_data_config(spec, channels)))


def resource_config(spec: TrainingJobSpec) -> dict[str, Any]:
    """``resourceconfig.json``: one host, whatever ``InstanceCount`` asked for (see the README)."""
    return {
        "current_host": HOST,
        "current_instance_type": spec.instance_type,
        "current_group_name": "homogeneousCluster",
        "hosts": [HOST],
        "instance_groups": [
            {
                "instance_group_name": "homogeneousCluster",
                "instance_type": spec.instance_type,
                "hosts": [HOST],
            }
        ],
        "network_interface_name": "eth0",
    }


def input_data_config(spec: TrainingJobSpec, channels: dict[str, Path]) -> dict[str, Any]:
    """``inputdataconfig.json``: each channel's modes."""
    configs = {c["ChannelName"]: c for c in spec.input_data_config}
    return {
        name: {
            "TrainingInputMode": configs[name].get("InputMode", "File"),
            "S3DistributionType": configs[name]["DataSource"]["S3DataSource"].get(
                "S3DataDistributionType", "FullyReplicated"
            ),
            "RecordWrapperType": configs[name].get("RecordWrapperType", "None"),
        }
        for name in channels
    }


def command_args(hyperparameters: dict[str, Any]) -> list[str]:
    """``--key value`` for each hyperparameter, sorted, as the training toolkit passes them."""
    args: list[str] = []
    for key in sorted(hyperparameters):
        value = hyperparameters[key]
        if isinstance(value, dict):
            text = ",".join(f"{k}={v}" for k, v in sorted(value.items()))
        else:
            text = value if isinstance(value, str) else json.dumps(value)
        args += [f"--{key}" if len(key) > 1 else f"-{key}", text]
    return args


def environment(
    spec: TrainingJobSpec,
    layout: JobLayout,
    *,
    program: str,
    channels: dict[str, Path],
    endpoint_url: str,
    credentials: Mapping[str, str],
) -> dict[str, str]:
    """The complete process environment of the training script.

    ``credentials`` (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``) are the
    job's role's, as SageMaker gives the container; an isolated job gets none.
    """
    user = spec.user_hyperparameters
    hosts = json.dumps([HOST])
    # A path in the container (where a channel put the archive) is read in the job folder.
    source = spec.submit_directory
    module_dir = str(in_job_folder(source, layout.root)) if source.startswith("/") else source
    training_env = {
        "additional_framework_parameters": {},
        "channel_input_dirs": {name: str(path) for name, path in channels.items()},
        "current_host": HOST,
        "hosts": [HOST],
        "hyperparameters": user,
        "input_config_dir": str(layout.config_dir),
        "input_data_config": input_data_config(spec, channels),
        "input_dir": str(layout.root / "input"),
        "is_master": True,
        "job_name": spec.name,
        "log_level": 20,
        "master_hostname": HOST,
        "model_dir": str(layout.model_dir),
        "module_dir": module_dir,
        "module_name": Path(program).stem,
        "network_interface_name": "eth0",
        "num_cpus": os.cpu_count() or 1,
        "num_gpus": 0,
        "output_data_dir": str(layout.output_data_dir),
        "output_dir": str(layout.output_dir),
        "output_intermediate_dir": str(layout.output_dir / "intermediate"),
        "resource_config": resource_config(spec),
        "user_entry_point": program,
    }
    variables = dict(spec.environment)
    # Set after the job's own Environment: these belong to the platform.
    variables.update(
        {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "TZ": "UTC",
            "HOME": str(layout.home),
            "TMPDIR": str(layout.home / "tmp"),
            "AWS_CONFIG_FILE": str(layout.home / "aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(layout.home / "aws-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_REGION": spec.region,
            "AWS_DEFAULT_REGION": spec.region,
            "PYTHONPATH": str(layout.code_dir),
            "PYTHONUNBUFFERED": "1",  # log lines reach CloudWatch Logs as they are printed
            "TRAINING_JOB_NAME": spec.name,
            "TRAINING_JOB_ARN": spec.arn,
            "MLOPS_FAILURE_FILE": str(layout.failure_file),
            "SM_TRAINING_ENV": json.dumps(training_env),
            "SM_HPS": json.dumps(user),
            "SM_USER_ARGS": json.dumps(command_args(user)),
            "SM_CHANNELS": json.dumps(sorted(channels)),
            "SM_MODEL_DIR": str(layout.model_dir),
            "SM_OUTPUT_DIR": str(layout.output_dir),
            "SM_OUTPUT_DATA_DIR": str(layout.output_data_dir),
            "SM_OUTPUT_INTERMEDIATE_DIR": str(layout.output_dir / "intermediate"),
            "SM_INPUT_DIR": str(layout.root / "input"),
            "SM_INPUT_CONFIG_DIR": str(layout.config_dir),
            "SM_INPUT_DATA_CONFIG": json.dumps(training_env["input_data_config"]),
            "SM_RESOURCE_CONFIG": json.dumps(training_env["resource_config"]),
            "SM_HOSTS": hosts,
            "SM_CURRENT_HOST": HOST,
            "SM_NUM_CPUS": str(training_env["num_cpus"]),
            "SM_NUM_GPUS": "0",
            "SM_LOG_LEVEL": "20",
            "SM_MODULE_NAME": Path(program).stem,
            "SM_MODULE_DIR": str(training_env["module_dir"]),
            "SM_USER_ENTRY_POINT": program,
            "SM_IS_MASTER": "true",
            **{f"SM_CHANNEL_{name.upper()}": str(path) for name, path in channels.items()},
            **{f"SM_HP_{key.upper()}": _text(value) for key, value in user.items()},
        }
    )
    if not spec.network_isolation:
        # A network-isolated container reaches no AWS API: it gets neither an endpoint nor credentials.
        variables.update({"AWS_ENDPOINT_URL": endpoint_url, **credentials})
    return variables


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)
