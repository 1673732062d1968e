"""A module beside the entry point: the source directory is importable, as on SageMaker."""

from __future__ import annotations

import json
import os
from pathlib import Path


def describe_environment(argv: list[str]) -> dict[str, object]:
    """What the container contract showed the script: arguments, variables, config files, cwd."""
    config_dir = Path(os.environ["SM_INPUT_CONFIG_DIR"])
    return {
        "argv": argv,
        "cwd": os.getcwd(),
        "variables": {
            k: v for k, v in os.environ.items() if k.startswith(("SM_", "TRAINING_", "AWS_", "MLOPS_"))
        },
        "hyperparameters_json": json.loads((config_dir / "hyperparameters.json").read_text()),
        "resourceconfig_json": json.loads((config_dir / "resourceconfig.json").read_text()),
        "channel_files": sorted(
            str(p.relative_to(os.environ["SM_CHANNEL_TRAIN"]))
            for p in Path(os.environ["SM_CHANNEL_TRAIN"]).rglob("*")
            if p.is_file()
        ),
    }
